"""Download my data: the zip holds every kept video as uploaded, its transcripts, its scenes, the people and a page
that opens offline; too much data fails with a sentence, only the owner reaches it, and it goes when its time is up.
Real media indexed by the real models, the embedded database, the real blob store."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import uuid
import zipfile
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import cast
from urllib.parse import unquote

import cv2
import pytest

from heimdex.errors import NotFound
from heimdex.library.export import (
    FAILED,
    LOST,
    ExportGone,
    ExportRunning,
    build_export,
    expire_exports,
    export_key,
    export_status,
    latest_export,
    open_export,
    run_export_later,
    safe_name,
    start_export,
    stop_export_runner,
)
from heimdex.storage import BlobStore

pytestmark = pytest.mark.integration

TITLE = "<b>x</b>/../../evil"
PERSON = "Mina & <i>Co</i>"
PLENTY = 1 << 30


def _user(db, prefix: str):
    from heimdex.auth.users import create_user

    return create_user(db, f"{prefix}-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery")


def _add(db, store, settings, user, path, title: str | None = None):
    from heimdex.library.ingest import ingest

    with path.open("rb") as source:
        return ingest(db, store, settings, user.id, source, path.name, title=title).video


@pytest.fixture(scope="module")
def library(db, store, settings, media, registry, tmp_path_factory):
    """One user with an indexed clip with faces and speech (a title that tries to escape), a video not indexed,
    one in the Trash, and a person enrolled from a photo; and their export, built on the export thread."""
    from eval.library import mux_clip
    from heimdex.jobs.runner import index_now
    from heimdex.library.media import frame_at
    from heimdex.library.people import enroll
    from heimdex.library.trash import trash_video

    folder = tmp_path_factory.mktemp("export")
    clip = mux_clip(
        media / "head-pose-face-detection-female-and-male.mp4", media / "jfk.flac", folder / "faces-jfk.mp4", 4.5
    )
    user = _user(db, "export")
    spoken = _add(db, store, settings, user, clip, title=TITLE)
    index_now(db, store, spoken.id)
    silent = _add(db, store, settings, user, media / "classroom.mp4")
    trashed = _add(db, store, settings, user, media / "counter.mp4")
    trash_video(db, store, user.id, trashed.id)
    photo = folder / "mina.jpg"
    cv2.imwrite(
        str(photo), cv2.cvtColor(frame_at(media / "head-pose-face-detection-female.mp4", 1.0), cv2.COLOR_RGB2BGR)
    )
    person = enroll(db, store, user.id, PERSON, [photo], registry.get("faces"))

    export_id = start_export(db, user.id)
    try:
        run_export_later(export_id, PLENTY).result(timeout=300)
    finally:
        stop_export_runner()
    stream, size = open_export(db, store, user.id, export_id)
    with stream:
        data = stream.read()
    return {
        "user": user,
        "spoken": spoken,
        "silent": silent,
        "trashed": trashed,
        "person": person,
        "sources": {v.id: clip if v is spoken else media / v.filename for v in (spoken, silent, trashed)},
        "export_id": export_id,
        "size": size,
        "zip": zipfile.ZipFile(io.BytesIO(data)),
    }


def _entry(archive: zipfile.ZipFile, folder: str, video, suffix: str) -> str:
    [name] = [
        n for n in archive.namelist() if n.startswith(f"{folder}/") and n.endswith(f"-{video.id.hex[:8]}{suffix}")
    ]
    return name


def test_the_export_is_ready_with_its_size_and_stays_under_the_users_prefix(library, db, store):
    user = library["user"]
    status = export_status(db, user.id, library["export_id"])
    assert status["state"] == "ready" and status["progress"] == 1.0 and status["error"] is None
    assert status["bytes"] == library["size"] > 0 and status["expires_at"] is not None
    assert latest_export(db, user.id) == status
    assert store.exists(export_key(user.id, library["export_id"]))
    assert library["zip"].testzip() is None  # every entry reads back whole


def test_the_zip_holds_each_kept_video_as_uploaded_and_leaves_the_trash_out(library):
    archive = library["zip"]
    videos = [n for n in archive.namelist() if n.startswith("videos/")]
    assert len(videos) == 2  # the trashed one is not there
    for video in (library["spoken"], library["silent"]):
        name = _entry(archive, "videos", video, ".mp4")
        assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED
        original = hashlib.sha256(library["sources"][video.id].read_bytes()).hexdigest()
        assert hashlib.sha256(archive.read(name)).hexdigest() == original == video.sha256
    trashed = library["trashed"].id.hex[:8]
    assert not [n for n in archive.namelist() if trashed in n]
    assert all(
        ".." not in PurePosixPath(n).parts and not n.startswith("/") and "\\" not in n for n in archive.namelist()
    )
    assert {n.split("/", 1)[0] for n in archive.namelist()} == {
        "videos",
        "transcripts",
        "index",
        "people",
        "account.json",
        "index.html",
    }


def test_transcripts_come_as_subrip_webvtt_and_json(library):
    archive, video = library["zip"], library["spoken"]
    srt = archive.read(_entry(archive, "transcripts", video, ".srt")).decode()
    vtt = archive.read(_entry(archive, "transcripts", video, ".vtt")).decode()
    data = json.loads(archive.read(_entry(archive, "transcripts", video, ".json")))
    assert archive.getinfo(_entry(archive, "transcripts", video, ".srt")).compress_type == zipfile.ZIP_DEFLATED
    assert re.match(r"1\n\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}\n\S", srt)
    assert vtt.startswith("WEBVTT\n\n") and re.search(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n\S", vtt)
    assert data["title"] == TITLE and data["video_id"] == str(video.id)
    said = " ".join(line["text"] for line in data["lines"]).lower()
    assert "fellow" in said and "fellow" in srt.lower() and "fellow" in vtt.lower()
    assert all(0 <= line["start_s"] <= line["end_s"] <= 4.6 for line in data["lines"])
    silent = json.loads(archive.read(_entry(archive, "transcripts", library["silent"], ".json")))
    assert silent["lines"] == []  # not indexed: an empty transcript, still parseable


def test_the_index_holds_the_scenes_with_their_words_and_people(library, db):
    archive, video = library["zip"], library["spoken"]
    index = json.loads(archive.read(_entry(archive, "index", video, ".json")))
    with db.transaction() as conn:
        rows = conn.execute("SELECT idx, start_s, end_s FROM scenes WHERE video_id = %s ORDER BY idx", (video.id,))
        expected = [(r["idx"], round(r["start_s"], 3), round(r["end_s"], 3)) for r in rows.fetchall()]
    assert [(s["idx"], s["start_s"], s["end_s"]) for s in index["scenes"]] == expected and expected
    assert index["sha256"] == video.sha256 and index["file"] == _entry(archive, "videos", video, ".mp4")
    assert "fellow" in " ".join(s["transcript"] for s in index["scenes"]).lower()
    assert all(w["text"] and w["start_s"] <= w["end_s"] for s in index["scenes"] for w in s["words"])
    assert any(s["tags"] or s["caption"] for s in index["scenes"])
    assert PERSON in {p["name"] for s in index["scenes"] for p in s["people"]}
    assert "embedding" not in json.dumps(index) and "descriptor" not in json.dumps(index)  # no raw vectors
    silent = json.loads(archive.read(_entry(archive, "index", library["silent"], ".json")))
    assert silent["scenes"] == [] and silent["state"] == "uploaded"


def test_people_and_account_are_described(library):
    archive, user = library["zip"], library["user"]
    account = json.loads(archive.read("account.json"))
    assert account["email"] == user.email and account["tier"] == user.tier
    assert account["display_name"] == user.display_name and account["created_at"] == user.created_at.isoformat()
    [person] = json.loads(archive.read("people/people.json"))
    assert person["name"] == PERSON and person["person_id"] == library["person"].id
    assert person["reference_faces"] == 1 and person["faces_seen"] >= 1
    assert [v["video_id"] for v in person["videos"]] == [str(library["spoken"].id)]
    assert person["pictures"][0]["reference"] is True
    for picture in person["pictures"]:
        assert archive.read(picture["file"])[:3] == b"\xff\xd8\xff"  # a JPEG
        assert picture["file"].startswith("people/") and picture["file"].endswith(".jpg")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.links.extend((tag, unquote(value or "")) for name, value in attrs if name in ("src", "href"))


def test_the_page_plays_every_video_offline_and_escapes_what_users_wrote(library):
    archive = library["zip"]
    page = archive.read("index.html").decode()
    parser = _Links()
    parser.feed(page)
    names = set(archive.namelist())
    players = {src for tag, src in parser.links if tag == "video"}
    assert players == {n for n in names if n.startswith("videos/")}
    assert all(link.startswith("#") or link in names for _, link in parser.links)  # nothing outside the zip
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;/../../evil" in page
    assert "<i>Co</i>" not in page and "Mina &amp; &lt;i&gt;Co&lt;/i&gt;" in page
    assert "fellow" in page.lower()  # the transcript is on the page


def test_progress_rises_to_one_and_a_second_export_waits_for_the_first(library, db, store):
    user = library["user"]
    export_id = start_export(db, user.id)
    with pytest.raises(ExportRunning):
        start_export(db, user.id)  # queued
    seen, refused = [], []

    def progress(value: float) -> None:
        seen.append(value)
        if len(seen) == 1:
            assert export_status(db, user.id, export_id)["state"] == "running"
            try:
                start_export(db, user.id)
            except ExportRunning as exc:
                refused.append(exc.kind)

    build_export(db, store, export_id, max_bytes=PLENTY, progress=progress)
    assert refused == ["conflict"]
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3
    assert export_status(db, user.id, export_id)["progress"] == 1.0
    build_export(db, store, export_id, max_bytes=PLENTY)  # not queued any more: left alone
    assert export_status(db, user.id, export_id)["state"] == "ready"


def test_too_much_data_fails_with_a_sentence_and_leaves_no_zip(library, db, store):
    user = library["user"]
    export_id = start_export(db, user.id)
    build_export(db, store, export_id, max_bytes=100_000)
    status = export_status(db, user.id, export_id)
    assert status["state"] == "failed" and status["bytes"] is None
    assert re.fullmatch(
        r"Your data is [\d.]+ (KB|MB), more than the 97\.7 KB an export of your plan holds; .+\.", status["error"]
    )
    assert not store.exists(export_key(user.id, export_id))
    with pytest.raises(Exception, match="Your data is"):
        open_export(db, store, user.id, export_id)

    files = library["spoken"].size_bytes + library["silent"].size_bytes
    export_id = start_export(db, user.id)  # the files fit, the zip with the rest does not: found once written
    build_export(db, store, export_id, max_bytes=files + 1)
    status = export_status(db, user.id, export_id)
    assert status["state"] == "failed" and status["error"].startswith("Your data is ")
    assert not store.exists(export_key(user.id, export_id))


class _BrokenStore:
    """The real store, but storing the zip fails after part of it was written."""

    def __init__(self, store):
        self.store = store

    def __getattr__(self, name):
        return getattr(self.store, name)

    def put(self, key, stream):
        stream.read(1000)
        raise ConnectionError("the store went away")


def test_an_unexpected_failure_is_a_plain_sentence_logged_with_nothing_left(library, db, store, settings, caplog):
    user = library["user"]
    export_id = start_export(db, user.id)
    with caplog.at_level(logging.ERROR, logger="heimdex.library.export"):
        build_export(db, cast(BlobStore, _BrokenStore(store)), export_id, max_bytes=PLENTY)
    status = export_status(db, user.id, export_id)
    assert status["state"] == "failed" and status["error"] == FAILED
    assert any(r.exc_info and "the store went away" in str(r.exc_info[1]) for r in caplog.records)
    assert not store.exists(export_key(user.id, export_id))
    assert not list(settings.tmp_dir.glob("export-*"))  # the temporary zip went too


def test_only_the_owner_sees_or_opens_an_export(library, db, store):
    other = _user(db, "stranger")
    export_id = library["export_id"]
    with pytest.raises(NotFound):
        export_status(db, other.id, export_id)
    with pytest.raises(NotFound):
        open_export(db, store, other.id, export_id)
    with pytest.raises(NotFound):
        export_status(db, library["user"].id, uuid.uuid4())
    assert latest_export(db, other.id) is None


def test_an_export_past_its_time_is_deleted_by_upkeep(library, db, store):
    user = library["user"]
    export_id = start_export(db, user.id)
    build_export(db, store, export_id, max_bytes=PLENTY)
    key = export_key(user.id, export_id)
    assert store.exists(key)
    expire_exports(db, store)
    assert store.exists(key)  # not yet its time
    with db.transaction() as conn:
        conn.execute("UPDATE exports SET expires_at = now() - interval '1 minute' WHERE id = %s", (export_id,))
    assert expire_exports(db, store) >= 1
    assert not store.exists(key)
    assert export_status(db, user.id, export_id)["state"] == "expired"
    with pytest.raises(ExportGone):
        open_export(db, store, user.id, export_id)
    assert library["size"] and store.exists(export_key(user.id, library["export_id"]))  # another one stays


def test_an_export_whose_builder_went_silent_is_given_up(db, store):
    user = _user(db, "silent")
    export_id = start_export(db, user.id)
    with db.transaction() as conn:  # its process ended before the export thread took it
        conn.execute("UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = %s", (export_id,))
    again = start_export(db, user.id)
    assert export_status(db, user.id, export_id)["error"] == LOST
    build_export(db, store, export_id, max_bytes=PLENTY)  # given up: not built
    assert export_status(db, user.id, export_id)["state"] == "failed"
    latest = latest_export(db, user.id)
    assert latest is not None and latest["export_id"] == str(again)


@pytest.mark.parametrize(
    "title",
    [
        "../../etc/passwd",
        "/abs/path",
        "a\\b\\..\\c",
        "..",
        ".hidden",
        "con\x00trol\x1b[31m",
        "\u202egnp.exe",
        "x" * 500,
    ],
)
def test_safe_names_never_leave_their_folder(title):
    name = safe_name(title, "video")
    assert name and len(name) <= 60
    assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")
    assert all(c.isprintable() and c != "\u202e" for c in name)
