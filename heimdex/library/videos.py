"""A user's videos: read, list and delete (rows cascade; blobs go by prefix).

A video in the Trash (:mod:`heimdex.library.trash`) is absent to every read here but :func:`load_video`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from heimdex.db import Database
from heimdex.errors import BadInput, Kind, NotFound
from heimdex.library.orphans import delete_blobs
from heimdex.library.people.matching import refresh
from heimdex.states import VideoState
from heimdex.storage import BlobStore, video_prefix


@dataclass(frozen=True)
class Video:
    id: uuid.UUID
    user_id: uuid.UUID
    title: str
    filename: str
    sha256: str
    size_bytes: int
    blob_key: str
    container: str
    duration_s: float
    width: int
    height: int
    fps: float | None
    is_vfr: bool
    rotation: int
    video_codec: str
    audio_codec: str | None
    has_audio: bool
    language: str | None
    state: VideoState
    error_code: str | None
    error_message: str | None
    error_stage: str | None
    index_run: str | None
    proxy_key: str | None
    spoken_language: str | None
    created_at: datetime
    updated_at: datetime
    indexed_at: datetime | None
    trashed_at: datetime | None  # when it went to the Trash; None: it is not there

    @classmethod
    def from_row(cls, row: dict) -> Video:
        return cls(**{**{name: row[name] for name in cls.__dataclass_fields__}, "state": VideoState(row["state"])})

    def summary(self) -> dict:
        """The JSON-ready fields a listing shows."""
        return {
            "video_id": str(self.id),
            "title": self.title,
            "filename": self.filename,
            "state": self.state,
            "duration_s": self.duration_s,
            "size_bytes": self.size_bytes,
            "width": self.width,
            "height": self.height,
            "has_audio": self.has_audio,
            "error_code": self.error_code,
            "error": self.error_message,
            "error_stage": self.error_stage,
            "created_at": self.created_at.isoformat(),
        }


SOURCE_MISSING = "The file of this video is missing from storage; upload it again to watch or index it."


class SourceMissing(BadInput):
    def __init__(self) -> None:
        super().__init__("source_missing", SOURCE_MISSING, Kind.GONE)


def source_missing(db: Database, video: Video) -> SourceMissing:
    """Note on the video that its stored file is gone (the Library then says so and offers a new upload); the
    error to raise."""
    with db.transaction() as conn:
        conn.execute(
            "UPDATE videos SET error_code = 'source_missing', error_message = %s WHERE id = %s AND user_id = %s",
            (SOURCE_MISSING, video.id, video.user_id),
        )
    return SourceMissing()


def parse_video_id(text: str) -> uuid.UUID:
    """A video id from user text; :class:`NotFound` for anything that is not one."""
    try:
        return uuid.UUID(str(text))
    except ValueError:
        raise BadInput("video_not_found", "No video with that id.") from None


def get_video(db: Database, user_id: uuid.UUID, video_id: uuid.UUID) -> Video:
    """One of the user's videos; :class:`NotFound` if it is absent, in the Trash or someone else's."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM videos WHERE id = %s AND user_id = %s AND trashed_at IS NULL", (video_id, user_id)
        ).fetchone()
    if row is None:
        raise NotFound("video", video_id)
    return Video.from_row(row)


def list_videos(db: Database, user_id: uuid.UUID) -> list[Video]:
    """The user's videos, newest first (those in the Trash left out)."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT * FROM videos WHERE user_id = %s AND trashed_at IS NULL ORDER BY created_at DESC, id", (user_id,)
        ).fetchall()
    return [Video.from_row(row) for row in rows]


def scene_at(db: Database, user_id: uuid.UUID, video_id: uuid.UUID, t: float) -> dict | None:
    """The scene of the user's video playing at ``t`` seconds (the last one past its end, the first before its start)."""
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT id, idx, start_s, end_s, transcript, ocr_text, caption, tags, keyframe_key FROM scenes
               WHERE user_id = %s AND video_id = %s
               ORDER BY (start_s <= %s) DESC, CASE WHEN start_s <= %s THEN -start_s ELSE start_s END LIMIT 1""",
            (user_id, video_id, t, t),
        ).fetchone()
    return dict(row) if row else None


def scene_picture(db: Database, user_id: uuid.UUID, video_id: uuid.UUID, scene_id: int | None) -> str | None:
    """The blob key of the keyframe of one scene of the user's video, or with no scene its poster (the first scene
    with a picture); None: no such scene, or no picture yet."""
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT keyframe_key FROM scenes
               WHERE video_id = %s AND user_id = %s AND keyframe_key IS NOT NULL AND (id = %s OR %s::bigint IS NULL)
               ORDER BY idx LIMIT 1""",
            (video_id, user_id, scene_id, scene_id),
        ).fetchone()
    return row["keyframe_key"] if row else None


def rename_video(db: Database, user_id: uuid.UUID, video_id: uuid.UUID, title: str) -> None:
    """Give one of the user's videos a new title."""
    with db.transaction() as conn:
        renamed = conn.execute(
            "UPDATE videos SET title = %s WHERE id = %s AND user_id = %s AND trashed_at IS NULL",
            (title, video_id, user_id),
        ).rowcount
    if not renamed:
        raise NotFound("video", video_id)


def set_proxy(db: Database, video_id: uuid.UUID, key: str) -> None:
    """Point the video at its browser-playable copy (not a video put in the Trash meanwhile: its copy waits there
    for the video's prefix to go)."""
    with db.transaction() as conn:
        conn.execute("UPDATE videos SET proxy_key = %s WHERE id = %s AND trashed_at IS NULL", (key, video_id))


def load_video(db: Database, video_id: uuid.UUID) -> Video:
    """Any user's video by its id alone: for jobs and operator commands, never for a request."""
    with db.transaction() as conn:
        row = conn.execute("SELECT * FROM videos WHERE id = %s", (video_id,)).fetchone()
    if row is None:
        raise NotFound("video", video_id)
    return Video.from_row(row)


def delete_video(
    db: Database, store: BlobStore, user_id: uuid.UUID, video_id: uuid.UUID, *, trashed_for: timedelta | None = None
) -> None:
    """Delete a video with its scenes, vectors, jobs and faces, then its blobs (the original, its proxy, every run);
    with ``trashed_for``, only a video in the Trash at least that long (:class:`NotFound` otherwise).

    Rows go first, in one transaction: a crash after it leaves at most unreferenced
    blobs, never rows that point at missing files; blobs the store refuses now are
    deleted later (:mod:`heimdex.library.orphans`).
    """
    with db.transaction() as conn:
        row = conn.execute(
            """DELETE FROM videos WHERE id = %s AND user_id = %s
                 AND (%s::interval IS NULL OR trashed_at <= now() - %s::interval)
               RETURNING blob_key, sha256""",
            (video_id, user_id, trashed_for, trashed_for),
        ).fetchone()
        if row is not None:
            refresh(conn, user_id)  # people suggested only from this video go too
    if row is None:
        raise NotFound("video", video_id)
    delete_blobs(db, store, [row["blob_key"], video_prefix(user_id, video_id)])
