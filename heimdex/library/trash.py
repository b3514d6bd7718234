"""The Trash: a deleted video waits here :data:`KEEP_DAYS` days, restorable, then goes for good.

A video in the Trash keeps only its row and its uploaded file. Everything derived from it goes at
once, so nothing of it can be searched, played or seen anywhere: its scenes (with their vectors,
faces, face tracks and the people seen in them), shots, the reference faces copied from it, its
jobs, its public links, and its blobs (the browser-playable copy, every run's keyframes and
sidecar, the public clips). Every read of a user's videos but this module's leaves it out
(:func:`heimdex.library.videos.get_video`). A restored video is an uploaded video again, indexed
anew; the same file uploaded again restores it too (:mod:`heimdex.library.ingest`). The upkeep loop
empties the Trash of what has waited :data:`KEEP_DAYS` days (:func:`empty_trash`). Until then a video
in the Trash still counts against its owner's quota (:func:`heimdex.library.quotas.usage`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import LiteralString

from heimdex import states
from heimdex.db import Conn, Database, one
from heimdex.errors import BadInput, Kind, NotFound
from heimdex.library.orphans import delete_blobs
from heimdex.library.people.matching import refresh
from heimdex.library.videos import Video, delete_video
from heimdex.storage import BlobStore, video_prefix

KEEP_DAYS = 30

# What a video in the Trash loses at once, beside its jobs and index (heimdex.states.unindex) and its blobs.
_DERIVED: tuple[LiteralString, ...] = (
    "DELETE FROM scenes WHERE video_id = %s",  # its vectors, faces, face tracks and people seen cascade
    "DELETE FROM shots WHERE video_id = %s",
    "DELETE FROM faces WHERE video_id = %s",  # reference faces copied from its scenes
    "DELETE FROM public_clips WHERE video_id = %s",  # their clips are blobs under the video's prefix
)


class NotInTrash(BadInput):
    def __init__(self) -> None:
        super().__init__("not_in_trash", "This video is not in the Trash.", Kind.CONFLICT)


def emptied_at(video: Video) -> datetime:
    """When a video in the Trash is deleted for good."""
    if video.trashed_at is None:
        raise NotInTrash()
    return video.trashed_at + timedelta(days=KEEP_DAYS)


def trash_video(db: Database, store: BlobStore, user_id: uuid.UUID, video_id: uuid.UUID) -> Video:
    """Move one of the user's videos to the Trash (:class:`NotFound` if it is absent, already there or someone
    else's): everything derived from it is deleted, and it is uploaded again, with no index. A running job of it
    stops at its next heartbeat (its row is gone) and cannot commit (:func:`heimdex.pipeline.commit.commit_index`)."""
    with db.transaction() as conn:
        found = conn.execute(
            "SELECT 1 FROM videos WHERE id = %s AND user_id = %s AND trashed_at IS NULL FOR UPDATE",
            (video_id, user_id),
        ).fetchone()
        if found is None:
            raise NotFound("video", video_id)
        for statement in _DERIVED:
            conn.execute(statement, (video_id,))
        states.unindex(conn, video_id)
        row = conn.execute(
            "UPDATE videos SET trashed_at = now(), proxy_key = NULL WHERE id = %s RETURNING *", (video_id,)
        ).fetchone()
        refresh(conn, user_id)  # people suggested only from this video go too
    delete_blobs(db, store, [video_prefix(user_id, video_id)])  # the original (not under the prefix) stays
    return Video.from_row(one(row))


def _in_trash(conn: Conn, user_id: uuid.UUID, video_id: uuid.UUID) -> Video:
    """The user's video, which must be in the Trash (:class:`NotFound`, :class:`NotInTrash`); its row locked."""
    row = conn.execute("SELECT * FROM videos WHERE id = %s AND user_id = %s FOR UPDATE", (video_id, user_id)).fetchone()
    if row is None:
        raise NotFound("video", video_id)
    if row["trashed_at"] is None:
        raise NotInTrash()
    return Video.from_row(row)


def restore_video(db: Database, user_id: uuid.UUID, video_id: uuid.UUID) -> Video:
    """Take one of the user's videos out of the Trash, as an uploaded video; the caller queues its indexing."""
    with db.transaction() as conn:
        _in_trash(conn, user_id, video_id)
        row = conn.execute(
            "UPDATE videos SET trashed_at = NULL, updated_at = now() WHERE id = %s RETURNING *", (video_id,)
        ).fetchone()
    return Video.from_row(one(row))


def trashed(db: Database, user_id: uuid.UUID) -> list[Video]:
    """The user's videos in the Trash, the last put there first (each goes for good at :func:`emptied_at`)."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT * FROM videos WHERE user_id = %s AND trashed_at IS NOT NULL ORDER BY trashed_at DESC, id",
            (user_id,),
        ).fetchall()
    return [Video.from_row(row) for row in rows]


def delete_forever(db: Database, store: BlobStore, user_id: uuid.UUID, video_id: uuid.UUID) -> None:
    """Delete one of the user's videos in the Trash for good, with its uploaded file."""
    with db.transaction() as conn:
        _in_trash(conn, user_id, video_id)
    delete_video(db, store, user_id, video_id, trashed_for=timedelta(0))  # NotFound if restored meanwhile


def empty_trash(
    db: Database, store: BlobStore, older_than_days: float = KEEP_DAYS, user_id: uuid.UUID | None = None
) -> int:
    """Delete for good every video in the Trash for ``older_than_days`` or longer (of every user, or of
    ``user_id``); return how many went. A video restored meanwhile stays."""
    age = timedelta(days=older_than_days)
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT id, user_id FROM videos
               WHERE trashed_at <= now() - %s AND (%s::uuid IS NULL OR user_id = %s) ORDER BY trashed_at, id""",
            (age, user_id, user_id),
        ).fetchall()
    emptied = 0
    for row in rows:
        try:
            delete_video(db, store, row["user_id"], row["id"], trashed_for=age)
        except NotFound:
            continue  # restored, or emptied elsewhere, meanwhile
        emptied += 1
    return emptied
