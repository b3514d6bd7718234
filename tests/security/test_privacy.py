"""Issue 27, privacy round 3: attacks on a launched app, each kept as a test that failed before the fix.

Each test names the point of the issue it keeps closed.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from probes import PASSWORD, call, http, register, upload_indexed

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def owner(server, media):
    email, token = register(server)
    return {
        "email": email,
        "token": token,
        "video_id": upload_indexed(server, token, media / "goldeneye-vfr-drop3.mp4"),
    }


def _links(server: str, token: str, video_id: str) -> dict[str, str]:
    """Every signed link the Player gets for a moment, as full URLs."""
    ok, opened = call(server, "moment", token, video_id, 1.0)
    assert ok, opened
    links = {
        "media": opened["src"].split("#")[0],
        "captions": opened["captions"],
        "srt": opened["transcript_files"]["srt"],
        "clip": opened["clip"],
    }
    ok, listed = call(server, "videos", token)
    links["still"] = next(v["poster"] for v in listed if v["video_id"] == video_id)
    return {name: server + link for name, link in links.items()}


def _signature(url: str) -> str:
    """A link's grant (user, session, expiry, signature) alone, to try on another route."""
    return "&".join(f"{k}={v}" for k, v in parse_qsl(urlsplit(url).query) if k in ("u", "k", "e", "s"))


def test_1_a_share_link_is_a_pointer_and_opens_no_media(server, owner):
    """The share link carries no grant; with no cookie, nothing it holds opens a video, captions, stills or clips."""
    from heimdex.app import service

    shared = service.share_link(owner["token"], owner["video_id"], 2.0)
    asked = dict(parse_qsl(urlsplit(shared).query))
    assert asked == {"moment": owner["video_id"], "t": "2.00"}
    for route in ("media", "captions", "still", "clip"):
        status, answer, _ = http(f"{server}/{route}/{owner['video_id']}?{urlsplit(shared).query}&start=0&end=120")
        assert status == 403 and b"Traceback" not in answer, route


def test_1_each_signed_link_opens_its_own_route_only(server, owner):
    links = _links(server, owner["token"], owner["video_id"])
    for name, url in links.items():
        assert http(url)[0] == 200, name
    video = owner["video_id"]
    for name, url in links.items():
        grant = _signature(url)
        for route in ("media", "captions", "still", "clip"):
            if route == name or (name == "srt" and route == "captions"):
                continue
            extra = "&start=0&end=120" if route == "clip" else ""
            assert http(f"{server}/{route}/{video}?{grant}{extra}")[0] == 403, (name, route)
    # the clip link names its range: a wider one is refused; the srt link names its format
    clip = links["clip"]
    wider = f"{server}/clip/{video}?{_signature(clip)}&start=0&end=120"
    assert http(wider)[0] == 403
    assert http(f"{server}/captions/{video}?{_signature(links['captions'])}&as=srt")[0] == 403
    # a still's link names its scene (or the poster): another scene's picture needs its own link
    assert http(links["still"] + "&scene=1")[0] == 403


def test_1_links_die_with_their_session(server, media):
    email, token = register(server)
    video = upload_indexed(server, token, media / "goldeneye-vfr-drop3.mp4")
    before = _links(server, token, video)
    assert call(server, "logout", token) == (True, "signed out")
    for name, url in before.items():
        assert http(url)[0] == 403, name

    ok, again = call(server, "login", email, PASSWORD)
    assert ok, again
    again = again["access_token"]
    other_device = call(server, "login", email, PASSWORD)[1]["access_token"]
    theirs = _links(server, other_device, video)
    assert http(theirs["media"])[0] == 200
    ok, fresh = call(server, "change_password", again, PASSWORD, "a new and better passphrase")
    assert ok, fresh
    fresh = fresh["access_token"]
    for name, url in theirs.items():  # made under another session: ended by the new password
        assert http(url)[0] == 403, name
    assert http(_links(server, fresh, video)["media"])[0] == 200


def test_1_cutting_clips_is_rate_limited_per_user(server, media, owner):
    """Each clip is encoded anew: a user's 31st in ten minutes waits; another user's allowance is their own."""
    _, token = register(server, confirmed=True)  # it publishes
    video = upload_indexed(server, token, media / "goldeneye-vfr-drop3.mp4")
    clip = server + call(server, "moment", token, video, 0.0)[1]["clip"]
    statuses = [http(clip)[0] for _ in range(30)]
    assert statuses == [200] * 30
    status, answer, _ = http(clip)
    assert status == 429 and b"try again" in answer
    ok, refused = call(server, "publish_clip", token, video, 0.0, 2.0)  # publishing cuts a clip too
    assert not ok and "try again" in refused
    assert http(_links(server, owner["token"], owner["video_id"])["clip"])[0] == 200


def _routes(routes: list, prefix: str = "") -> list[tuple[str, set[str]]]:
    """Every route, mounted apps and included routers walked into: (path, methods)."""
    from starlette.routing import Mount

    found = []
    for route in routes:
        if isinstance(route, Mount):
            found += _routes(route.app.routes, prefix + route.path)  # pyright: ignore[reportAttributeAccessIssue]
        elif hasattr(route, "original_router"):  # FastAPI's included router
            found += _routes(route.original_router.routes, prefix + route.include_context.prefix)
        elif getattr(route, "methods", None):
            found.append((prefix + route.path, set(route.methods)))
    return found


def _first_bytes(url: str, headers: dict) -> bytes:
    """What a GET sends within a few seconds (event streams never end), at most 1 MB; nothing if it sends nothing."""
    import http.client
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=3) as answer:
            return answer.read(1 << 20)
    except urllib.error.HTTPError as error:
        return error.read(1 << 20)
    except http.client.IncompleteRead as cut:
        return cut.partial
    except (TimeoutError, urllib.error.URLError):
        return b""


def test_3_no_route_of_the_mounted_app_sends_an_upload_or_a_file_to_someone_else(server, owner, tmp_path):
    """Every GET route of the app as mounted (Heimdex's and Gradio's), its path parameters filled with a pending
    upload's path, never sends that upload's bytes: not without a session, not to its owner, not to another user."""
    import re
    import secrets

    import app
    from probes import upload_raw

    marker = secrets.token_hex(32).encode()
    pending = tmp_path / "pending.mp4"
    pending.write_bytes(marker * 64)
    status, answer = upload_raw(server, pending, owner["token"])
    assert status == 200
    path = json.loads(answer)[0]
    _, stranger = register(server)
    tried = []
    for route, methods in _routes(app.create_app().routes):
        if "GET" not in methods:
            continue
        url = re.sub(r"\{[^}:]+:path\}", path.lstrip("/"), route)
        url = re.sub(r"\{[^}]+\}", "1", url)
        url = url.replace("=" + path.lstrip("/"), "=" + path)  # file=/abs/path as Gradio's own pages name it
        tried.append(route)
        for headers in ({}, {"Cookie": f"heimdex_session={owner['token']}"}, {"Cookie": f"heimdex_session={stranger}"}):
            for asked in (url, url.replace(path.lstrip("/"), "/" + path.lstrip("/"))):
                assert marker not in _first_bytes(server + asked, headers), (route, asked)
    named = " ".join(tried)
    for route in ("/gradio_api/file=", "/gradio_api/file/", "/gradio_api/proxy=", "/gradio_api/stream/", "/still/"):
        assert route in named, route  # the enumeration reaches the routes that send files


def _chunked_upload(base: str, token: str, files: list[tuple[str, bytes]]) -> tuple[int, bytes]:
    """POST files to the upload route in chunked transfer encoding: no Content-Length to check."""
    import http.client

    boundary = uuid.uuid4().hex

    def body():
        for name, data in files:
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            for at in range(0, len(data), 1 << 16):
                yield data[at : at + (1 << 16)]
            yield b"\r\n"
        yield f"--{boundary}--\r\n".encode()

    host = urlsplit(base).netloc
    connection = http.client.HTTPConnection(host, timeout=60)
    try:
        connection.request(
            "POST",
            "/gradio_api/upload",
            body=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {token}"},
            encode_chunked=True,
        )
        answer = connection.getresponse()
        return answer.status, answer.read()
    except (BrokenPipeError, ConnectionResetError):  # the app answered and closed before the body was sent
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _left_in(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []


def test_5_uploads_are_counted_as_they_stream_and_capped_per_user(settings, tmp_path):
    """Chunked bodies count like any other; a user's uploads not added yet are capped; a refused upload leaves no
    partial file; each refusal is a sentence."""
    from helpers import launched_app

    mb = 1 << 20
    limits = {"HEIMDEX_MAX_UPLOAD_BYTES": str(4 * mb), "HEIMDEX_PENDING_USER_BYTES": str(6 * mb)}
    with launched_app(settings, tmp_path / "app.log", **limits) as base:
        _, token = register(base)
        folders = set(settings.gradio_dir.glob("app-*"))
        before = {p for f in folders for p in _left_in(f)}
        parts = [(f"part{i}.mp4", bytes([i]) * (3 * mb + mb // 2)) for i in range(3)]
        status, answer = _chunked_upload(base, token, parts)  # 10.5 MB through a 4 MB limit, no Content-Length
        assert status == 413 and answer.decode() == "The files are larger than the upload limit of 4.0 MB."
        assert {p for f in settings.gradio_dir.glob("app-*") for p in _left_in(f)} == before  # no partial file

        status, answer = _chunked_upload(base, token, parts[:1])
        assert status == 200 and len(json.loads(answer)) == 1
        status, answer = _chunked_upload(base, token, parts[1:2])  # 7 MB waiting: past the user's 6 MB
        assert status == 429 and "still waiting to be added" in answer.decode()
        _, other = register(base)
        assert _chunked_upload(base, other, parts[1:2])[0] == 200  # another user's room is their own
        status, answer = _chunked_upload(base, token, [])
        assert status == 400 and answer.decode() == "Choose a file to upload."


def test_5_the_disk_keeps_its_reserve_and_pending_uploads_end_with_their_app(settings, tmp_path):
    from helpers import launched_app

    reserve = {"HEIMDEX_FREE_SPACE_RESERVE_BYTES": str(1 << 60)}  # more than any disk holds: as good as full
    with launched_app(settings, tmp_path / "full.log", **reserve) as base:
        _, token = register(base)
        before = _left_in(settings.gradio_dir)
        status, answer = _chunked_upload(base, token, [("clip.mp4", b"x" * (1 << 20))])
        assert status == 507 and answer.decode() == "The server has no room for this file right now; try again later."
        assert _left_in(settings.gradio_dir) == before
    with launched_app(settings, tmp_path / "first.log") as base:
        _, token = register(base)
        status, answer = _chunked_upload(base, token, [("clip.mp4", b"x" * (1 << 20))])
        assert status == 200
        pending = Path(json.loads(answer)[0])
        assert pending.is_file()
    with launched_app(settings, tmp_path / "second.log"):  # the first app is gone: what it held goes at start
        assert not pending.exists() and not pending.parent.parent.exists()


def test_7_a_forwarded_address_from_the_client_counts_for_nothing(settings, tmp_path):
    """From loopback (no trusted proxy), X-Forwarded-For is the client's own words: sign-ups past the limit stay
    refused whatever address it names."""
    from heimdex.db import get_database
    from helpers import launched_app

    with get_database().transaction() as conn:  # the accounts other tests made from 127.0.0.1 count for nothing here
        conn.execute("DELETE FROM rate_limits WHERE bucket = 'register:127.0.0.1'")
    limit = "3"
    with launched_app(settings, tmp_path / "app.log", HEIMDEX_REGISTER_LIMIT=limit) as base:
        answers = []
        for i in range(6):
            email = f"xff-{uuid.uuid4().hex[:8]}@example.com"
            forged = {"X-Forwarded-For": f"203.0.113.{i}", "X-Real-IP": f"198.51.100.{i}"}
            answers.append(call(base, "register", email, PASSWORD, headers=forged))
        assert [ok for ok, _ in answers] == [True, True, True, False, False, False]
        assert all("try again" in shown for _, shown in answers[3:])


def test_8_the_current_password_check_locks_like_sign_in(server):
    email, token = register(server)
    for _ in range(5):
        ok, shown = call(server, "change_password", token, "not my password", "a new and better passphrase")
        assert not ok and shown == "The current password is not right."
    ok, shown = call(server, "change_password", token, PASSWORD, "a new and better passphrase")
    assert not ok and shown.startswith("Too many failed sign-ins for this account")  # even the right one waits
    ok, shown = call(server, "login", email, PASSWORD)
    assert not ok and shown.startswith("Too many failed sign-ins")  # one lock for every way in


@pytest.mark.parametrize(
    "password", ["abababababab", "xyzxyzxyzxyz", "{name}123", "{name}2024!", "{local}!!!", "{name}{name}"]
)
def test_12_repeated_and_self_made_passwords_are_refused(server, password):
    local = f"minji-{uuid.uuid4().hex[:6]}"
    ok, shown = call(server, "register", f"{local}@example.com", password.format(name="minji", local=local))
    assert not ok and "password" in shown.lower() and "Something went wrong" not in shown, shown


def test_14_a_local_run_listens_on_this_machine_only(monkeypatch):
    import app
    from heimdex.config import get_settings

    for name in ("HOST", "GRADIO_SERVER_NAME", "SPACE_ID"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    try:
        assert app.listen_host() == "127.0.0.1"
        monkeypatch.setenv("SPACE_ID", "heimdex/heimdex")
        get_settings.cache_clear()
        assert app.listen_host() == "0.0.0.0"
        monkeypatch.setenv("HOST", "10.1.2.3")
        assert app.listen_host() == "10.1.2.3"
    finally:
        monkeypatch.delenv("SPACE_ID", raising=False)
        get_settings.cache_clear()


def test_11_logs_cannot_be_forged_and_carry_no_secret(settings, tmp_path):
    """A path with %0A stays on its own line; a call missing a value is refused with a sentence before Gradio (which
    would log every value received, a live token among them); public links' and files' paths are masked; with
    HEIMDEX_LOG_FORMAT=json every line the app writes is one JSON object."""
    from helpers import launched_app

    for fmt in ("text", "json"):
        log = tmp_path / f"{fmt}.log"
        with launched_app(settings, log, HEIMDEX_LOG_FORMAT=fmt) as base:
            email, token = register(base)
            http(f"{base}/x%0A2026-01-01%2000:00:00,000%20INFO%20heimdex.web:%20forged=yes")
            http(f"{base}/p//{'ab' * 32}")
            http(f"{base}/gradio_api/file/tmp/secret-name.mp4")
            ok, shown = call(base, "search", token)  # the query is missing
            assert not ok and shown == "This call takes 4 values and 1 were sent; send every value, in order."
            ok, shown = call(base, "change_password", token, "x")
            assert not ok and "values" in shown
        written = log.read_text()
        assert token not in written and email not in written
        assert "ab" * 32 not in written and "secret-name" not in written
        lines = [line for line in written.splitlines() if line.strip()]
        assert not [line for line in lines if line.startswith("2026-01-01")]  # no forged line
        if fmt == "json":
            for line in lines:
                assert isinstance(json.loads(line), dict), line


def test_12_no_page_can_be_framed(server, owner):
    for path in ("/", "/?moment=x&t=1", "/healthz", "/gradio_api/info", "/p/" + "0" * 64):
        status, _, headers = http(server + path)
        lowered = {k.lower(): v for k, v in headers.items()}
        assert lowered.get("x-frame-options") == "DENY", path
        assert "frame-ancestors 'none'" in lowered.get("content-security-policy", ""), path


def test_12_an_event_sent_without_its_data_gets_a_sentence(server, owner):
    """A UI event (a gallery pick) sent by hand with no event data: a sentence, no internal error."""
    import app as app_module

    demo = app_module.build()
    picks = [
        index
        for index, fn in demo.fns.items()
        if fn.fn is not None and fn.fn.__name__ in ("pick_face", "pick", "confirm_likely", "clicked")
    ]
    assert picks
    for index in picks:
        fn, session = demo.fns[index], uuid.uuid4().hex
        body = json.dumps(
            {"data": [None] * len(fn.inputs), "fn_index": index, "session_hash": session, "event_data": None}
        ).encode()
        status, answer, _ = http(f"{server}/gradio_api/queue/join", body, {"Content-Type": "application/json"})
        assert status == 200, answer
        done = _queue_outcome(server, session)
        error = (done.get("output") or {}).get("error") or ""
        assert "Something went wrong" not in error and "error id" not in error.lower(), error
        if done.get("success") is False:  # refused: with a sentence of its own
            assert error and "Traceback" not in error, done


def _queue_outcome(server: str, session: str) -> dict:
    """The ``process_completed`` message of a session's queued event (Gradio's event stream)."""
    import urllib.request

    with urllib.request.urlopen(f"{server}/gradio_api/queue/data?session_hash={session}", timeout=60) as stream:
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return message
    raise AssertionError("the event never completed")


def test_10_a_missing_source_is_a_sentence_and_a_new_upload_mends_it(server, settings, media):
    """The stored file deleted under the app: playing, cutting and publishing answer a sentence (no bare 500), the
    Library says so, indexing again fails at reading it (not at saving), and uploading the file again restores it."""
    import time

    from probes import videos

    _, token = register(server, confirmed=True)  # it publishes
    video = upload_indexed(server, token, media / "goldeneye-vfr-drop3.mp4")
    links = _links(server, token, video)
    from heimdex.app import service
    from heimdex.db import get_database
    from heimdex.library.videos import get_video
    from heimdex.storage import get_blob_store

    stored = get_video(get_database(), service.signed_in(token).id, uuid.UUID(video))
    for key in (stored.blob_key, stored.proxy_key):
        if key:
            get_blob_store(settings).delete(key)  # gone under the app: a disk mishap, an operator's slip
    missing = "The file of this video is missing from storage; upload it again to watch or index it."
    for name in ("media", "clip"):
        status, answer, _ = http(links[name])
        assert status == 410 and json.loads(answer)["detail"] == missing, name
    ok, shown = call(server, "publish_clip", token, video, 0.0, 2.0)
    assert not ok and shown == missing
    assert next(v for v in videos(server, token) if v["video_id"] == video)["error"] == missing
    assert http(links["captions"])[0] == 200  # the index stays searchable and readable

    assert call(server, "reindex", token, video)[0]
    deadline = time.monotonic() + 60
    while (now := next(v for v in videos(server, token) if v["video_id"] == video))["state"] != "failed":
        assert time.monotonic() < deadline, now
        time.sleep(0.5)
    assert now["error_stage"] == "reading" and now["error"] == missing

    again = upload_indexed(server, token, media / "goldeneye-vfr-drop3.mp4")
    assert again == video
    assert http(_links(server, token, video)["media"])[0] == 200


def test_10_the_database_away_is_a_sentence_within_seconds(settings, own_database, tmp_path):
    """The app's PostgreSQL stopped: sign-in and a public page answer a sentence within seconds (not a 30 s hang,
    not a bare 500); started again, everything works."""
    import time

    from heimdex.library.public import token_of
    from helpers import APP_SECRET, launched_app, pg_ctl

    with launched_app(settings, tmp_path / "app.log", DATABASE_URL=own_database["url"]) as base:
        email, token = register(base)
        pg_ctl(own_database["dir"], "stop", "-m", "fast", "-w")
        try:
            started = time.monotonic()
            ok, shown = call(base, "login", email, PASSWORD, timeout=30)
            assert time.monotonic() - started < 10
            assert not ok and shown == "The database cannot be reached right now; try again in a moment.", shown
            signed = token_of(APP_SECRET.encode(), uuid.uuid4())  # a well-signed link needs the database
            status, answer, _ = http(f"{base}/p/{signed}")
            assert status == 503 and answer.decode() == shown
        finally:
            pg_ctl(own_database["dir"], "start", "-w", "-o", f"-k {own_database['dir']} -h ''")  # as pgserver does
        deadline = time.monotonic() + 90
        while not (answer := call(base, "login", email, PASSWORD))[0]:
            assert time.monotonic() < deadline, answer
            time.sleep(1)


def test_10_the_app_starts_its_embedded_database_again(settings, tmp_path):
    """The app's own embedded PostgreSQL killed: the app starts it again by itself, and sign-in works."""
    import time

    from helpers import launched_app, pg_ctl

    data = tmp_path / "data"
    log = tmp_path / "app.log"
    with launched_app(settings, log, HEIMDEX_DATA_DIR=str(data), DATABASE_URL="") as base:
        email, _ = register(base)
        pg_ctl(data / "pg", "stop", "-m", "immediate", "-w")
        deadline = time.monotonic() + 120
        while not (answer := call(base, "login", email, PASSWORD))[0]:
            assert time.monotonic() < deadline, answer
            time.sleep(1)
    assert "stopped; starting it again" in log.read_text()
