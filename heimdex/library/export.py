"""Download my data: one zip of what a user keeps here, built off the request, kept ``export_hours``, then deleted.

:func:`start_export` queues a row (one at a time per user); :func:`build_export` writes the zip in the
temporary folder, stores it under the user's prefix (:func:`export_key`) and marks it ready, or failed
with a sentence. :func:`run_export_later` builds it on this process's ``export`` thread. Upkeep deletes
the zips whose time has passed, and gives up on exports whose builder went silent
(:func:`expire_exports`). Videos in the Trash are left out. The zip holds::

    index.html                          every video with its player, transcript, scenes and people (offline)
    account.json                        e-mail, display name, plan, when the account was made
    videos/<title>-<id>.<ext>           each uploaded file, as uploaded
    transcripts/<title>-<id>.srt|.vtt   what was said, as subtitles (:mod:`heimdex.library.subtitles`)
    transcripts/<title>-<id>.json       the same lines, with times
    index/<title>-<id>.json             the scenes: times, words, on-screen text, caption, tags, people
    people/people.json                  each named person, their faces and the videos they are seen in
    people/<name>-<id>/<n>.jpg          their pictures: reference photos first, then faces seen

Names in the zip come from titles but are cleaned (:func:`safe_name`): no separators, control characters or
``..``, so nothing unzips outside its folder. While queued or running, ``expires_at`` is the builder's lease,
renewed with each progress update; once ready it is when the zip goes.
"""

from __future__ import annotations

import errno
import html
import json
import logging
import os
import re
import tempfile
import threading
import time
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import quote

import psycopg

from heimdex.config import get_settings
from heimdex.db import Conn, Database, one
from heimdex.errors import BadInput, Kind, NotFound
from heimdex.library import subtitles
from heimdex.library.media import format_bytes, format_duration
from heimdex.library.orphans import delete_blobs
from heimdex.library.people import list_people, person_faces
from heimdex.library.videos import Video, list_videos
from heimdex.storage import CHUNK, BlobStore, user_prefix

log = logging.getLogger(__name__)

QUEUED_LEASE = timedelta(hours=1)  # a queued export waits this long for the export thread before it counts as lost
LEASE = timedelta(minutes=15)  # a running export unheard of this long is taken to have lost its builder
STEP = 0.02  # progress is written when it rose this much ...
RENEW_S = 30.0  # ... or this many seconds passed (which renews the lease)
BUILT = 0.9  # progress when the zip is written; storing it takes the rest
TEXT_WEIGHT = 64 * 1024  # bytes a video's transcripts and index count for in the progress (they are small)
PHOTO_WEIGHT = 16 * 1024
PHOTOS_PER_PERSON = 12
NAME_CHARS = 60
ZIP64_FROM = 1 << 30  # entries this large are written with ZIP64 sizes from the start

FAILED = "The export could not be made; please try again."
NO_ROOM = "The server has no room to make the export now; please try again later."
LOST = "The export stopped before it was finished; please try again."
FILE_MISSING = "The file of this video is missing from storage; it is not in the export."

EXTENSIONS = {"mov": "mp4", "matroska": "mkv", "avi": "avi", "mpegts": "ts", "gif": "gif", "flv": "flv"}
EXTENSIONS |= {"mpeg": "mpg", "ogg": "ogv"}


class ExportRunning(BadInput):
    def __init__(self) -> None:
        super().__init__("export_running", "An export is already being made; it will be ready soon.", Kind.CONFLICT)


class ExportNotReady(BadInput):
    def __init__(self) -> None:
        super().__init__("export_not_ready", "This export is not ready yet.", Kind.CONFLICT)


class ExportGone(BadInput):
    def __init__(self) -> None:
        super().__init__("export_expired", "This export has expired; make a new one.", Kind.GONE)


class _TooLarge(Exception):
    def __init__(self, size: int, max_bytes: int):
        super().__init__(
            f"Your data is {format_bytes(size)}, more than the {format_bytes(max_bytes)} an export of your plan "
            "holds; delete videos you no longer need and try again, or move to a larger plan."
        )


class _Abandoned(Exception):
    """The export's row is gone or no longer running (the user was deleted, upkeep gave up on it)."""


def export_key(user_id: uuid.UUID, export_id: uuid.UUID) -> str:
    """Key of an export's zip, under its owner's prefix (so it goes with the account)."""
    return f"{user_prefix(user_id)}exports/{export_id}.zip"


# ---------------------------------------------------------------- rows


def start_export(db: Database, user_id: uuid.UUID) -> uuid.UUID:
    """Queue an export of the user's data; :class:`ExportRunning` while one is queued or being built."""
    export_id = uuid.uuid4()
    with db.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 41))", (f"export:{user_id}",))
        _give_up_lost(conn, user_id)
        busy = conn.execute(
            "SELECT 1 FROM exports WHERE user_id = %s AND state IN ('queued', 'running')", (user_id,)
        ).fetchone()
        if busy:
            raise ExportRunning()
        try:
            conn.execute(
                "INSERT INTO exports (id, user_id, expires_at) VALUES (%s, %s, now() + %s)",
                (export_id, user_id, QUEUED_LEASE),
            )
        except psycopg.errors.ForeignKeyViolation:
            raise NotFound("user", user_id) from None
    return export_id


def _give_up_lost(conn: Conn, user_id: uuid.UUID | None = None) -> int:
    """Fail the queued and running exports (of every user, or of ``user_id``) whose lease passed."""
    return conn.execute(
        """UPDATE exports SET state = 'failed', error = %s, finished_at = now(), expires_at = NULL
           WHERE state IN ('queued', 'running') AND expires_at <= now() AND (%s::uuid IS NULL OR user_id = %s)""",
        (LOST, user_id, user_id),
    ).rowcount


def _status(row: dict) -> dict:
    done = row["state"] in ("ready", "expired")
    return {
        "export_id": str(row["id"]),
        "state": row["state"],
        "progress": round(float(row["progress"]), 3),
        "bytes": row["bytes"],
        "error": row["error"],
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
        "expires_at": row["expires_at"].isoformat() if done and row["expires_at"] else None,
    }


def export_status(db: Database, user_id: uuid.UUID, export_id: uuid.UUID) -> dict:
    """One of the user's exports (:class:`NotFound` if absent or someone else's), JSON-ready."""
    with db.transaction() as conn:
        row = conn.execute("SELECT * FROM exports WHERE id = %s AND user_id = %s", (export_id, user_id)).fetchone()
    if row is None:
        raise NotFound("export", export_id)
    return _status(row)


def latest_export(db: Database, user_id: uuid.UUID) -> dict | None:
    """The user's most recent export, as :func:`export_status` gives it; None if they never asked for one."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM exports WHERE user_id = %s ORDER BY created_at DESC, id LIMIT 1", (user_id,)
        ).fetchone()
    return _status(row) if row else None


def open_export(db: Database, store: BlobStore, user_id: uuid.UUID, export_id: uuid.UUID) -> tuple[BinaryIO, int]:
    """The ready zip of one of the user's exports and its size (:class:`NotFound`, :class:`ExportNotReady`,
    :class:`ExportGone`, or the failed export's sentence); the caller closes the stream."""
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT state, blob_key, bytes, error, expires_at <= now() AS past FROM exports
               WHERE id = %s AND user_id = %s""",
            (export_id, user_id),
        ).fetchone()
    if row is None:
        raise NotFound("export", export_id)
    if row["state"] == "expired" or (row["state"] == "ready" and row["past"]):
        raise ExportGone()
    if row["state"] == "failed":
        raise BadInput("export_failed", row["error"] or FAILED, Kind.CONFLICT)
    if row["state"] != "ready":
        raise ExportNotReady()
    try:
        return store.open(row["blob_key"]), int(row["bytes"])
    except FileNotFoundError:
        raise ExportGone() from None


def expire_exports(db: Database, store: BlobStore) -> int:
    """Delete the zips whose time passed (rows first, then blobs) and fail the exports whose builder went silent;
    return how many zips went."""
    with db.transaction() as conn:
        rows = conn.execute(
            """UPDATE exports e SET state = 'expired', blob_key = NULL FROM (
                   SELECT id, blob_key FROM exports WHERE state = 'ready' AND expires_at <= now() FOR UPDATE
               ) old WHERE e.id = old.id RETURNING old.blob_key"""
        ).fetchall()
        _give_up_lost(conn)
    delete_blobs(db, store, [r["blob_key"] for r in rows if r["blob_key"]])
    return len(rows)


# ---------------------------------------------------------------- names


_UNSAFE = re.compile(r"[/\\:*?\"<>|]")


def safe_name(text: str, fallback: str) -> str:
    """``text`` as one file name, at most :data:`NAME_CHARS` long: no separators, control or format characters,
    characters Windows refuses, leading dots or ``..``; ``fallback`` if nothing is left."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(" " if unicodedata.category(c).startswith(("C", "Z")) else c for c in text)
    text = re.sub(r"\.{2,}", ".", _UNSAFE.sub(" ", text))
    text = " ".join(text.split())[:NAME_CHARS].strip(" .")
    return text or fallback


class _Names:
    """Stems unique within one zip (regardless of case: macOS and Windows fold it)."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def stem(self, text: str, fallback: str, key: str) -> str:
        stem = f"{safe_name(text, fallback)}-{key}"
        found, n = stem, 2
        while found.casefold() in self._used:
            found, n = f"{stem}-{n}", n + 1
        self._used.add(found.casefold())
        return found


def _extension(video: Video) -> str:
    suffix = Path(video.filename).suffix.lower().lstrip(".")
    if re.fullmatch(r"[a-z0-9]{1,8}", suffix):
        return suffix
    return EXTENSIONS.get(video.container, "bin")


# ---------------------------------------------------------------- building


class _Progress:
    """Writes the export's progress (throttled, renewing its lease) and tells ``callback``; :class:`_Abandoned`
    once the row is no longer running."""

    def __init__(self, db: Database, export_id: uuid.UUID, callback: Callable[[float], None] | None):
        self.db, self.export_id, self.callback = db, export_id, callback
        self.sent, self.at = 0.0, time.monotonic()

    def report(self, value: float, force: bool = False) -> None:
        value = min(1.0, max(self.sent, value))
        if not force and value < self.sent + STEP and time.monotonic() - self.at < RENEW_S:
            return
        with self.db.transaction() as conn:
            updated = conn.execute(
                "UPDATE exports SET progress = %s, expires_at = now() + %s WHERE id = %s AND state = 'running'",
                (value, LEASE, self.export_id),
            ).rowcount
        if not updated:
            raise _Abandoned()
        self.sent, self.at = value, time.monotonic()
        if self.callback is not None:
            self.callback(value)


class _Work:
    """Progress through the planned bytes of the zip (0 to :data:`BUILT`)."""

    def __init__(self, progress: _Progress, total: int):
        self.progress, self.total, self.done = progress, max(1, total), 0

    def advance(self, n: int) -> None:
        self.done += n
        self.progress.report(BUILT * min(1.0, self.done / self.total))


@dataclass
class _Entry:
    """One video as the zip and its page show it."""

    video: Video
    stem: str
    file: str | None = None  # its path in the zip; None: its file is missing from storage
    lines: list[subtitles.Line] = field(default_factory=list[subtitles.Line])
    scenes: list[dict] = field(default_factory=list[dict])


def build_export(
    db: Database,
    store: BlobStore,
    export_id: uuid.UUID,
    *,
    max_bytes: int,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Build a queued export: ready with its zip stored, or failed with a sentence (over ``max_bytes``, or any
    other failure, logged) and no zip left. An export not queued (built already, given up) is left alone."""
    with db.transaction() as conn:
        row = conn.execute(
            """UPDATE exports SET state = 'running', progress = 0, expires_at = now() + %s
               WHERE id = %s AND state = 'queued' RETURNING user_id""",
            (LEASE, export_id),
        ).fetchone()
    if row is None:
        log.warning("export %s is not queued; not built", export_id)
        return
    user_id: uuid.UUID = row["user_id"]
    key = export_key(user_id, export_id)
    settings = get_settings()
    reporter = _Progress(db, export_id, progress)
    try:
        size = _build(db, store, user_id, key, max_bytes, reporter, settings.tmp_dir)
        with db.transaction() as conn:
            done = conn.execute(
                """UPDATE exports SET state = 'ready', progress = 1, bytes = %s, blob_key = %s, error = NULL,
                          finished_at = now(), expires_at = now() + %s
                   WHERE id = %s AND state = 'running'""",
                (size, key, timedelta(hours=settings.export_hours), export_id),
            ).rowcount
        if not done:
            raise _Abandoned()
        if progress is not None and reporter.sent < 1.0:
            progress(1.0)
    except _Abandoned:
        log.warning("export %s was given up or deleted while it was built", export_id)
        delete_blobs(db, store, [key])
    except _TooLarge as exc:
        _failed(db, store, export_id, key, str(exc))
    except Exception as exc:
        log.exception("export %s failed", export_id)
        no_room = isinstance(exc, OSError) and exc.errno == errno.ENOSPC
        _failed(db, store, export_id, key, NO_ROOM if no_room else FAILED)


def _failed(db: Database, store: BlobStore, export_id: uuid.UUID, key: str, error: str) -> None:
    with db.transaction() as conn:
        conn.execute(
            """UPDATE exports SET state = 'failed', error = %s, bytes = NULL, blob_key = NULL, finished_at = now(),
                      expires_at = NULL WHERE id = %s""",
            (error, export_id),
        )
    delete_blobs(db, store, [key])


def _build(
    db: Database, store: BlobStore, user_id: uuid.UUID, key: str, max_bytes: int, progress: _Progress, tmp_dir: Path
) -> int:
    """Write the user's zip to a temporary file, store it under ``key``; its size."""
    videos = list_videos(db, user_id)
    people = list_people(db, user_id)
    files = sum(v.size_bytes for v in videos)  # most of the zip: refused before anything is written
    if files > max_bytes:
        raise _TooLarge(files, max_bytes)
    planned = files + TEXT_WEIGHT * len(videos) + PHOTO_WEIGHT * PHOTOS_PER_PERSON * len(people)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=tmp_dir, prefix="export-", suffix=".zip")
    os.close(handle)
    path = Path(name)
    try:
        work = _Work(progress, planned)
        with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
            names = _Names()
            entries = [_Entry(v, names.stem(v.title, "video", v.id.hex[:8])) for v in videos]  # the Library's order
            for entry in entries:
                _add_video(db, store, archive, user_id, entry, work)
            found = _add_people(db, store, archive, user_id, work)
            account = _account(db, user_id)
            _write(archive, "account.json", _json(account))
            _write(archive, "index.html", _page(account, entries, found))
        size = path.stat().st_size
        if size > max_bytes:
            raise _TooLarge(size, max_bytes)
        with path.open("rb") as zipped:
            stored = store.put(key, cast(BinaryIO, _Reading(zipped, size, progress)))
        return stored
    finally:
        path.unlink(missing_ok=True)


class _Reading:
    """The zip read into the store, reported from :data:`BUILT` to 1."""

    def __init__(self, stream: BinaryIO, size: int, progress: _Progress):
        self.stream, self.size, self.progress, self.read_bytes = stream, max(1, size), progress, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.read_bytes += len(chunk)
        self.progress.report(BUILT + (1 - BUILT) * min(1.0, self.read_bytes / self.size))
        return chunk


def _info(name: str, compress: int, when: datetime | None = None) -> zipfile.ZipInfo:
    stamp = (when or datetime.now(UTC)).astimezone(UTC)
    info = zipfile.ZipInfo(name, date_time=(max(stamp.year, 1980), *stamp.timetuple()[1:6]))
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def _write(archive: zipfile.ZipFile, name: str, text: str) -> None:
    archive.writestr(_info(name, zipfile.ZIP_DEFLATED), text.encode("utf-8"))


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n"


def _add_video(
    db: Database, store: BlobStore, archive: zipfile.ZipFile, user_id: uuid.UUID, entry: _Entry, work: _Work
) -> None:
    video = entry.video
    name = f"videos/{entry.stem}.{_extension(video)}"
    try:
        blob = store.open(video.blob_key)
    except FileNotFoundError:
        log.warning("export: the file of video %s is missing from storage", video.id)
        blob = None
    if blob is not None:
        info = _info(name, zipfile.ZIP_STORED, video.created_at)
        with blob, archive.open(info, "w", force_zip64=video.size_bytes >= ZIP64_FROM) as out:
            while chunk := blob.read(CHUNK):
                out.write(chunk)
                work.advance(len(chunk))
        entry.file = name
    with db.transaction() as conn:
        entry.lines = subtitles.lines(subtitles.spoken_words(conn, user_id, video.id))
        scenes = conn.execute(
            """SELECT s.idx, s.start_s, s.end_s, s.transcript, s.words, s.ocr_text, s.ocr_lines, s.caption, s.tags,
                      coalesce((SELECT jsonb_agg(jsonb_build_object('person_id', p.id, 'name', p.name, 'seen', sp.seen,
                                                                    'actions', to_jsonb(sp.actions)) ORDER BY p.name)
                                FROM scene_people sp JOIN people p ON p.id = sp.person_id
                                WHERE sp.scene_id = s.id AND p.name IS NOT NULL), '[]') AS people,
                      coalesce((SELECT jsonb_agg(jsonb_build_object('start_s', t.start_s, 'end_s', t.end_s,
                                                                    'actions', t.actions) ORDER BY t.idx)
                                FROM face_tracks t WHERE t.scene_id = s.id), '[]') AS faces_followed
               FROM scenes s WHERE s.user_id = %s AND s.video_id = %s ORDER BY s.idx""",
            (user_id, video.id),
        ).fetchall()
        shots = conn.execute(
            "SELECT idx, start_s, end_s, cut FROM shots WHERE video_id = %s ORDER BY idx", (video.id,)
        ).fetchall()
    entry.scenes = [_scene(row) for row in scenes]
    about = _about(video, entry)
    transcript = {**about, "language": video.spoken_language, "lines": [line.as_dict() for line in entry.lines]}
    _write(archive, f"transcripts/{entry.stem}.srt", subtitles.srt(entry.lines))
    _write(archive, f"transcripts/{entry.stem}.vtt", subtitles.webvtt(entry.lines))
    _write(archive, f"transcripts/{entry.stem}.json", _json(transcript))
    index = {**about, "shots": [dict(s) for s in shots], "scenes": entry.scenes}
    _write(archive, f"index/{entry.stem}.json", _json(index))
    work.advance(TEXT_WEIGHT + (0 if entry.file else video.size_bytes))


def _about(video: Video, entry: _Entry) -> dict:
    return {
        "video_id": str(video.id),
        "title": video.title,
        "filename": video.filename,
        "file": entry.file,
        "note": None if entry.file else FILE_MISSING,
        "duration_s": video.duration_s,
        "width": video.width,
        "height": video.height,
        "size_bytes": video.size_bytes,
        "sha256": video.sha256,
        "state": str(video.state),
        "spoken_language": video.spoken_language,
        "uploaded_at": video.created_at.isoformat(),
        "indexed_at": video.indexed_at.isoformat() if video.indexed_at else None,
    }


def _scene(row: dict) -> dict:
    return {
        "idx": row["idx"],
        "start_s": round(row["start_s"], 3),
        "end_s": round(row["end_s"], 3),
        "transcript": row["transcript"],
        "words": [{"text": w["w"], "start_s": w["s"], "end_s": w["e"]} for w in row["words"]],
        "on_screen_text": row["ocr_text"],
        "on_screen_lines": row["ocr_lines"],
        "caption": row["caption"],
        "tags": row["tags"],
        "people": row["people"],
        "faces_followed": row["faces_followed"],
    }


def _add_people(
    db: Database, store: BlobStore, archive: zipfile.ZipFile, user_id: uuid.UUID, work: _Work
) -> list[dict]:
    """``people/people.json`` and each named person's pictures; the people, as written."""
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT sp.person_id, v.id, v.title, count(*) AS scenes FROM scene_people sp
               JOIN scenes s ON s.id = sp.scene_id JOIN videos v ON v.id = s.video_id
               WHERE s.user_id = %s AND v.trashed_at IS NULL GROUP BY sp.person_id, v.id, v.title
               ORDER BY sp.person_id, min(v.created_at), v.id""",
            (user_id,),
        ).fetchall()
        seen = conn.execute(
            """SELECT person_id, count(*) AS n FROM faces
               WHERE user_id = %s AND scene_id IS NOT NULL AND person_id IS NOT NULL GROUP BY person_id""",
            (user_id,),
        ).fetchall()
    videos: dict[int, list[dict]] = {}
    for row in rows:
        videos.setdefault(row["person_id"], []).append(
            {"video_id": str(row["id"]), "title": row["title"], "scenes": row["scenes"]}
        )
    faces_seen = {row["person_id"]: row["n"] for row in seen}
    names, found = _Names(), []
    for person in list_people(db, user_id):
        folder = f"people/{names.stem(person.name or '', 'person', str(person.id))}"
        photos = []
        for face in person_faces(db, user_id, person.id, limit=PHOTOS_PER_PERSON):
            picture = _read(store, face.crop)
            if picture is not None:
                name = f"{folder}/{len(photos) + 1}.jpg"
                archive.writestr(_info(name, zipfile.ZIP_STORED), picture)
                photos.append({"file": name, "reference": face.reference, "t": face.t})
            work.advance(PHOTO_WEIGHT)
        found.append(
            {
                "person_id": person.id,
                "name": person.name,
                "reference_faces": person.photos,
                "faces_seen": faces_seen.get(person.id, 0),
                "scenes": person.scenes,
                "videos": videos.get(person.id, []),
                "pictures": photos,
            }
        )
    _write(archive, "people/people.json", _json(found))
    return found


def _read(store: BlobStore, key: str | None) -> bytes | None:
    if key is None:
        return None
    try:
        with store.open(key) as blob:
            return blob.read()
    except FileNotFoundError:
        return None


def _account(db: Database, user_id: uuid.UUID) -> dict:
    with db.transaction() as conn:
        row = one(
            conn.execute(
                "SELECT email, display_name, tier, created_at, email_verified_at FROM users WHERE id = %s", (user_id,)
            ).fetchone()
        )
    return {
        "email": row["email"],
        "display_name": row["display_name"],
        "tier": row["tier"],
        "created_at": row["created_at"].isoformat(),
        "email_verified_at": row["email_verified_at"].isoformat() if row["email_verified_at"] else None,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# ---------------------------------------------------------------- the page


STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:960px;margin:0 auto;padding:1rem;color:#1b1b1f;background:#fff}
h1,h2,h3{line-height:1.2}section{border-top:1px solid #ccd;margin-top:2rem;padding-top:1rem}
video{width:100%;max-height:60vh;background:#000}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid #e3e3ea;padding:.3rem .5rem}
.t{font-variant-numeric:tabular-nums;color:#55556a;white-space:nowrap}.muted{color:#55556a}
.people{display:flex;flex-wrap:wrap;gap:1rem}.person{width:14rem}.person img{width:4rem;height:4rem;margin:2px}
@media (prefers-color-scheme:dark){body{background:#15151a;color:#e8e8ef}.t,.muted{color:#a8a8ba}
th,td{border-color:#33333f}section{border-color:#33333f}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _href(path: str) -> str:
    return _e(quote(path))


def _span(start: float, end: float) -> str:
    return f'<span class="t">{format_duration(start)}–{format_duration(end)}</span>'


def _page(account: dict, entries: Iterable[_Entry], people: list[dict]) -> str:
    """A page that opens offline from the unzipped folder: no script, no outside resource, every user's text
    escaped."""
    entries = list(entries)
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Heimdex data of {_e(account['email'])}</title><style>{STYLE}</style></head><body>",
        "<h1>Your Heimdex data</h1>",
        f"<p>{_e(account['display_name'] or account['email'])} · {_e(account['email'])} · plan {_e(account['tier'])}"
        f" · exported {_e(account['exported_at'])}</p>",
        f"<p>{len(entries)} videos. Each video's file is in <code>videos/</code>, its transcript in "
        "<code>transcripts/</code> (SubRip, WebVTT, JSON) and its scenes in <code>index/</code>; the people are in "
        "<code>people/</code>.</p>",
        "<nav><ul>",
        *(f'<li><a href="#v{n}">{_e(entry.video.title)}</a></li>' for n, entry in enumerate(entries, 1)),
        '<li><a href="#people">People</a></li></ul></nav>' if people else "</ul></nav>",
    ]
    for n, entry in enumerate(entries, 1):
        parts.append(_video_section(n, entry))
    if people:
        parts.append('<section id="people"><h2>People</h2><div class="people">')
        for person in people:
            pictures = "".join(f'<img src="{_href(p["file"])}" alt="">' for p in person["pictures"])
            seen = ", ".join(_e(v["title"]) for v in person["videos"]) or "no video yet"
            parts.append(
                f'<div class="person"><h3>{_e(person["name"])}</h3><div>{pictures}</div>'
                f'<p class="muted">Seen in: {seen}</p></div>'
            )
        parts.append("</div></section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _video_section(n: int, entry: _Entry) -> str:
    video = entry.video
    parts = [f'<section id="v{n}"><h2>{_e(video.title)}</h2>']
    if entry.file:
        track = f'<track kind="subtitles" src="{_href(f"transcripts/{entry.stem}.vtt")}" label="Transcript">'
        parts.append(f'<video controls preload="metadata" src="{_href(entry.file)}">{track}</video>')
        parts.append(f'<p><a href="{_href(entry.file)}">{_e(video.filename)}</a>')
    else:
        parts.append(f"<p>{_e(FILE_MISSING)}")
    parts.append(
        f" · {format_duration(video.duration_s)} · {format_bytes(video.size_bytes)} · uploaded "
        f"{_e(video.created_at.date().isoformat())}</p>"
    )
    if entry.lines:
        parts.append("<details><summary>Transcript</summary>")
        parts.extend(f"<p>{_span(line.start_s, line.end_s)} {_e(line.text)}</p>" for line in entry.lines)
        parts.append("</details>")
    if entry.scenes:
        parts.append("<h3>Scenes</h3><table><tr><th>Time</th><th>What is seen</th><th>Said</th></tr>")
        for scene in entry.scenes:
            seen = [scene["caption"]] if scene["caption"] else []
            if scene["on_screen_text"]:
                seen.append(f"Text on screen: {scene['on_screen_text']}")
            names = sorted({p["name"] for p in scene["people"]})
            if names:
                seen.append("People: " + ", ".join(names))
            tags = [t["tag"] for t in scene["tags"]]
            if tags:
                seen.append("Tags: " + ", ".join(tags))
            shown = "<br>".join(_e(s) for s in seen)
            parts.append(
                f"<tr><td>{_span(scene['start_s'], scene['end_s'])}</td><td>{shown}</td>"
                f"<td>{_e(scene['transcript'])}</td></tr>"
            )
        parts.append("</table>")
    elif not entry.lines:
        parts.append('<p class="muted">Not indexed: no transcript or scenes.</p>')
    parts.append("</section>")
    return "\n".join(parts)


# ---------------------------------------------------------------- the runner


_runner: ThreadPoolExecutor | None = None
_runner_lock = threading.Lock()


def run_export_later(export_id: uuid.UUID, max_bytes: int) -> Future[None]:
    """Build the export on this process's ``export`` thread (one at a time); the request returns at once. The
    future is done when the row is ready or failed (tests wait on it)."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
        return _runner.submit(_run, export_id, max_bytes)


def stop_export_runner() -> None:
    """Let the export thread finish what it was given and end (shutdown, tests); a later export starts it anew."""
    global _runner
    with _runner_lock:
        runner, _runner = _runner, None
    if runner is not None:
        runner.shutdown(wait=True)


def _run(export_id: uuid.UUID, max_bytes: int) -> None:
    from heimdex.db import get_database
    from heimdex.storage import get_blob_store

    try:
        build_export(get_database(), get_blob_store(get_settings()), export_id, max_bytes=max_bytes)
    except Exception:  # recording the failure itself failed (the database away): upkeep gives up on it later
        log.exception("export %s could not be built", export_id)
