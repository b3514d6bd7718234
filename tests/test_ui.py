"""End to end in headless Chromium: register, upload, watch progress to indexed, search, play the first result.

Screenshots of every tab go to ``test-artifacts/`` (kept by CI as artifacts, ignored by git).
"""

from __future__ import annotations

import shutil
import uuid

import pytest
from playwright.sync_api import expect

from helpers import ROOT

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    if shutil.which("chromium") is None:
        pytest.fail("chromium is not installed (scripts/install-system-packages.sh --test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_register_upload_search_and_play(browser, server, media):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/")
    page.get_by_label("Email").fill(f"ui-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Display name (when registering)").fill("Ada")
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Signed in as Ada").wait_for(timeout=20_000)
    _shot(page, "1-sign-in")

    page.get_by_role("tab", name="Upload").click()
    page.locator("input[type=file]").set_input_files(str(media / "walkthrough_en.mp4"))
    page.get_by_role("button", name="Upload and index").click()
    page.get_by_text("Uploaded.").wait_for(timeout=60_000)
    _shot(page, "2-upload")

    page.get_by_role("tab", name="Library").click()
    library = "document.querySelector('#library') ? document.querySelector('#library').innerText : ''"
    page.wait_for_function(f"() => /processing|queued|indexed/.test({library})", timeout=30_000)
    _shot(page, "3-library-progress")
    page.wait_for_function(f"() => /\\bindexed\\b/.test({library})", timeout=180_000)
    _shot(page, "4-library-indexed")

    page.get_by_role("tab", name="Search").click()
    box = page.get_by_label("What do you remember?")
    box.fill("ask not what your country can do for you")
    box.press("Enter")
    page.get_by_text("moment(s)").wait_for(timeout=30_000)
    _shot(page, "5-search")

    page.locator(".gallery-item, button.thumbnail-item").first.click()
    video = page.locator(".player video")
    video.wait_for(timeout=20_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('.player video'); return v && v.readyState >= 1; }", timeout=20_000
    )
    start = page.evaluate("() => document.querySelector('.player video').currentTime")
    assert 3.0 <= start <= 9.0  # the player starts at the first matching word, not at 0
    assert "ask" in page.locator("#player").inner_text().lower()
    _shot(page, "6-player")
    page.close()


def test_people_tab_enrolls_and_shows_their_scenes(browser, server, media, tmp_path):
    import cv2

    from heimdex.media import frame_at

    photo = tmp_path / "joon.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(frame_at(media / "head-pose-face-detection-male.mp4", 0.5), cv2.COLOR_RGB2BGR))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/")
    page.get_by_label("Email").fill(f"ui-people-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_role("button", name="Register").click()
    page.get_by_text("Signed in as").wait_for(timeout=20_000)
    page.get_by_role("tab", name="Upload").click()
    page.locator("input[type=file]").first.set_input_files(str(media / "head-pose-face-detection-female-and-male.mp4"))
    page.get_by_role("button", name="Upload and index").click()
    page.get_by_text("Uploaded.").wait_for(timeout=60_000)
    page.get_by_role("tab", name="Library").click()
    library = "document.querySelector('#library') ? document.querySelector('#library').innerText : ''"
    page.wait_for_function(f"() => /\\bindexed\\b/.test({library})", timeout=180_000)

    page.get_by_role("tab", name="People").click()
    page.locator("#person-new input, #person-new textarea").first.fill("Joon")
    page.locator("#person-photos input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Add person").click()
    page.get_by_text("Joon · 1 scene(s) in 1 video(s)").first.wait_for(timeout=30_000)
    page.locator("#people .gallery-item, #people button.thumbnail-item").first.click()
    page.get_by_text("Their faces").wait_for(timeout=10_000)
    page.wait_for_function("() => document.querySelector('#person-title').innerText.includes('Joon')", timeout=20_000)
    page.get_by_text("Is this also Joon?").wait_for(timeout=20_000)  # his faces in the video, unlike his photo
    _shot(page, "7-people")
    page.locator("#person-likely .gallery-item, #person-likely button.thumbnail-item").first.click()
    page.get_by_text("Added to Joon's faces.").first.wait_for(timeout=20_000)
    page.get_by_text("Joon · 1 scene(s) in 1 video(s)").first.wait_for(timeout=30_000)

    page.get_by_role("button", name="Show their scenes").click()
    page.get_by_text("1 moment(s)").wait_for(timeout=30_000)
    _shot(page, "8-search-with-person")

    page.locator(
        "#moments .gallery-item, #moments button.thumbnail-item"
    ).first.click()  # play it, and name who else is there
    page.get_by_text("Who is this?").first.wait_for(timeout=30_000)
    name_box = page.locator("#face-name input, #face-name textarea").first
    expect(name_box).not_to_be_editable()  # nothing to name until a face is picked
    page.locator("#scene-faces .gallery-item, #scene-faces button.thumbnail-item").nth(
        page.evaluate(
            "() => [...document.querySelectorAll('#scene-faces .caption-label, #scene-faces figcaption')]"
            ".findIndex(e => e.innerText.includes('Who is this'))"
        )
    ).click()
    expect(name_box).to_be_editable(timeout=20_000)  # it opens once the pick has reached the server
    name_box.fill("Mina")
    page.get_by_role("button", name="Name this face").click()
    page.wait_for_function(
        "() => !document.querySelector('#scene-faces').innerText.includes('Who is this')", timeout=30_000
    )
    assert "Mina" in page.locator("#scene-faces").inner_text()
    _shot(page, "9-player-people")
    page.close()
