"""The app through its generated API (gradio_client) against a launched server, and the service layer."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid

import pytest

from helpers import APP_SECRET as SECRET

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server + "/", verbose=False)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            answer.read(1000)
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def _register(client, confirmed: bool = False) -> str:
    """A new account's access token (``confirmed``: its address verified by the link mailed to it)."""
    email = f"app-{uuid.uuid4().hex[:8]}@example.com"
    token = client.predict(email, PASSWORD, api_name="/register")["access_token"]
    if confirmed:
        from smtp_mailbox import confirm_token

        client.predict(confirm_token(email), api_name="/verify_email")
    return token


_signed_in: dict = {}


def _as(server, token):
    """A client whose requests carry the session (uploads need it; heimdex.app.web.FileGate)."""
    from gradio_client import Client

    if token not in _signed_in:
        _signed_in[token] = Client(server + "/", verbose=False, headers={"Authorization": f"Bearer {token}"})
    return _signed_in[token]


def _indexed(client, token, video_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = {v["video_id"]: v for v in client.predict(token, api_name="/videos")}
        if listed[video_id]["state"] == "indexed":
            return listed[video_id]
        assert listed[video_id]["state"] in ("queued", "processing"), listed[video_id]
        time.sleep(0.5)
    raise AssertionError("not indexed in time")


@pytest.fixture(scope="module")
def alice(client, server, media):
    from gradio_client import handle_file

    token = _register(client)
    video_id = _as(server, token).predict(
        token, handle_file(str(media / "goldeneye-vfr-drop3.mp4")), "", "auto", api_name="/upload"
    )
    return {"token": token, "video_id": video_id, "video": _indexed(client, token, video_id)}


def test_upload_is_indexed_and_found(client, alice):
    assert alice["video"]["scene_count"] == 2 and alice["video"]["progress"] == 1.0
    found = client.predict(alice["token"], "Initiate Search Program", 5, api_name="/search")
    results = found["moments"]
    assert found["total"] == len(results) >= 1 and found["page"] == 1
    assert results[0]["video_id"] == alice["video_id"]
    assert {"title", "filename", "start_s", "end_s", "score", "channels", "picture"} <= set(results[0])
    picture = results[0]["picture"]  # the picture's signed link comes with the moment
    assert picture.startswith(f"/still/{alice['video_id']}?") and _status(client.src.rstrip("/") + picture) == 200


def _grant(link: str) -> tuple[uuid.UUID, int]:
    """The user and the session a signed link names."""
    query = dict(part.split("=") for part in link.split("#")[0].split("?")[1].split("&"))
    return uuid.UUID(query["u"]), int(query["k"])


def test_preview_links_play_and_refuse_tampering_and_expiry(client, server, alice):
    from heimdex.app.links import Purpose, sign

    url = client.predict(alice["token"], alice["video_id"], 4.0, api_name="/preview")
    assert url.endswith("#t=4.00")
    link = server + url.split("#")[0]
    assert _status(link) == 200
    assert _status(link[:-1] + ("0" if link[-1] != "0" else "1")) == 403
    user, session = _grant(link)
    video = uuid.UUID(alice["video_id"])
    expired = sign(SECRET.encode(), Purpose.MEDIA, user, video, session, seconds=-5)
    assert _status(f"{server}/media/{alice['video_id']}?{expired}") == 403
    forged = sign(b"not the key", Purpose.MEDIA, user, video, session)
    assert _status(f"{server}/media/{alice['video_id']}?{forged}") == 403


def test_a_second_user_sees_nothing_of_the_first(client, alice):
    from gradio_client.exceptions import AppError

    bob = _register(client)
    assert client.predict(bob, api_name="/videos") == []
    nothing = client.predict(bob, "Initiate Search Program", 5, api_name="/search")
    assert nothing["moments"] == [] and nothing["total"] == 0
    theirs = alice["video_id"]
    for name in ("/preview", "/delete_video", "/restore_video", "/delete_forever"):  # the Trash's doors too
        with pytest.raises(AppError, match="No video|not in the Trash"):
            client.predict(bob, theirs, *((0.0,) if name == "/preview" else ()), api_name=name)
    assert client.predict(bob, api_name="/trash") == [] and client.predict(bob, api_name="/empty_trash") == 0
    assert client.predict(alice["token"], api_name="/videos")  # and Alice still has hers
    with pytest.raises(AppError, match="sign in"):
        client.predict("not-a-token", api_name="/videos")


def test_sign_in_does_not_reveal_whether_an_email_exists(client):
    from gradio_client.exceptions import AppError

    email = f"login-{uuid.uuid4().hex[:8]}@example.com"
    client.predict(email, PASSWORD, api_name="/register")
    assert client.predict(email, PASSWORD, api_name="/login")
    messages = []
    for address in (email, f"nobody-{uuid.uuid4().hex[:8]}@example.com"):
        with pytest.raises(AppError) as failed:
            client.predict(address, "wrong password!", api_name="/login")
        messages.append(str(failed.value))
    assert messages[0] == messages[1]


def test_quota_refuses_a_third_video_and_only_delete_forever_makes_room(client, server, media):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    token = _register(client)
    first = _as(server, token).predict(token, handle_file(str(media / "classroom.mp4")), "", "auto", api_name="/upload")
    _as(server, token).predict(token, handle_file(str(media / "people-detection.mp4")), "", "auto", api_name="/upload")
    with pytest.raises(AppError, match="keeps 2 videos"):
        _as(server, token).predict(token, handle_file(str(media / "counter.mp4")), "", "auto", api_name="/upload")
    assert len(client.predict(token, api_name="/videos")) == 2
    assert client.predict(token, first, api_name="/delete_video") == first  # to the Trash, which still counts
    assert len(client.predict(token, api_name="/videos")) == 1
    with pytest.raises(AppError, match="keeps 2 videos"):
        _as(server, token).predict(token, handle_file(str(media / "counter.mp4")), "", "auto", api_name="/upload")
    assert [v["video_id"] for v in client.predict(token, api_name="/trash")] == [first]
    assert client.predict(token, first, api_name="/delete_forever") == first
    _as(server, token).predict(token, handle_file(str(media / "counter.mp4")), "", "auto", api_name="/upload")
    assert len(client.predict(token, api_name="/videos")) == 2 and client.predict(token, api_name="/trash") == []


def test_bad_media_is_refused_with_words(client, server, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    token = _register(client)
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(AppError, match="not a video|could not be read|no audio or video"):
        _as(server, token).predict(token, handle_file(str(fake)), "", "auto", api_name="/upload")
    assert client.predict(token, api_name="/videos") == []


def test_people_through_the_api(client, server, media, tmp_path):
    import cv2
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    from heimdex.library.media import frame_at

    token = _register(client)
    for name in ("head-pose-face-detection-male.mp4", "head-pose-face-detection-female-and-male.mp4"):
        _indexed(
            client,
            token,
            _as(server, token).predict(token, handle_file(str(media / name)), "", "auto", api_name="/upload"),
        )
    listing = client.predict(token, api_name="/people")
    assert listing["people"] == [] and sorted(p["videos"] for p in listing["suggested"]) == [1, 2]
    man = next(p for p in listing["suggested"] if p["videos"] == 2)  # seen in both videos; the woman in one
    joon = client.predict(token, man["person_id"], "Joon", api_name="/rename_person")
    assert joon["name"] == "Joon" and not joon["suggested"]
    found = client.predict(token, "", 10, "Joon", api_name="/search")["moments"]  # the person filter alone
    assert {r["filename"] for r in found} == {
        "head-pose-face-detection-male.mp4",
        "head-pose-face-detection-female-and-male.mp4",
    }

    both = next(r for r in found if r["filename"] == "head-pose-face-detection-female-and-male.mp4")
    faces = client.predict(token, both["scene_ids"], api_name="/scene_faces")
    assert {f["name"] for f in faces} == {"Joon", None}  # and the woman, nobody yet
    woman = next(f["face_id"] for f in faces if f["name"] is None)
    mina = client.predict(token, woman, "Mina", api_name="/name_face")  # a face picked in a scene
    assert (mina["photos"], mina["scenes"]) == (1, 1)

    photo = tmp_path / "mina.jpg"
    cv2.imwrite(
        str(photo), cv2.cvtColor(frame_at(media / "head-pose-face-detection-female.mp4", 1.0), cv2.COLOR_RGB2BGR)
    )
    mina = _as(server, token).predict(token, "Mina", [handle_file(str(photo))], api_name="/add_person")
    assert mina["photos"] == 2 and mina["scenes"] == 1
    for offer in client.predict(token, mina["person_id"], api_name="/likely_faces"):  # "Is this also Mina?"
        assert offer["question"] == "Is this also Mina?" and set(offer) >= {"face_id", "video_id", "t"}
    with pytest.raises(AppError, match="not a photo"):
        _as(server, token).predict(
            token, "Nobody", [handle_file(str(media / "ATTRIBUTION.md"))], api_name="/add_person"
        )

    stranger = _register(client)
    with pytest.raises(AppError, match="No person"):
        client.predict(stranger, joon["person_id"], "Mine", api_name="/rename_person")
    with pytest.raises(AppError, match="your own scenes"):
        client.predict(stranger, woman, "Mine", api_name="/name_face")
    assert client.predict(stranger, both["scene_ids"], api_name="/scene_faces") == []
    with pytest.raises(AppError, match="No person"):
        client.predict(stranger, mina["person_id"], api_name="/likely_faces")
    assert client.predict(stranger, api_name="/people") == {"people": [], "suggested": []}
    client.predict(token, mina["person_id"], api_name="/delete_person")
    assert [p["name"] for p in client.predict(token, api_name="/people")["people"]] == ["Joon"]


@pytest.fixture(scope="module")
def speaker(client, server, media, tmp_path_factory):
    """A user with a 12-second clip whose sound is JFK's 'ask not what your country can do for you', indexed."""
    from forge import speaking
    from gradio_client import handle_file

    clip = speaking(tmp_path_factory.mktemp("speech") / "ask-not.mp4", media / "jfk.flac")
    token = _register(client, confirmed=True)  # it publishes a clip
    video_id = _as(server, token).predict(token, handle_file(str(clip)), "Ask not", "en", api_name="/upload")
    return {"token": token, "video_id": video_id, "video": _indexed(client, token, video_id, timeout=240)}


def test_the_transcript_and_its_captions_come_with_times(client, server, speaker):
    said = client.predict(speaker["token"], speaker["video_id"], api_name="/transcript")
    text = " ".join(segment["text"] for segment in said["segments"]).lower()
    assert "ask not what your country can do for you" in text.replace(",", "")
    times = [(s["start_s"], s["end_s"]) for s in said["segments"]]
    assert all(0 <= a <= b <= 12.5 for a, b in times) and times == sorted(times)
    assert said["vtt"].startswith("WEBVTT\n\n") and " --> " in said["vtt"]
    assert said["srt"].startswith("1\n") and "," in said["srt"].splitlines()[1]
    opened = client.predict(speaker["token"], speaker["video_id"], 6.0, api_name="/moment")
    assert opened["video"]["video_id"] == speaker["video_id"] and opened["video"]["title"] == "Ask not"
    assert opened["scene"]["start_s"] <= 6.0 <= opened["scene"]["end_s"] or opened["scene"]["idx"] == 0
    assert opened["src"].endswith("#t=6.00") and "/clip/" in opened["clip"] and opened["language"] == "en"
    with urllib.request.urlopen(server + opened["captions"], timeout=10) as answer:  # what the <track> loads
        assert answer.headers["content-type"].startswith("text/vtt")
        assert answer.read().decode() == said["vtt"]
    assert _status(server + opened["captions"][:-1] + ("0" if opened["captions"][-1] != "0" else "1")) == 403


def test_another_users_transcript_and_moment_are_refused(client, speaker):
    from gradio_client.exceptions import AppError

    bob = _register(client)
    for call in (("/transcript", (bob, speaker["video_id"])), ("/moment", (bob, speaker["video_id"], 1.0))):
        with pytest.raises(AppError, match="No video"):
            client.predict(*call[1], api_name=call[0])
    for bad in ("../../etc/passwd", "1 OR 1=1", ""):
        with pytest.raises(AppError):
            client.predict(speaker["token"], bad, api_name="/transcript")
    with pytest.raises(AppError, match="sign in"):
        client.predict("not-a-token", speaker["video_id"], api_name="/transcript")


def test_pictures_come_only_from_the_linked_video_of_its_owner(client, server, speaker, alice):
    """/still serves a scene's picture (or the poster) behind the video's signed link; the scene is looked up in
    that video of that user, so another user's scene id, text or a tampered link gets nothing."""
    from heimdex.app.links import Purpose, sign

    opened = client.predict(speaker["token"], speaker["video_id"], 1.0, api_name="/moment")
    user, session = _grant(opened["src"])
    video = uuid.UUID(speaker["video_id"])

    def link(scene: str = "") -> str:
        signed = sign(SECRET.encode(), Purpose.STILL, user, video, session, scene)
        return f"{server}/still/{video}?{signed}" + (f"&scene={scene}" if scene else "")

    with urllib.request.urlopen(link(), timeout=10) as answer:  # the poster
        assert answer.headers["content-type"] == "image/jpeg" and answer.read(3) == b"\xff\xd8\xff"
    mine = str(opened["scene"]["scene_id"])
    assert _status(link(mine)) == 200
    theirs = client.predict(alice["token"], alice["video_id"], 1.0, api_name="/moment")["scene"]["scene_id"]
    assert _status(link(str(theirs))) == 404  # alice's scene through the speaker's link
    assert _status(f"{link()}&scene={theirs}") == 403  # the poster's link names no scene
    assert _status(f"{link()}&scene=../../etc/passwd") == 400
    assert _status(link()[:-1] + ("0" if link()[-1] != "0" else "1")) == 403


def test_the_api_keeps_its_names(server):
    """API clients call endpoints by name: the UI's own events never take one of them."""
    import json

    with urllib.request.urlopen(server + "/gradio_api/info", timeout=10) as answer:
        named = set(json.load(answer)["named_endpoints"])
    wanted = {"/register", "/login", "/upload", "/videos", "/search", "/preview", "/transcript", "/moment"}
    wanted |= {"/delete_video", "/people", "/add_person", "/scene_faces", "/name_face", "/likely_faces"}
    wanted |= {"/trash", "/restore_video", "/delete_forever", "/empty_trash"}
    wanted |= {"/rename_person", "/merge_people", "/split_person", "/delete_person"}
    wanted |= {"/publish_clip", "/unpublish_clip", "/public_clips"}
    assert wanted <= named


def test_the_api_describes_each_answer(client):
    """view_api() lists each endpoint's parameters and the fields of its answer (heimdex.app.results)."""
    described = client.view_api(print_info=False, return_format="dict")["named_endpoints"]

    def fields(name: str) -> set[str]:
        returned = described[name]["returns"][0]["type"]
        shape = returned.get("items", returned)  # a list's items, or the object itself
        return set(shape.get("properties", {}))

    assert [p["parameter_name"] for p in described["/search"]["parameters"]] == ["token", "query", "limit", "person"]
    assert {"moments", "total", "page", "page_size", "language"} <= fields("/search")
    moment = described["/search"]["returns"][0]["type"]["properties"]["moments"]["items"]
    assert {"video_id", "start_s", "end_s", "score", "channels", "picture", "scene_ids"} <= set(moment["properties"])
    assert {"video_id", "title", "state", "progress", "scene_count", "poster"} <= fields("/videos")
    assert {"segments", "vtt", "srt"} <= fields("/transcript")
    assert {"video", "scene", "src", "captions", "clip", "faces"} <= fields("/moment")
    assert {"people", "suggested"} <= fields("/people")
    assert {"person_id", "name", "photos", "cover_face_id"} <= fields("/rename_person")
    assert {"clip_id", "url", "start_s", "end_s"} <= fields("/publish_clip") == fields("/public_clips")
    assert [p["parameter_name"] for p in described["/register"]["parameters"]] == ["email", "password"]
    assert described["/logout"]["returns"][0]["type"] == {"type": "string"}


def test_share_links_rename_and_transcript_files(client, server, speaker):
    """The Player's extras through the service layer the UI calls: a share link opens the moment for its owner
    only (it is a pointer, no credential); a video is renamed by its owner only; the transcript downloads as .srt
    and .vtt."""
    from urllib.parse import parse_qs, urlsplit

    from heimdex.app import service
    from heimdex.errors import BadInput

    token, video_id = speaker["token"], speaker["video_id"]
    asked = {k: v[0] for k, v in parse_qs(urlsplit(service.share_link(token, video_id, 6.0)).query).items()}
    assert asked == {"moment": video_id, "t": "6.00"}
    opened = service.open_shared(token, asked["moment"], asked["t"])
    assert opened["video"]["video_id"] == video_id and opened["src"].endswith("#t=6.00")
    bob = _register(client)
    with pytest.raises(BadInput, match="No video"):
        service.open_shared(bob, asked["moment"], asked["t"])

    service.rename_video(token, video_id, "  JFK, 1961  ")
    assert {v["video_id"]: v["title"] for v in service.videos(token)}[video_id] == "JFK, 1961"
    with pytest.raises(BadInput, match="No video"):
        service.rename_video(bob, video_id, "Mine now")
    with pytest.raises(BadInput, match="at least one character"):
        service.rename_video(token, video_id, "   ")

    files = client.predict(token, video_id, 6.0, api_name="/moment")["transcript_files"]  # signed by the server
    with urllib.request.urlopen(server + files["srt"], timeout=10) as answer:
        assert "attachment" in answer.headers["content-disposition"] and ".srt" in answer.headers["content-disposition"]
        assert answer.read().decode().startswith("1\n00:00:")
    with urllib.request.urlopen(server + files["vtt-file"], timeout=10) as answer:
        assert ".vtt" in answer.headers["content-disposition"] and answer.read().startswith(b"WEBVTT")
    assert _status(server + files["srt"].replace("as=srt", "as=exe")) == 400


def _fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """Status, headers and body of a GET with no session (as anyone holding a link)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def test_a_public_clip_shows_only_its_range_to_anyone_until_turned_off(client, server, speaker, settings, tmp_path):
    """The owner turns on a public link for 2.17-7.31 s of their video: anyone without a session watches that clip (and
    nothing else of the video), the same range again is the same link, and turning it off stops both page and clip."""
    import av

    from heimdex.storage import get_blob_store

    token, video_id = speaker["token"], speaker["video_id"]
    made = client.predict(token, video_id, 2.17, 7.31, api_name="/publish_clip")
    assert made["url"].startswith("/p/") and made["start_s"] == 2.17 and made["end_s"] == 7.31
    assert client.predict(token, video_id, 2.17, 7.31, api_name="/publish_clip")["url"] == made["url"]
    assert [c["url"] for c in client.predict(token, api_name="/public_clips")] == [made["url"]]
    # the Player learns the link is on when it opens that moment's clip
    assert service_open(token, video_id, 2.17, 7.31)["public"]["clip_id"] == made["clip_id"]

    status, headers, page = _fetch(server + made["url"])
    assert status == 200 and headers["cache-control"] == "no-store" and "noindex" in headers["x-robots-tag"]
    assert "default-src 'none'" in headers["content-security-policy"] and headers["referrer-policy"] == "no-referrer"
    assert f"src='{made['url']}/clip.mp4'".encode() in page and b"0:02" in page and b"0:07" in page
    assert "소유자".encode() in _fetch(server + made["url"], {"Accept-Language": "ko-KR,ko"})[2]
    status, headers, clip = _fetch(server + made["url"] + "/clip.mp4")
    assert status == 200 and headers["content-type"] == "video/mp4" and clip[4:8] == b"ftyp"
    (tmp_path / "clip.mp4").write_bytes(clip)
    with av.open(str(tmp_path / "clip.mp4")) as cut:
        length = float(cut.duration or 0) / av.time_base
    assert 4.0 <= length <= 7.8 < speaker["video"]["duration_s"]  # from the keyframe at or before 2.17 s, to 7.31 s

    # the title is the owner's text: shown, never run
    from heimdex.app import service

    service.rename_video(token, video_id, "<script>alert(1)</script>")
    assert b"<script>" not in _fetch(server + made["url"])[2] and b"&lt;script&gt;" in _fetch(server + made["url"])[2]
    service.rename_video(token, video_id, "Ask not")

    # turned off: the page and the clip are gone at once, and so is the clip's copy
    key = next(k for k in get_blob_store(settings).keys("u/") if k.endswith(made["clip_id"] + ".mp4"))
    assert client.predict(token, made["clip_id"], api_name="/unpublish_clip") == "off"
    assert _fetch(server + made["url"])[0] == 404 and _fetch(server + made["url"] + "/clip.mp4")[0] == 404
    assert not get_blob_store(settings).exists(key)
    assert client.predict(token, api_name="/public_clips") == []
    again = client.predict(token, video_id, 2.17, 7.31, api_name="/publish_clip")
    assert again["url"] != made["url"] and _fetch(server + made["url"])[0] == 404  # a new link; the old stays dead
    client.predict(token, again["clip_id"], api_name="/unpublish_clip")


def service_open(token, video_id, start_s, end_s):
    from heimdex.app import service

    return service.open_moment(token, video_id, start_s, start_s, end_s, [])
