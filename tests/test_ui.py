"""End to end in headless Chromium: register, upload, watch progress to indexed, search, play the first result.

Screenshots of every tab go to ``test-artifacts/`` (kept by CI as artifacts, ignored by git).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from helpers import PASSWORD, ROOT, confirm_email, sign_up

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _shots(page, name: str) -> None:
    """The page at 1280 px, then at a phone's 390 px."""
    _shot(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def _video(page, script: str):
    return page.evaluate(f"() => {{ const v = document.querySelector('#player video'); return {script}; }}")


def test_register_upload_search_and_play(browser, server, media, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/")
    email = sign_up(page, "ui")
    _shots(page, "1-sign-in")
    confirm_email(page, server, email)  # public links wait for a confirmed address

    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video at all, only words\n" * 20)
    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload-files input[type=file]").set_input_files([str(media / "walkthrough_en.mp4"), str(notes)])
    page.get_by_role("button", name="Upload and index").click()
    message = page.locator("#upload-msg")
    expect(message).to_contain_text("walkthrough_en.mp4", timeout=60_000)
    expect(message).to_contain_text("✓ walkthrough_en.mp4")  # the good file goes on ...
    expect(message).to_contain_text("✗ notes.mp4: This is not a video file")  # ... the other gets its sentence
    _shots(page, "2-upload")

    page.get_by_role("tab", name="Library").click()
    card = page.locator("#library .video").first
    expect(card).to_be_visible(timeout=10_000)  # at once, not at the next tick
    expect(page.locator("#library .video")).to_have_count(1)
    page.locator("#library .progress, #library .video.indexed").first.wait_for(timeout=30_000)
    _shots(page, "3-library-progress")
    expect(page.locator("#library .video.indexed")).to_have_count(1, timeout=180_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('#library .video img'); return i && i.naturalWidth > 0; }",
        timeout=20_000,
    )  # the poster
    _shots(page, "4-library-indexed")
    page.locator("#library .video button.play").first.press("Enter")  # by keyboard: the Player, from 0:00
    page.get_by_role("tab", name="Player", selected=True).wait_for(timeout=20_000)
    expect(page.locator("#player h3")).to_contain_text("walkthrough_en · 0:00", timeout=30_000)

    page.get_by_role("tab", name="Search").click()
    box = page.get_by_label("What do you remember?")
    box.fill("ask not what your country can do for you")
    box.press("Enter")
    first = page.locator("#moments .moment").first
    expect(first).to_be_visible(timeout=30_000)
    expect(first.locator("mark").first).to_have_text("ask", ignore_case=True)  # the matched words, marked
    expect(first.locator(".tier")).to_contain_text(re.compile(r"(strong|possible) match · \d+%"))  # calibrated
    expect(first.locator(".chip").first).to_contain_text("speech")
    page.wait_for_function(  # the picture has loaded (on a busy machine it comes after the card)
        "() => { const i = document.querySelector('#moments .moment img'); return i && i.naturalWidth > 0; }",
        timeout=30_000,
    )
    _shots(page, "5-search")

    box.fill("bycicle")  # misspelt, and nothing like it here: said so, in a sentence
    box.press("Enter")
    expect(page.locator("#moments .corrected")).to_contain_text("Showing results for “bicycle”", timeout=30_000)
    expect(page.locator("#moments .tier.strong")).to_have_count(0)  # no bicycle here: nothing sure to show
    _shots(page, "5b-did-you-mean")
    box.fill("ask not what your country can do for you")
    box.press("Enter")
    first = page.locator("#moments .moment").first
    expect(first.locator("mark").first).to_have_text("ask", ignore_case=True, timeout=30_000)  # the new answer

    before = page.locator("#player video").get_attribute("src")  # the video the Library opened
    first.click()
    page.wait_for_function(  # the moment's own video, not the one still shown from the Library
        "(before) => { const v = document.querySelector('#player video');"
        " return v && v.getAttribute('src') !== before && v.readyState >= 1; }",
        arg=before,
        timeout=20_000,
    )
    start = _video(page, "v.currentTime")
    assert 3.0 <= start <= 6.0  # a second before the first matching word ("ask", about 5 s in), not at 0
    page.wait_for_function(  # captions on, and showing the words said there
        "() => { const t = document.querySelector('#player video').textTracks[0];"
        " return t && t.mode === 'showing' && t.activeCues && t.activeCues.length > 0; }",
        timeout=20_000,
    )
    assert "ask" in _video(page, "v.textTracks[0].activeCues[0].text").lower()
    lines = page.locator("#player .transcript li")
    expect(lines.nth(1)).to_be_attached(timeout=20_000)
    expect(page.locator("#player .transcript mark").first).to_be_attached(timeout=20_000)
    _video(page, "v.pause()")
    later = lines.nth(lines.count() - 1)
    later.click()
    wanted = float(later.get_attribute("data-t"))
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('#player video').currentTime - {wanted}) < 1.5", timeout=10_000
    )
    _video(page, "v.pause()")
    mark = page.locator("#player .timeline .mark").first
    wanted = float(mark.get_attribute("data-t"))
    mark.click()
    page.wait_for_function(
        f"() => Math.abs(document.querySelector('#player video').currentTime - {wanted}) < 1.5", timeout=10_000
    )
    _video(page, "v.pause()")
    _shots(page, "6-player")

    page.locator("#public-clip input").check()  # a public link for this clip
    link = page.locator("#public-link a")
    expect(link).to_have_attribute("href", re.compile(r"^/p/[0-9a-f]{64}$"), timeout=30_000)
    url = server + link.get_attribute("href")
    _shots(page, "6b-player-public-link")
    stranger = browser.new_context(viewport={"width": 390, "height": 844})  # no session, no cookie
    public = stranger.new_page()
    public.goto(url)
    public.wait_for_function(
        "() => { const v = document.querySelector('video'); return v && v.readyState >= 1 && v.duration > 0; }",
        timeout=20_000,
    )
    assert public.evaluate("() => document.querySelector('video').duration") <= 125  # the clip, not the video
    _shot(public, "6c-public-clip-390")

    page.get_by_role("tab", name="Account").click()
    page.get_by_text("Public links").click()
    expect(page.locator("#public-links a")).to_have_attribute("href", link.get_attribute("href"), timeout=10_000)
    page.locator("#public-link-pick input").click()
    page.get_by_role("option").first.click()
    page.get_by_role("button", name="Turn this link off").click()
    expect(page.locator("#public-links")).to_contain_text("No public links are on", timeout=10_000)
    assert public.goto(url).status == 404
    stranger.close()

    page.locator("#ui-language label", has_text="한국어").click()  # the page turns Korean
    page.get_by_role("tab", name="검색").wait_for(timeout=30_000)
    page.get_by_role("tab", name="검색").click()
    box = page.get_by_label("무엇이 기억나세요?")
    box.fill("소라")  # nobody enrolled, no word in the library: said so
    box.press("Enter")
    expect(page.locator("#moments .empty")).to_contain_text("“소라”(이)라는 사람이 없습니다", timeout=30_000)
    _shots(page, "7a-no-one-called-korean")
    box.fill("조국이 당신을 위해 무엇을 할 수 있는지 묻지 말라")
    box.press("Enter")
    expect(page.locator("#moments .moment").first).to_be_visible(timeout=30_000)
    expect(page.locator("#found-note")).to_contain_text("순간")
    _shots(page, "7-search-korean")

    page.locator("#moments .moment").first.click()  # playing, then signing out: nothing of it stays
    page.wait_for_function(
        "() => { const v = document.querySelector('#player video'); return v && v.readyState >= 1; }", timeout=20_000
    )
    playing = server + page.locator("#player video").get_attribute("src").split("#")[0]
    assert page.request.get(playing).status == 200
    page.get_by_role("tab", name="계정").click()
    page.get_by_role("button", name="로그아웃", exact=True).click()
    expect(page.locator("#player video")).to_have_count(0, timeout=20_000)
    expect(page.locator("#player .transcript")).to_have_count(0)
    expect(page.locator("#moments .moment")).to_have_count(0, timeout=20_000)
    expect(page.locator("#library .video")).to_have_count(0, timeout=20_000)
    expect(page.locator("#public-link a")).to_have_count(0)
    assert page.request.get(playing).status == 403  # its link died with the session
    _shots(page, "7b-signed-out-korean")
    page.evaluate("() => localStorage.removeItem('heimdex-ui-lang')")
    page.close()


def test_people_tab_enrolls_and_shows_their_scenes(browser, server, media, tmp_path):
    import cv2

    from heimdex.library.media import frame_at

    photo = tmp_path / "joon.jpg"
    cv2.imwrite(str(photo), cv2.cvtColor(frame_at(media / "head-pose-face-detection-male.mp4", 0.5), cv2.COLOR_RGB2BGR))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server + "/")
    sign_up(page, "ui-people")
    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload-files input[type=file]").set_input_files(
        str(media / "head-pose-face-detection-female-and-male.mp4")
    )
    page.get_by_role("button", name="Upload and index").click()
    expect(page.locator("#upload-msg")).to_contain_text("✓", timeout=60_000)
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#library .video.indexed")).to_have_count(1, timeout=180_000)

    page.get_by_role("tab", name="People").click()
    page.locator("#person-new input, #person-new textarea").first.fill("Joon")
    page.locator("#person-photos input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Add person").click()
    page.get_by_text("Joon · 1 scene(s) in 1 video(s)").first.wait_for(timeout=30_000)
    page.locator("#people .gallery-item, #people button.thumbnail-item").first.click()
    page.get_by_text("Their faces").wait_for(timeout=10_000)
    page.wait_for_function("() => document.querySelector('#person-title').innerText.includes('Joon')", timeout=20_000)
    page.get_by_text("Is this also Joon?").wait_for(timeout=20_000)  # his faces in the video, unlike his photo
    _shot(page, "8-people")
    page.locator("#person-likely .gallery-item, #person-likely button.thumbnail-item").first.click()
    page.get_by_text("Added to Joon's faces.").first.wait_for(timeout=20_000)
    page.get_by_text("Joon · 1 scene(s) in 1 video(s)").first.wait_for(timeout=30_000)

    page.get_by_role("button", name="Show their scenes").click()
    page.get_by_text("1 moment(s)").wait_for(timeout=30_000)
    _shot(page, "9-search-with-person")

    page.locator("#moments .moment").first.click()  # play it, and name who else is there
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
    expect(page.locator("#scene-faces")).to_contain_text("Mina", timeout=20_000)
    _shot(page, "10-player-people")
    page.close()


PLAIN_STAGES = {
    "waiting to start",
    "reading the file",
    "listening to speech",
    "looking at scenes",
    "preparing playback",
    "reading on-screen text",
    "finding faces",
    "making it searchable",
    "saving",
}


def _in_view(page, locator) -> bool:
    """Whether the element's top is on screen (above the phone's tab bar), without scrolling."""
    box = locator.bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"] - 56


def _open_menu(card):
    """Open a card's menu (the grid may be sent anew as the click lands: then open it again); its items."""
    from playwright.sync_api import TimeoutError as NotYet

    items = card.get_by_role("menuitem")
    for _ in range(3):
        if not items.first.is_visible():
            card.locator("summary").click()
        try:
            items.first.wait_for(state="visible", timeout=5_000)
            break
        except NotYet:
            continue
    return items


def _pick_menu(page, card, item: str) -> None:
    """Pick an item from a card's menu; if the grid was sent anew as the click landed, open the menu again."""
    from playwright.sync_api import TimeoutError as NotYet

    for _ in range(5):
        try:
            _open_menu(card).filter(has_text=item).click(timeout=5_000)
            return
        except NotYet:
            continue
    raise AssertionError(f"{item!r} could not be picked from the card's menu")


def test_the_app_as_a_product_on_a_phone(browser, server, media, tmp_path):
    """Issue 31, a person's path at 390 px: sign up, sign out and in with Enter, upload (a sound file gets the
    server's sentence, the same file twice is recognised), follow indexing in plain words, play from the Library,
    search with the first result in view, step through results with keys, delete to the Trash and restore; then in
    Korean."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server + "/")
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_have_count(0)  # signed out: only the form
    expect(page.get_by_text("Delete my account")).to_have_count(0)
    email = sign_up(page, "phone")  # signed in: Search first
    assert _in_view(page, page.get_by_label("What do you remember?"))
    assert "Supabase" not in page.content()  # no implementation words
    page.get_by_role("tab", name="Account").click()
    expect(page.get_by_role("button", name="Sign out", exact=True)).to_be_visible(timeout=10_000)
    expect(page.get_by_label("Email")).to_have_count(0)  # the form is gone once signed in
    page.get_by_role("button", name="Sign out", exact=True).click()
    password = page.get_by_label("Password", exact=True)
    expect(password).to_be_visible(timeout=20_000)
    assert page.get_by_label("Email").get_attribute("autocomplete") == "email"
    assert password.get_attribute("autocomplete") == "current-password"
    page.get_by_label("Email").fill(email)
    password.fill(PASSWORD)
    password.press("Enter")  # Enter signs in
    page.get_by_role("tab", name="Search", selected=True).wait_for(timeout=20_000)

    page.get_by_role("tab", name="Upload").click()
    page.locator("#upload-files input[type=file]").set_input_files(
        [str(media / "walkthrough_en.mp4"), str(media / "subtitles_ko.mp4"), str(media / "jfk.flac")]
    )
    expect(page.locator("#upload-files")).not_to_contain_text("Error")  # the picker takes any file
    page.get_by_role("button", name="Upload and index").click()
    message = page.locator("#upload-msg")
    expect(message).to_contain_text("✗ jfk.flac: The file has no video track", timeout=90_000)  # the server's words
    expect(message).to_contain_text("✓ subtitles_ko.mp4")

    page.get_by_role("tab", name="Library").click()
    cards = page.locator("#library article.video")
    expect(cards).to_have_count(2, timeout=20_000)
    stages: set[str] = set()
    while page.locator("#library article.video.indexed").count() < 2:  # indexing, said in plain words
        stages.update(s.split(" · ")[0] for s in page.locator("#library .stage").all_inner_texts() if "·" in s)
        page.wait_for_timeout(300)  # a poll of the page, not a wait for time: the loop ends on the condition
        assert page.locator("#library article.video.failed").count() == 0
    parts = [stage.split(", ") for stage in stages]  # stages running at once are all said, each once
    assert stages and {p for said in parts for p in said} <= PLAIN_STAGES, stages
    assert all(len(said) == len(set(said)) for said in parts), stages
    _shot(page, "31-library-390")

    page.get_by_role("tab", name="Upload").click()  # the same bytes again: recognised, nothing stored twice
    page.locator("#upload-files input[type=file]").set_input_files(str(media / "subtitles_ko.mp4"))
    page.get_by_role("button", name="Upload and index").click()
    expect(message).to_contain_text("already in your library as subtitles_ko", timeout=60_000)
    expect(message.locator("a")).to_have_attribute("href", re.compile(r"^/\?moment=[0-9a-f-]{36}&t=0\.00$"))

    page.get_by_role("tab", name="Library").click()
    page.get_by_label("Sort by").click()
    page.get_by_role("option", name="Title").click()
    expect(cards.first.locator("h3")).to_have_text("subtitles_ko", timeout=10_000)  # s before w
    page.get_by_label("Find by title").fill("walk")
    expect(cards).to_have_count(1, timeout=10_000)
    page.get_by_label("Find by title").fill("")
    expect(cards).to_have_count(2, timeout=10_000)
    walkthrough = page.locator("#library article.video", has_text="walkthrough_en")
    expect(_open_menu(walkthrough)).to_have_text(["Rename", "Index again", "Move to Trash"])  # ready: no Cancel
    page.keyboard.press("Escape")
    walkthrough.locator(".thumb").click()  # a click on the card plays it from the start
    page.get_by_role("tab", name="Player", selected=True).wait_for(timeout=20_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('#player video'); return v && v.readyState >= 1; }", timeout=30_000
    )
    assert _video(page, "v.currentTime") < 1.5
    expect(page.locator("#player h3")).to_contain_text("walkthrough_en · 0:00")
    video_box = page.locator("#player video").bounding_box()
    assert video_box and video_box["width"] >= 0.85 * 390  # full width on a phone
    assert page.locator("#player .transcript").bounding_box()["y"] > video_box["y"] + video_box["height"]
    _video(page, "v.pause()")

    page.get_by_role("tab", name="Search").click()
    box = page.get_by_label("What do you remember?")
    box.fill("person")
    box.press("Enter")
    moments = page.locator("#moments .moment")
    expect(moments.first).to_be_visible(timeout=30_000)
    assert _in_view(page, moments.first)  # the first result above the fold: the filters are folded
    page.wait_for_function(
        "() => [...document.querySelectorAll('#moments .moment img')].every(i => i.complete)", timeout=30_000
    )
    _shot(page, "31-search-390")
    count = moments.count()
    assert count >= 2
    moments.first.click()
    page.get_by_role("tab", name="Player", selected=True).wait_for(timeout=20_000)
    expect(page.locator("#where")).to_contain_text(f"1 of {count}", timeout=20_000)
    expect(page.get_by_role("button", name="Previous result")).to_be_disabled()
    within = page.get_by_label("Search in this video")  # named, not "Textbox"
    within.fill("ask not what your country")
    within.press("Enter")  # the Player's list changes; Search's cards stay as they were
    expect(page.get_by_role("button", name="Next result")).to_be_disabled(timeout=30_000)  # a list of one
    expect(page.locator("#player h3")).to_contain_text("walkthrough_en")

    page.get_by_role("tab", name="Search").click()
    last = moments.nth(count - 1)  # the last card plays its own moment, whatever the Player listed since
    title, start = last.locator("h4").inner_text(), float(last.get_attribute("data-start"))
    last.click()
    page.get_by_role("tab", name="Player", selected=True).wait_for(timeout=20_000)
    expect(page.locator("#player h3")).to_contain_text(
        f"{title} · {int(start) // 60}:{int(start) % 60:02d}", timeout=30_000
    )
    expect(page.locator("#where")).to_contain_text(f"{count} of {count}")
    expect(page.get_by_role("button", name="Next result")).to_be_disabled()  # the end of the list
    page.wait_for_function(
        "() => { const v = document.querySelector('#player video'); return v && v.readyState >= 1; }", timeout=30_000
    )
    _video(page, "v.pause()")
    page.locator("#player h3").click()  # keys go to the Player, not a text box
    at = _video(page, "v.currentTime")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => document.querySelector('#player video').currentTime >= {at} + 4", timeout=10_000)
    captions = _video(page, "v.textTracks[0] ? v.textTracks[0].mode : 'none'")
    page.keyboard.press("c")
    if captions != "none":
        page.wait_for_function(f"() => document.querySelector('#player video').textTracks[0].mode !== '{captions}'")
    page.locator("#player select.speed").select_option("1.5")
    assert _video(page, "v.playbackRate") == 1.5
    _video(page, "v.dataset.before = 'j'")  # the video shown until the previous result replaces it
    page.keyboard.press("j")  # the previous result
    expect(page.locator("#where")).to_contain_text(f"{count - 1} of {count}", timeout=30_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('#player video'); return v && !v.dataset.before && v.readyState >= 1; }",
        timeout=30_000,
    )
    assert _video(page, "v.playbackRate") == 1.5  # the speed kept
    for _ in range(2):  # the space bar plays and pauses (the new video may have begun by itself: autoplay)
        paused = _video(page, "v.paused")
        page.keyboard.press(" ")
        page.wait_for_function(
            f"() => document.querySelector('#player video').paused === {'false' if paused else 'true'}", timeout=10_000
        )
    _shot(page, "31-player-390")

    opened = page.locator("#player h3").inner_text().split(" · ")[0]
    page.get_by_role("tab", name="Library").click()
    doomed = page.locator("#library article.video", has_text=opened)
    _pick_menu(page, doomed, "Move to Trash")
    expect(page.locator("#question")).to_contain_text(f"Move {opened} to the Trash?", timeout=10_000)
    page.get_by_role("button", name="Move to Trash").click()
    expect(cards).to_have_count(1, timeout=20_000)
    expect(page.locator("#trash-box")).to_contain_text("Trash (1)", timeout=10_000)
    expect(page.locator("#player video")).to_have_count(0, timeout=10_000)  # nothing of it stays on screen
    page.get_by_text("Trash (1)").click()
    expect(page.locator("#trash")).to_contain_text(opened)
    page.locator("#trash").get_by_role("button", name="Restore").click()
    expect(cards).to_have_count(2, timeout=20_000)
    expect(page.locator("#trash")).to_contain_text("The Trash is empty", timeout=10_000)

    page.get_by_role("tab", name="Account").click()  # what deleting the account would take, before any password
    page.get_by_text("Delete my account").click()
    expect(page.locator("#will-go")).to_contain_text("2 video(s)", timeout=10_000)

    page.evaluate("() => { window.stayed = true; }")
    page.locator("#ui-language label", has_text="한국어").click()  # everything in Korean, with no reload
    page.get_by_role("tab", name="보관함").click()
    expect(page.locator("#library")).to_contain_text("준비됨", timeout=30_000)
    expect(page.locator("#library")).to_contain_text("장면")
    expect(page.locator("#who")).to_contain_text("무료")
    assert "scene(s)" not in page.locator("#library").inner_text()
    expect(page.locator("#moments .tier").first).to_contain_text("일치")  # the cards shown, said again
    assert page.evaluate("() => window.stayed === true")  # the same page: nothing was reloaded
    _pick_menu(page, page.locator("#library article.video").first, "이름 바꾸기")
    page.get_by_label("새 제목").fill("여름 영상")
    page.get_by_label("새 제목").press("Enter")
    expect(page.get_by_text("이름을 바꿨습니다.").first).to_be_visible(timeout=20_000)  # toasts in Korean too
    expect(page.locator("#library")).to_contain_text("여름 영상")
    page.evaluate("() => localStorage.removeItem('heimdex-ui-lang')")
    page.close()
