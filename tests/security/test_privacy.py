"""Issue 27, privacy round 3: attacks on a launched app, each kept as a test that failed before the fix.

Each test names the point of the issue it keeps closed.
"""

from __future__ import annotations

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
    from heimdex import service

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
    other_device = call(server, "login", email, PASSWORD)[1]
    theirs = _links(server, other_device, video)
    assert http(theirs["media"])[0] == 200
    ok, fresh = call(server, "change_password", again, PASSWORD, "a new and better passphrase")
    assert ok, fresh
    for name, url in theirs.items():  # made under another session: ended by the new password
        assert http(url)[0] == 403, name
    assert http(_links(server, fresh, video)["media"])[0] == 200


def test_1_cutting_clips_is_rate_limited_per_user(server, media, owner):
    """Each clip is encoded anew: a user's 31st in ten minutes waits; another user's allowance is their own."""
    _, token = register(server)
    video = upload_indexed(server, token, media / "goldeneye-vfr-drop3.mp4")
    clip = server + call(server, "moment", token, video, 0.0)[1]["clip"]
    statuses = [http(clip)[0] for _ in range(30)]
    assert statuses == [200] * 30
    status, answer, _ = http(clip)
    assert status == 429 and b"try again" in answer
    ok, refused = call(server, "publish_clip", token, video, 0.0, 2.0)  # publishing cuts a clip too
    assert not ok and "try again" in refused
    assert http(_links(server, owner["token"], owner["video_id"])["clip"])[0] == 200


def _routes(app) -> list[tuple[str, set[str]]]:
    """Every route of the web app, Gradio's mounted ones included: (path, methods)."""
    from starlette.routing import Mount

    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            found += [(route.path + path, methods) for path, methods in _routes(route.app)]
        elif getattr(route, "methods", None):
            found.append((route.path, set(route.methods)))
    return found


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
    path = __import__("json").loads(answer)[0]
    _, stranger = register(server)
    tried = []
    for route, methods in _routes(app.create_app()):
        if "GET" not in methods:
            continue
        url = re.sub(r"\{[^}:]+:path\}", path.lstrip("/"), route)
        url = re.sub(r"\{[^}]+\}", "1", url)
        url = url.replace("=" + path.lstrip("/"), "=" + path)  # file=/abs/path as Gradio's own pages name it
        tried.append(route)
        for headers in ({}, {"Cookie": f"heimdex_session={owner['token']}"}, {"Cookie": f"heimdex_session={stranger}"}):
            status, body, _ = http(server + url, headers=headers)
            assert marker not in body, (route, url, status)
            status, body, _ = http(server + url.replace(path.lstrip("/"), "/" + path.lstrip("/")), headers=headers)
            assert marker not in body, (route, url, status)
    named = " ".join(tried)
    for route in ("/gradio_api/file=", "/gradio_api/file/", "/gradio_api/proxy=", "/gradio_api/stream/", "/still/"):
        assert route in named, route  # the enumeration reaches the routes that send files
