"""Issue 32, a person's path in the browser against the real SMTP server (``mailbox``): sign up and confirm the address
from the mail, see the sessions and end one on another device, forget the password and set a new one from the
mailed link (in Korean), sign in by a mailed link, read the account's activity, and download one's data."""

from __future__ import annotations

import io
import json
import time
import uuid
import zipfile
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from helpers import PASSWORD, ROOT, sign_up

pytestmark = pytest.mark.e2e

ARTIFACTS = ROOT / "test-artifacts"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "a much longer secret phrase"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _opened(server: str, link: str) -> str:
    """A mailed link opened on the test's server (the mail names HEIMDEX_PUBLIC_URL; the path and query are what
    count)."""
    parts = urlsplit(link)
    return f"{server}{parts.path}?{parts.query}"


def _open(page, name: str) -> None:
    """Open an Account accordion by its label."""
    page.get_by_text(name, exact=True).click()


def test_accounts_as_promised_on_a_phone(browser, server, mailbox, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    page.goto(server + "/")
    email = sign_up(page, "mail")

    page.get_by_role("tab", name="Account").click()  # unconfirmed: said, with what waits for it, and a way to resend
    expect(page.locator("#unverified")).to_contain_text(f"we sent a link to {email}", timeout=20_000)
    first = mailbox.wait_for(email, "Confirm")
    page.get_by_role("button", name="Send the link again").click()
    expect(page.get_by_text("A new link is on its way").first).to_be_visible(timeout=20_000)
    again = mailbox.wait_for(email, "Confirm", nth=2)
    assert again is not first and "Ada" not in again.get_body(("plain",)).get_content()  # nobody named to a stranger
    page.goto(_opened(server, mailbox.link(again, "verify=")))
    expect(page.locator("#account-msg")).to_contain_text("Your email address is confirmed", timeout=30_000)
    expect(
        page.get_by_role("button", name="Sign out", exact=True)
    ).to_be_visible()  # still signed in: renewed from the cookie
    expect(page.locator("#unverified")).to_be_hidden()
    page.wait_for_function("() => !location.search.includes('verify=')")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=IPHONE)  # another device
    other = phone.new_page()
    other.goto(server + "/")
    other.get_by_label("Email").fill(email)
    other.get_by_label("Password", exact=True).fill(PASSWORD)
    other.get_by_label("Password", exact=True).press("Enter")
    other.get_by_role("tab", name="Search", selected=True).wait_for(timeout=30_000)

    _open(page, "Sessions")
    sessions = page.locator("#sessions")
    expect(sessions).to_contain_text("Mobile Safari on iPhone", timeout=20_000)
    expect(sessions).to_contain_text("(this device)")
    _shot(page, "32-sessions-390")
    page.locator("#session-pick input").click()
    page.get_by_role("option", name="Mobile Safari on iPhone").click()
    page.get_by_role("button", name="Sign out that session").click()
    expect(page.get_by_text("That session is signed out.").first).to_be_visible(timeout=20_000)
    expect(sessions).not_to_contain_text("iPhone", timeout=20_000)
    other.reload()  # on the phone: signed out, nothing of the account left
    expect(other.get_by_label("Password", exact=True)).to_be_visible(timeout=30_000)
    expect(other.get_by_role("button", name="Sign out", exact=True)).to_have_count(0)
    phone.close()

    page.get_by_role("button", name="Sign out", exact=True).click()  # forgot the password: in Korean this time
    page.locator("#ui-language label", has_text="한국어").click()
    page.get_by_label("이메일").fill(email)
    page.get_by_role("button", name="비밀번호를 잊으셨나요?").click()
    expect(page.locator("#account-msg")).to_contain_text("링크를 보냈습니다", timeout=20_000)
    reset = mailbox.wait_for(email, "비밀번호")
    page.goto(_opened(server, mailbox.link(reset, "reset=")))
    expect(page.locator("#reset-form")).to_be_visible(timeout=30_000)
    page.wait_for_function("() => !location.search.includes('reset=')")  # the token is not left in the address bar
    box = page.get_by_label("새 비밀번호 정하기")
    assert box.get_attribute("autocomplete") == "new-password"
    box.fill(NEW_PASSWORD)
    box.press("Enter")
    expect(page.get_by_text("새 비밀번호를 저장했습니다").filter(visible=True).first).to_be_visible(
        timeout=30_000
    )  # a toast
    expect(page.locator("#who")).to_contain_text("Ada님으로 로그인함")
    _shot(page, "32-reset-done-390-ko")
    page.get_by_role("tab", name="검색", selected=True).wait_for(timeout=30_000)  # signed in, the page went to Search
    page.get_by_role("tab", name="계정").click()
    page.locator("#ui-language label", has_text="English").click()
    page.get_by_role("tab", name="Account").wait_for(timeout=30_000)  # the page in English again
    page.get_by_role("button", name="Sign out", exact=True).click()

    page.get_by_label("Email").fill(email)  # a sign-in link instead of the password
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.locator("#account-msg")).to_contain_text("a link is on its way", timeout=20_000)
    magic = mailbox.wait_for(email, "sign-in link")
    page.goto(_opened(server, mailbox.link(magic, "magic=")))  # opening it signs nobody in: a click does
    page.get_by_role("button", name="Sign in with the link from your email").click()
    expect(page.get_by_text("Signed in with your link.").filter(visible=True).first).to_be_visible(timeout=30_000)
    expect(page.locator("#who")).to_contain_text("Signed in as Ada")
    page.goto(_opened(server, mailbox.link(magic, "magic=")))  # the same link again: spent
    page.get_by_role("button", name="Sign in with the link from your email").click()
    expect(page.locator("#account-msg")).to_contain_text("expired or was already used", timeout=30_000)
    page.get_by_role("tab", name="Account").click()

    _open(page, "Activity")
    activity = page.locator("#activity")
    for said in ("Account made", "Email address confirmed", "Password reset", "Sign-in link sent", "Session ended"):
        expect(activity).to_contain_text(said, timeout=20_000)
    _shot(page, "32-activity-390")
    page.set_viewport_size({"width": 1280, "height": 900})  # the same at a computer's width
    expect(activity).to_contain_text("Signed in")
    _shot(page, "32-account-1280")
    page.set_viewport_size({"width": 390, "height": 844})

    _open(page, "Download my data")
    page.get_by_role("button", name="Prepare the download").click()
    link = page.locator("#export-status a")
    expect(link).to_be_visible(timeout=120_000)
    expect(page.locator("#export-status")).to_contain_text("Your download is ready")
    with page.expect_download() as downloading:
        link.click()
    saved = tmp_path / "mine.zip"
    downloading.value.save_as(saved)
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as archive:
        assert json.loads(archive.read("account.json"))["email"] == email
        assert "index.html" in archive.namelist()
    href = link.get_attribute("href")
    tampered = href[:-4] + ("0000" if not href.endswith("0000") else "1111")
    assert page.request.get(server + tampered).status == 403  # its signature is checked
    other = f"/export/{uuid.uuid4()}?{href.split('?', 1)[1]}"
    assert page.request.get(server + other).status == 403  # and names its own export only
    page.get_by_role("button", name="Sign out", exact=True).click()  # the link dies with the session
    expect(page.get_by_label("Password", exact=True)).to_be_visible(timeout=30_000)
    assert page.request.get(server + href).status == 403
    context.close()


def test_a_reopened_page_keeps_its_session_and_comes_to_rest(browser, server):
    """Opened again, the page renews its session from the cookie, shows Search signed in, and then sends nothing more
    (a panel redrawn on every token change once made Gradio fire the change again, about ten requests a second)."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(server + "/")
    sign_up(page, "again", "Again")
    page.reload()
    page.get_by_role("tab", name="Search", selected=True).wait_for(timeout=30_000)
    expect(page.locator("#who")).to_contain_text("Signed in as Again", timeout=30_000)
    sent: list[float] = []
    page.on("request", lambda r: sent.append(time.monotonic()) if "/queue/join" in r.url else None)
    began = time.monotonic()
    while time.monotonic() - max([began, *sent]) < 3:  # until three seconds pass with nothing sent
        assert time.monotonic() - began < 60, f"the page never rests: {len(sent)} requests in a minute"
        page.wait_for_timeout(250)
    page.close()
