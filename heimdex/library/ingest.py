"""Ingest: an uploaded file becomes a stored, validated video row, or a clear error.

The upload is streamed into a staging file and hashed on the way (never read
whole into memory), checked against the size limit while it streams, probed and
validated, and only then stored under a content-derived key. The row and the
blob appear together or not at all. The same file uploaded again by the same
user returns the video it already is, out of the Trash if it was there.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, LiteralString, cast

import psycopg

from heimdex.config import Settings
from heimdex.db import Conn, Database, one
from heimdex.errors import BadInput, Kind, NotFound
from heimdex.library.media import MediaInfo, format_bytes, media_error, probe, validate
from heimdex.library.trash import NotInTrash, restore_video
from heimdex.library.videos import Video
from heimdex.storage import CHUNK, BlobStore, source_key

log = logging.getLogger(__name__)

MAX_FILENAME = 255
MAX_TITLE = 200
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}$")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class Staged:
    path: Path
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class IngestResult:
    video: Video
    created: bool  # False: the same file was already in the user's library


def clean_filename(filename: str) -> str:
    """The upload's name as display text; :class:`MediaError` for names that try to be paths."""
    name = filename.strip()
    if _UNSAFE_NAME.search(name) or name in {".", ".."} or len(name) > MAX_FILENAME:
        raise media_error("bad_filename", detail=repr(filename[:80]))
    return name or "untitled"


def clean_language(language: str | None) -> str | None:
    """A language the speech model knows (ISO 639-1 code), or None for automatic detection."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if language is None or language.strip().lower() in {"", "auto"}:
        return None
    code = language.strip().lower()
    if not LANGUAGE_PATTERN.match(code) or code not in _LANGUAGE_CODES:
        raise BadInput(
            "bad_language", "Unknown spoken language; use a code such as 'en' or 'ko', or 'auto' to detect it."
        )
    return code


class StorageUnavailable(BadInput):
    def __init__(self) -> None:
        super().__init__(
            "storage_unavailable",
            "The server cannot store files right now (its disk is full or read-only); please try again later.",
            Kind.UNAVAILABLE,
        )


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn a full or read-only disk into a sentence (the cause logged), never an errno or a path."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        log.error("storing an upload failed", exc_info=exc)
        raise StorageUnavailable() from None


@contextmanager
def staged_upload(source: BinaryIO, tmp_dir: Path, max_bytes: int, timeout_s: float = 300.0) -> Iterator[Staged]:
    """Stream ``source`` into a staging file, hashing it and enforcing ``max_bytes`` and ``timeout_s``; removed afterwards."""
    path = tmp_dir / f"upload-{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    size = 0
    deadline = time.monotonic() + timeout_s
    try:
        with storage_errors():
            tmp_dir.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise media_error(
                            "too_large", detail=f"over {format_bytes(max_bytes)}", limit=format_bytes(max_bytes)
                        )
                    if time.monotonic() > deadline:
                        raise media_error("probe_timeout", limit=f"{timeout_s:g} s")
                    digest.update(chunk)
                    out.write(chunk)
        yield Staged(path, digest.hexdigest(), size)
    finally:
        path.unlink(missing_ok=True)


def ingest(
    db: Database,
    store: BlobStore,
    settings: Settings,
    user_id: uuid.UUID,
    source: BinaryIO,
    filename: str,
    title: str | None = None,
    language: str | None = None,
    admit: Callable[[Conn, MediaInfo], None] | None = None,
) -> IngestResult:
    """Validate and store one upload for ``user_id``; raise :class:`MediaError` and keep nothing if it is unusable.

    ``admit`` sees the probed file inside the transaction that adds it, while the user's other uploads wait (an
    advisory lock), and may refuse it: a quota holds however many uploads race.
    """
    filename = clean_filename(filename)
    language = clean_language(language)
    title = (title or "").strip()[:MAX_TITLE] or Path(filename).stem or filename
    with staged_upload(source, settings.tmp_dir, settings.max_upload_bytes, settings.read_timeout_s) as staged:
        if staged.size_bytes == 0:
            raise media_error("empty_file")
        existing = _find_by_hash(db, user_id, staged.sha256)
        if existing is not None:
            return IngestResult(_restored(db, store, existing, staged), created=False)
        info = probe(staged.path, settings.probe_timeout_s)
        validate(info, settings.max_duration_s, settings.max_upload_bytes)
        return _store(db, store, user_id, staged, info, filename, title, language, admit)


def _restored(db: Database, store: BlobStore, video: Video, staged: Staged) -> Video:
    """The video this same file already is: taken out of the Trash if it was there (uploaded again, so indexed
    anew), its stored file put back if it had gone missing (the upload the Library asked for), and the note of it
    cleared."""
    if video.trashed_at is not None:
        try:
            video = restore_video(db, video.user_id, video.id)
        except NotInTrash:
            pass  # restored meanwhile
    if store.exists(video.blob_key):
        return video
    with staged.path.open("rb") as blob, storage_errors():
        store.put(video.blob_key, blob)
    with db.transaction() as conn:
        row = conn.execute(
            """UPDATE videos SET error_code = NULL, error_message = NULL
               WHERE id = %s AND error_code = 'source_missing' RETURNING *""",
            (video.id,),
        ).fetchone()
    return Video.from_row(row) if row else video


def _find_by_hash(db: Database, user_id: uuid.UUID, sha256: str) -> Video | None:
    with db.transaction() as conn:
        row = conn.execute("SELECT * FROM videos WHERE user_id = %s AND sha256 = %s", (user_id, sha256)).fetchone()
    return Video.from_row(row) if row else None


def _has(conn: Conn, user_id: uuid.UUID, sha256: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM videos WHERE user_id = %s AND sha256 = %s", (user_id, sha256)).fetchone()
        is not None
    )


def _store(
    db: Database,
    store: BlobStore,
    user_id: uuid.UUID,
    staged: Staged,
    info: MediaInfo,
    filename: str,
    title: str,
    language: str | None,
    admit: Callable[[Conn, MediaInfo], None] | None,
) -> IngestResult:
    key = source_key(user_id, staged.sha256)
    values = {
        **asdict(info),
        "id": uuid.uuid4(),
        "user_id": user_id,
        "title": title,
        "filename": filename,
        "sha256": staged.sha256,
        "blob_key": key,
        "language": language,
    }
    columns = cast(LiteralString, ", ".join(values))  # our own column names, never user text
    placeholders = cast(LiteralString, ", ".join(f"%({name})s" for name in values))
    with db.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 27))", (f"upload:{user_id}",))
        if admit and not _has(conn, user_id, staged.sha256):  # the same file again is no new video
            admit(conn, info)
        try:
            row = conn.execute(
                f"""INSERT INTO videos ({columns}) VALUES ({placeholders})
                    ON CONFLICT (user_id, sha256) DO NOTHING RETURNING *""",
                values,
            ).fetchone()
        except psycopg.errors.ForeignKeyViolation:
            raise NotFound("user", user_id) from None
        if row is None:  # the same file arrived concurrently; the first upload wins
            row = conn.execute(
                "SELECT * FROM videos WHERE user_id = %s AND sha256 = %s", (user_id, staged.sha256)
            ).fetchone()
            return IngestResult(Video.from_row(one(row)), created=False)
        with staged.path.open("rb") as blob, storage_errors():
            store.put(key, blob)
    return IngestResult(Video.from_row(row), created=True)
