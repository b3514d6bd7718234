"""Gradio's upload progress stream, answered by Heimdex from the bytes its own upload route counts
(``heimdex/app/upload_progress.py``, ``heimdex/app/web/gate.py``): a user follows only their own upload, by a
short opaque id; records are few, and end with their upload or expire; the file box shows how far it has come.
"""

from __future__ import annotations

import http.client
import json
import secrets
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from probes import bearer, register

WAIT_S = 3.0  # Gradio's wait for an upload to begin (heimdex.app.upload_progress.FOUND_WITHIN_S)
KEPT_S = 10.0  # a record after its upload ended (heimdex.app.upload_progress.DONE_KEPT_S)


def _upload_id() -> str:
    """An id as Gradio's file box makes one: 13 random base-36 letters."""
    return "".join(secrets.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(13))


def _cookie(token: str) -> dict:
    return {"Cookie": f"heimdex_session={token}"}


def _connection(base: str, timeout: float = 60.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(urlsplit(base).netloc, timeout=timeout)


def _follow(base: str, query: str, headers: dict, seen: list | None = None) -> tuple[int, list, float]:
    """GET the progress stream as the file box does: (status, its messages, or its body for an error, seconds).

    Each message goes into ``seen`` as it arrives, with the time it came, when ``seen`` is given."""
    connection = _connection(base)
    started = time.monotonic()
    try:
        connection.request("GET", f"/gradio_api/upload_progress?{query}", headers=headers)
        answer = connection.getresponse()
        if answer.status != 200:
            return answer.status, [answer.read().decode()], time.monotonic() - started
        assert answer.getheader("Content-Type", "").startswith("text/event-stream")
        messages = []
        for line in answer:  # until the app ends the stream
            if line.startswith(b"data: "):
                message = json.loads(line[6:])
                messages.append(message)
                if seen is not None:
                    seen.append((time.monotonic(), message))
        return 200, messages, time.monotonic() - started
    finally:
        connection.close()


def _slow_upload(
    base: str, token: str, path: Path, upload_id: str, pause: float = 0.1, stop_after: int | None = None
) -> tuple[int, bytes, float]:
    """POST ``path`` to the upload route in 64 kB chunks, ``pause`` seconds apart, chunked (no Content-Length):
    (status, answer, when it ended). ``stop_after``: the client goes (the socket closed) after that many bytes."""
    boundary = uuid.uuid4().hex
    data = path.read_bytes()

    class Gone(Exception):
        pass

    def body():
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        for at in range(0, len(data), 1 << 16):
            if stop_after is not None and at >= stop_after:
                raise Gone
            time.sleep(pause)
            yield data[at : at + (1 << 16)]
        yield f"\r\n--{boundary}--\r\n".encode()

    connection = _connection(base)
    try:
        connection.request(
            "POST",
            f"/gradio_api/upload?upload_id={upload_id}",
            body=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **bearer(token)},
            encode_chunked=True,
        )
        answer = connection.getresponse()
        return answer.status, answer.read(), time.monotonic()
    except Gone:
        return 0, b"", time.monotonic()
    finally:
        connection.close()


class _Thread(threading.Thread):
    """A thread that keeps what its function returned."""

    def __init__(self, fn, *args, **kwargs):
        super().__init__(daemon=True)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.result: Any = None

    def run(self):
        self.result = self.fn(*self.args, **self.kwargs)


@pytest.mark.e2e
def test_a_slow_upload_reports_its_bytes_as_they_arrive_then_done_to_its_user_only(server, media):
    _, token = register(server)
    _, stranger = register(server)
    path = media / "walkthrough_en.mp4"
    upload_id = _upload_id()
    seen: list = []
    reader = _Thread(_follow, server, f"upload_id={upload_id}", _cookie(token), seen)
    reader.start()  # the file box opens the stream first, then uploads
    time.sleep(0.2)
    uploader = _Thread(_slow_upload, server, token, path, upload_id, pause=0.15)  # about 8 s
    uploader.start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen, "no update while the upload streamed"

    others = [  # while it is in flight, all at once: another user, no session, a bad session
        _Thread(_follow, server, f"upload_id={upload_id}", headers)
        for headers in (bearer(stranger), _cookie(stranger), {}, bearer("not-a-session"))
    ]
    for other in others:
        other.start()
    for other in others:
        other.join(30)
    assert uploader.is_alive(), "the upload ended before the other requests were answered: slow it down"
    for other in others[:2]:
        status, body, took = other.result
        assert (status, body) == (404, ["Upload not found"])  # as for an id nobody uses ...
        assert took >= WAIT_S - 0.5  # ... after the same wait
    for other in others[2:]:
        status, body, _ = other.result
        assert status == 401 and body == ["Sign in to follow an upload."]

    uploader.join(60)
    reader.join(30)
    assert not reader.is_alive(), "the stream did not end with the upload"
    status, answer, ended = uploader.result
    assert status == 200 and len(json.loads(answer)) == 1
    status, messages, _ = reader.result
    assert status == 200 and messages[-1] == {"msg": "done"}
    updates = messages[:-1]
    assert len(updates) >= 5  # live, not one lump at the end
    assert all(set(m) == {"msg", "orig_name", "chunk_size"} and m["msg"] == "update" for m in updates)
    assert {m["orig_name"] for m in updates} == {"walkthrough_en.mp4"}  # its own name, nothing else
    assert sum(m["chunk_size"] for m in updates) == path.stat().st_size  # every byte, once
    assert seen[0][0] < ended - 2  # the first came well before the upload ended

    status, body, _ = _follow(server, f"upload_id={upload_id}", _cookie(token))  # done was read: the record went
    assert (status, body) == (404, ["Upload not found"])


@pytest.mark.e2e
def test_bad_ids_answer_not_found_at_once_and_the_session_comes_first(server, media):
    _, token = register(server)
    for query in [
        "upload_id=",
        "upload_id=" + "a" * 33,
        "upload_id=..%2Fetc",
        "upload_id=a%20b",
        "upload_id=" + quote("ü"),
        "upload_id=abc&upload_id=def",
        "",
        "other=abc",
    ]:
        status, body, took = _follow(server, query, _cookie(token))
        assert (status, body) == (404, ["Upload not found"]) and took < 1.5, query
        assert _follow(server, query, {})[0] == 401, query  # no session: 401 before the id is looked at
    status, body, took = _follow(server, f"upload_id={_upload_id()}", bearer(token))  # well formed, unused
    assert (status, body) == (404, ["Upload not found"]) and took >= WAIT_S - 0.5
    connection = _connection(server)
    connection.request("POST", f"/gradio_api/upload_progress?upload_id={_upload_id()}", headers=bearer(token))
    assert connection.getresponse().status == 404  # a stream is read, never written
    connection.close()
    assert _follow(server, f"x?upload_id={_upload_id()}", _cookie(token))[0] == 404  # no other path under it
    status, answer, _ = _slow_upload(server, token, media / "counter.mp4", "../not-an-id", pause=0)
    assert status == 200 and len(json.loads(answer)) == 1  # a bad id is never recorded; the upload goes on


@pytest.mark.e2e
def test_an_abandoned_upload_ends_its_stream_and_its_record_expires(server, media):
    _, token = register(server)
    path = media / "walkthrough_en.mp4"
    followed, left = _upload_id(), _upload_id()
    reader = _Thread(_follow, server, f"upload_id={followed}", _cookie(token))
    reader.start()
    time.sleep(0.2)
    status, _, _ = _slow_upload(server, token, path, followed, pause=0.02, stop_after=1 << 20)
    assert status == 0  # the client went after 1 MB
    reader.join(15)
    assert not reader.is_alive(), "the stream outlived its upload"
    status, messages, _ = reader.result
    assert status == 200 and messages[-1] == {"msg": "done"}
    assert 0 < sum(m["chunk_size"] for m in messages[:-1]) <= 1 << 20

    _slow_upload(server, token, path, left, pause=0.02, stop_after=1 << 20)  # nobody follows this one
    time.sleep(KEPT_S + 1)
    status, body, _ = _follow(server, f"upload_id={left}", _cookie(token))
    assert (status, body) == (404, ["Upload not found"])


@pytest.mark.e2e
def test_a_user_holds_a_few_streams_and_one_the_client_closed_is_let_go(server, media):
    _, token = register(server)
    upload_id = _upload_id()
    uploader = _Thread(_slow_upload, server, token, media / "walkthrough_en.mp4", upload_id, pause=0.1)
    uploader.start()
    time.sleep(0.5)
    held = []
    for _ in range(8):  # heimdex.app.upload_progress.STREAMS_PER_USER
        connection = _connection(server)
        connection.request("GET", f"/gradio_api/upload_progress?upload_id={upload_id}", headers=bearer(token))
        assert connection.getresponse().status == 200
        held.append(connection)
    status, body, _ = _follow(server, f"upload_id={upload_id}", bearer(token))
    assert status == 429 and "close one" in body[0]
    for connection in held:  # the client goes: its streams end, and count no more
        connection.close()
    time.sleep(1)
    assert uploader.is_alive(), "the upload ended before its last stream was opened: slow it down"
    status, messages, _ = _follow(server, f"upload_id={upload_id}", bearer(token))
    assert status == 200 and messages[-1] == {"msg": "done"}
    uploader.join(30)
    assert uploader.result[0] == 200


@pytest.mark.unit
def test_records_are_few_per_user_and_in_all_and_expire():
    """In this process, with a clock of the test's own: the bounds of :class:`UploadProgress`."""
    import anyio

    from heimdex.app import upload_progress as up

    now = [0.0]
    progress = up.UploadProgress(clock=lambda: now[0])
    alice, bob = uuid.uuid4(), uuid.uuid4()
    for bad in (None, "", "a" * 33, "../x", "a b", "ü", "a\n"):
        assert progress.start(alice, bad) is None
    uploads = [progress.start(alice, f"a{n}") for n in range(up.PER_USER)]
    assert all(uploads) and progress.start(alice, "a0") is None  # in flight under that id: not replaced
    assert progress.start(alice, "one-more") is None  # past the user's most, none ended: not recorded
    assert progress.start(bob, "a0") is not None  # another user's room, and ids, are their own
    assert progress.find(bob, "a1") is None
    first_ended = uploads[1]
    assert first_ended is not None
    first_ended.finish()
    assert progress.start(alice, "one-more") is not None  # the oldest ended one made room
    assert progress.find(alice, "a1") is None

    now[0] += up.STALLED_S  # nothing received this long: no longer followed
    assert progress.find(alice, "a0") is None and len(progress) == 0
    ended = progress.start(alice, "ended")
    assert ended is not None
    ended.finish()
    now[0] += up.DONE_KEPT_S - 1
    assert progress.find(alice, "ended") is ended
    now[0] += 1
    assert progress.find(alice, "ended") is None

    for n in range(up.TRACKED_MAX):  # everyone's most, then no more while none has ended
        assert progress.start(uuid.UUID(int=n // up.PER_USER + 1), f"u{n}") is not None
    assert progress.start(bob, "late") is None
    assert len(progress) == up.TRACKED_MAX

    assert all(progress.open_stream(bob) for _ in range(up.STREAMS_PER_USER))
    assert not progress.open_stream(bob) and progress.open_stream(alice)
    progress.close_stream(bob)
    assert progress.open_stream(bob)

    fresh = up.UploadProgress()
    two = fresh.start(alice, "two")
    assert two is not None
    two.file("a.mp4")
    two.add(10)
    two.file('b "2".mp4')
    two.add(5)
    two.add(7)
    two.finish()

    async def read() -> list[str]:
        return [chunk async for chunk in fresh.events(alice, "two", two)]

    chunks = anyio.run(read)
    assert chunks == [
        'data: {"msg": "update", "orig_name": "a.mp4", "chunk_size": 10}\n\n'
        'data: {"msg": "update", "orig_name": "b \\"2\\".mp4", "chunk_size": 12}\n\n'
        'data: {"msg": "done"}\n\n'
    ]
    assert fresh.find(alice, "two") is None  # done was sent: the record went


@pytest.mark.e2e
def test_the_file_box_shows_how_far_a_big_upload_has_come(browser, server, media):
    """Headless Chromium, its uploads slowed to 400 kB/s: while walkthrough_en.mp4 uploads, Gradio's file box
    fills its progress ring from this stream (the page's --upload-progress-width, between 0 and 100 %)."""
    from playwright.sync_api import expect

    from helpers import ROOT, sign_up

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(server + "/")
        sign_up(page, "progress")
        page.get_by_role("tab", name="Upload").click()

        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 400_000},
        )
        page.locator("#upload-files input[type=file]").set_input_files(str(media / "walkthrough_en.mp4"))
        width = "parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--upload-progress-width'))"
        page.wait_for_function(f"() => {width} > 5 && {width} < 95", timeout=30_000)
        box = page.locator("#upload-files")
        expect(box).to_contain_text("Uploading 1 file")
        expect(box).to_contain_text("walkthrough_en.mp4")
        ring = "getComputedStyle(document.querySelector('#upload-files .progress-bar')).backgroundImage"
        assert "conic-gradient" in page.evaluate(f"() => {ring}")  # the ring is drawn, not painted over
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        box.screenshot(path=str(artifacts / "upload-progress.png"))
        shown = [page.evaluate(f"() => {width}")]
        deadline = time.monotonic() + 60
        while box.locator(".uploading").count() and time.monotonic() < deadline:
            shown.append(page.evaluate(f"() => {width}"))
            time.sleep(0.25)
        assert not box.locator(".uploading").count(), "the upload did not finish"
        assert shown == sorted(shown) and len(set(shown)) >= 3, shown  # it grew, step by step
        expect(box.get_by_role("cell", name="walkthrough_en.mp4")).to_be_visible()  # the box now holds it
    finally:
        page.close()
