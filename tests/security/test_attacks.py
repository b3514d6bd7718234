"""Attacks on a launched app (raw HTTP and gradio_client), kept as regression tests.

Each test names the defect of issue 13 it keeps closed.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest

from probes import FILE, PASSWORD, bearer, call, http, register, upload_raw, videos

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def victim(server, settings, media):
    """A user (address confirmed) with an indexed video whose source blob lies in the data folder."""
    email, token = register(server, confirmed=True)
    status, answer = upload_raw(server, media / "goldeneye-vfr-drop3.mp4", token)
    assert status == 200, answer
    ok, video_id = call(
        server, "upload", token, {"path": json.loads(answer)[0], **FILE}, "", "auto", headers=bearer(token)
    )
    assert ok, video_id
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and videos(server, token)[0]["state"] != "indexed":
        time.sleep(0.5)
    blobs = list((settings.blob_dir / "u").glob("*/src/*"))
    return {"token": token, "video_id": video_id, "blobs": blobs}


def test_1_api_never_reads_a_path_it_is_handed(server, settings, victim):
    """Defect 1: a path in FileData (another user's blob, a system file, a folder) is refused, in one sentence."""
    _, token = register(server)
    for path in [str(b) for b in victim["blobs"]] + [
        "/etc/passwd",
        str(settings.data_dir),
        "/nonexistent/file.mp4",
        f"{settings.gradio_dir}/../blobs",
    ]:
        for headers in ({}, bearer(token)):
            ok, shown = call(server, "upload", token, {"path": path, **FILE}, "", "auto", headers=headers)
            assert not ok and shown == "Upload the file again: Heimdex only reads files you uploaded with this request."
            ok, shown = call(server, "add_person", token, "Eve", [{"path": path, **FILE}], headers=headers)
            assert not ok and "Upload the file again" in shown
            ok, shown = call(server, "search", token, {"path": path, **FILE}, 5, headers=headers)  # any endpoint
            assert not ok and "Upload the file again" in shown
    assert videos(server, token) == []
    ok, people = call(server, "people", token)
    assert people == {"people": [], "suggested": []}


def test_1_a_file_uploaded_by_one_user_cannot_be_claimed_by_another(server, media, victim):
    _, mallory = register(server)
    status, answer = upload_raw(server, media / "counter.mp4", victim["token"])
    path = json.loads(answer)[0]
    for token in (mallory, victim["token"]):  # the victim's path, with either's session
        ok, shown = call(server, "upload", mallory, {"path": path, **FILE}, "", "auto", headers=bearer(token))
        assert not ok and "Upload the file again" in shown
    assert videos(server, mallory) == []


def test_2_an_endless_file_with_a_bad_token_answers_at_once(server):
    """Defect 2: token 'x' with /dev/zero: refused before any file is opened; the app keeps answering."""
    for headers in ({}, bearer("x")):
        ok, shown = call(server, "upload", "x", {"path": "/dev/zero", **FILE}, "", "auto", headers=headers, timeout=20)
        assert not ok and "Upload the file again" in shown
    ok, shown = call(server, "upload", "x", "/dev/zero", "", "auto", timeout=20)  # a bare string is no upload either
    assert not ok and shown == "Please sign in again."
    _, token = register(server)
    ok, shown = call(server, "upload", token, "/dev/zero", "", "auto", headers=bearer(token), timeout=20)
    assert not ok and "Upload the file again" in shown
    assert http(server + "/", timeout=10)[0] == 200


def test_3_no_anonymous_upload_and_uploads_are_never_served(server, settings, media, victim, tmp_path):
    """Defect 3: upload needs a session; uploaded bytes are never sent back and leave the folder once used."""
    before = {p for p in settings.gradio_dir.rglob("*") if p.is_file()}
    status, _ = upload_raw(server, media / "counter.mp4", None)
    assert status == 401
    status, _ = upload_raw(server, media / "counter.mp4", "not-a-token")
    assert status == 401
    assert {p for p in settings.gradio_dir.rglob("*") if p.is_file()} == before  # nothing was stored

    status, answer = upload_raw(server, media / "counter.mp4", victim["token"])
    path = json.loads(answer)[0]
    assert Path(path).is_file() and Path(path).is_relative_to(settings.gradio_dir)
    for headers in (
        {},
        {"Authorization": f"Bearer {victim['token']}"},
        {"Cookie": f"heimdex_session={victim['token']}"},
    ):
        assert http(f"{server}/gradio_api/file={path}", headers=headers)[0] == 404
    assert http(
        f"{server}/gradio_api/file={victim['blobs'][0]}", headers={"Authorization": f"Bearer {victim['token']}"}
    )[0] in (403, 404)
    ok, shown = call(
        server, "upload", victim["token"], {"path": path, **FILE}, "", "auto", headers=bearer(victim["token"])
    )
    assert ok
    assert not Path(path).exists()  # ingested, then deleted from Gradio's folder

    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    status, answer = upload_raw(server, notes, victim["token"])
    refused = json.loads(answer)[0]
    ok, shown = call(
        server, "upload", victim["token"], {"path": refused, **FILE}, "", "auto", headers=bearer(victim["token"])
    )
    assert not ok and "not a video" in shown and not Path(refused).exists()  # refused, and deleted too


def test_4_guessing_passwords_locks_the_account_and_unknown_emails_alike(server):
    """Defect 4: after 5 failures even the right password waits; an unknown e-mail answers the same way."""
    email, _ = register(server)
    stranger = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    answers = {email: [], stranger: []}
    for address in answers:
        for _ in range(6):
            answers[address].append(call(server, "login", address, "wrong password!")[1])
    assert answers[email] == answers[stranger]
    assert answers[email][0] == "The email or password is not right."
    assert answers[email][-1].startswith("Too many failed sign-ins for this account")
    ok, shown = call(server, "login", email, PASSWORD)
    assert not ok and shown.startswith("Too many failed sign-ins")


@pytest.mark.parametrize("password", ["password", "12345678", "        ", "aaaaaaaaaa", "{email}", "Qwerty123"])
def test_4_common_and_guessable_passwords_are_refused(server, password):
    email = f"weak-{uuid.uuid4().hex[:8]}@example.com"
    ok, shown = call(server, "register", email, password.format(email=email))
    assert not ok and ("password" in shown.lower() or "characters" in shown)


def test_5_no_event_runs_one_at_a_time(settings):
    """Defect 5: no event keeps Gradio's default of one call at a time; searches share a larger pool."""
    import app

    demo = app.build().queue(default_concurrency_limit=4)
    limits = {fn.api_name or fn.name: fn.concurrency_limit for fn in demo.fns.values()}
    assert limits["search"] == settings.search_concurrency >= 4
    assert all(limit in (None, "default") or limit >= 4 for limit in limits.values()), limits
    assert demo._queue.default_concurrency_limit == 4


def test_9_clip_ranges_are_checked_and_leave_nothing_behind(server, settings, victim):
    """Defect 9: infinite, huge, reversed and past-the-end ranges get a 400 sentence, even signed by the app's own
    key (a link signed for another range is refused before: 403); no temporary clip stays."""
    from heimdex.app.links import Purpose, sign
    from helpers import APP_SECRET

    ok, link = call(server, "preview", victim["token"], victim["video_id"], 0.0)
    query = dict(urllib.parse.parse_qsl(link.split("?", 1)[1].split("#")[0]))
    user, session, video = uuid.UUID(query["u"]), int(query["k"]), uuid.UUID(victim["video_id"])

    def clip(start: str, end: str) -> str:
        signed = sign(APP_SECRET.encode(), Purpose.CLIP, user, video, session, f"{start}-{end}")
        return f"{server}/clip/{video}?{signed}&start={start}&end={end}"

    for start, end in (("1e308", "inf"), ("nan", "3"), ("5", "2"), ("9999", "10000"), ("-1", "2"), ("abc", "2")):
        status, answer, _ = http(clip(start, end))
        assert status == 400, (start, end, answer)
        assert b"Traceback" not in answer and b"/" not in json.loads(answer)["detail"].encode()
        assert http(clip("0", "2").replace("start=0&end=2", f"start={start}&end={end}"))[0] == 403
    status, answer, headers = http(clip("0", "2"))
    assert status == 200 and headers["content-type"] == "video/mp4" and answer[4:8] == b"ftyp"
    deadline = time.monotonic() + 10  # the background task deletes the served clip after the response
    while list(settings.tmp_dir.glob("clip-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(settings.tmp_dir.glob("clip-*")) == []


def test_11_odd_characters_get_sentences(server, victim):
    """Defect 11: NUL and lone surrogates in a query, title, name or e-mail never become internal errors."""
    token = victim["token"]
    for endpoint, args in (
        ("search", (token, "red\x00car", 5)),
        ("search", (token, "\ud800 car", 5)),
        ("login", ("a\x00@example.com", "pass\x00word")),
        ("login", ("\ud83d@example.com", "x\udfff")),
        ("register", ("nul\x00@example.com", PASSWORD)),
        ("rename_person", (token, 1, "Mi\x00nji")),
        ("search", (token, "car", "ten")),
        ("preview", (token, victim["video_id"], "nan")),
    ):
        ok, shown = call(server, endpoint, *args)
        assert ok or (isinstance(shown, str) and "Something went wrong" not in shown), (endpoint, shown)


def test_12_people_carry_no_internal_keys(server, victim):
    ok, listing = call(server, "people", victim["token"])
    assert ok and "u/" not in json.dumps(listing)


def test_ids_links_and_names_of_other_users_are_refused(server, victim):
    """Already held before issue 13: another user's ids, forged links, HTML and hostile file names."""
    _, bob = register(server)
    for endpoint, args in (
        ("preview", (bob, victim["video_id"], 0.0)),
        ("delete_video", (bob, victim["video_id"])),
        ("scene_faces", (bob, [1, 2, 3])),
        ("rename_person", (bob, 1, "x")),
        ("merge_people", (bob, 1, 2)),
        ("likely_faces", (bob, 1)),
    ):
        ok, shown = call(server, endpoint, *args)
        assert (not ok and shown.startswith("No ")) or shown == [], (endpoint, shown)
    ok, link = call(server, "preview", victim["token"], victim["video_id"], 0.0)
    signed = link.split("#")[0]
    assert http(server + signed)[0] == 200
    assert http(server + signed[:-1] + ("0" if signed[-1] != "0" else "1"))[0] == 403
    other = signed.replace(victim["video_id"], str(uuid.uuid4()), 1)
    assert http(server + other)[0] == 403


def test_public_links_refuse_guesses_strangers_and_deletedvideos(server, media, victim):
    """A public clip link (anyone holding it may watch): a guessed, altered or re-signed token gets the same 404;
    another user cannot publish, list or turn off someone's clip; ranges outside the video are refused; and a
    video deleted while its links are on takes them with it."""
    from heimdex.library.public import token_of
    from helpers import APP_SECRET

    token, video_id = victim["token"], victim["video_id"]
    ok, made = call(server, "publish_clip", token, video_id, 0.0, 3.0)
    assert ok, made
    assert http(server + made["url"] + "/clip.mp4")[0] == 200
    signed = made["url"].removeprefix("/p/")
    assert token_of(APP_SECRET.encode(), uuid.UUID(made["clip_id"])) == signed  # the test forges with the app's key
    for guess in (
        uuid.uuid4().hex * 2,  # a guess
        signed[:-1] + ("0" if signed[-1] != "0" else "1"),  # altered
        made["clip_id"].replace("-", "") + "0" * 32,  # the id without its signature
        token_of(b"another key", uuid.UUID(made["clip_id"])),  # signed with another key
        signed.upper(),
        "..%2F..%2Fsecret.key",
        "x" * 5000,
    ):
        for path in (f"/p/{guess}", f"/p/{guess}/clip.mp4"):
            status, answer, _ = http(server + path)
            assert status == 404 and b"Traceback" not in answer, (guess, path)

    _, bob = register(server)
    for endpoint, args, refusal in (
        ("publish_clip", (bob, video_id, 0.0, 3.0), "No video"),
        ("unpublish_clip", (bob, made["clip_id"]), "not on"),
        ("unpublish_clip", (token, "../../etc/passwd"), "not on"),
        ("publish_clip", ("not-a-token", video_id, 0.0, 3.0), "sign in"),
        ("publish_clip", (token, video_id, 5.0, 1.0), "start before its end"),
        ("publish_clip", (token, video_id, 9999.0, 10000.0), "s long"),
        ("publish_clip", (token, video_id, -1.0, 2.0), "start before its end"),
        ("publish_clip", (token, video_id, "nan", 2.0), ""),
    ):
        ok, shown = call(server, endpoint, *args)
        assert not ok and refusal in shown and "Something went wrong" not in shown, (endpoint, args, shown)
    assert call(server, "public_clips", bob) == (True, [])
    assert http(server + made["url"] + "/clip.mp4")[0] == 200  # bob's tries changed nothing
    ok, whole = call(server, "publish_clip", token, video_id, 0.0, 1e6)  # cut to the video's end
    length = next(v["duration_s"] for v in videos(server, token) if v["video_id"] == video_id)
    assert ok and 9.0 < whole["end_s"] <= length

    # a video deleted with its links on: another user's copy of the same file, published before it is indexed
    _, owner = register(server, confirmed=True)
    status, answer = upload_raw(server, media / "goldeneye-vfr-drop3.mp4", owner)
    ok, theirs = call(
        server, "upload", owner, {"path": json.loads(answer)[0], **FILE}, "", "auto", headers=bearer(owner)
    )
    assert ok, theirs
    ok, doomed = call(server, "publish_clip", owner, theirs, 1.0, 4.0)
    assert ok, doomed
    assert http(server + doomed["url"])[0] == 200
    assert call(server, "delete_video", owner, theirs)[0]
    for path in (doomed["url"], doomed["url"] + "/clip.mp4"):
        assert http(server + path)[0] == 404
    assert call(server, "public_clips", owner) == (True, [])
    for clip in (made, whole):
        assert call(server, "unpublish_clip", token, clip["clip_id"]) == (True, "off")
        assert http(server + clip["url"])[0] == 404


def test_6_a_quick_restart_after_a_crash_finishes_the_job(settings, db, media, tmp_path):
    """Defect 6: kill -9 of the app while it indexes, restart before the heartbeat is stale: the job still finishes."""
    from helpers import start_app, stop_app

    env = {"HEIMDEX_JOB_STALE_S": "6"}
    process, base = start_app(settings, tmp_path / "app.log", **env)
    try:
        _, token = register(base)
        status, answer = upload_raw(base, media / "walkthrough_en.mp4", token)
        ok, video_id = call(
            base, "upload", token, {"path": json.loads(answer)[0], **FILE}, "", "auto", headers=bearer(token)
        )
        assert ok, video_id
        deadline = time.monotonic() + 60
        while videos(base, token)[0]["state"] != "processing" and time.monotonic() < deadline:
            time.sleep(0.2)
        process.kill()  # kill -9: the job's child goes with it, its heartbeat stops
        process.wait()
        process, base = start_app(settings, tmp_path / "app.log", **env)  # within seconds
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            state = videos(base, token)[0]["state"]
            if state in ("indexed", "failed"):
                break
            time.sleep(1)
        assert state == "indexed"
    finally:
        stop_app(process)
