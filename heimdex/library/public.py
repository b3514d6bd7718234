"""Public clips: a moment of a video its owner lets anyone with the link watch, until they turn it off.

The link is ``/p/<token>``: the clip's id and an HMAC of it under the app's secret, so the
database holds no credential, and a guessed or altered token matches nothing. The clip is
cut once, when its link is made, into a blob under the video's prefix; only that blob is
ever served, never the rest of the video. Turning the link off deletes the row and the blob;
deleting the video (to the Trash) or the account deletes both too (rows, and the video's prefix).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import LiteralString

from psycopg import errors

from heimdex.db import Database
from heimdex.errors import BadInput, NotFound
from heimdex.library.clips import clip_range, cut_video
from heimdex.library.media import format_bytes
from heimdex.library.orphans import delete_blobs
from heimdex.library.quotas import QuotaExceeded, check_links, hit
from heimdex.library.videos import Video
from heimdex.storage import BlobStore, video_prefix

MAX_BYTES_PER_USER = 1 << 30  # the clips of a user's links on at once, together (a clip is at most ~30 MB)
TOKEN = re.compile(r"^[0-9a-f]{64}$")
ROUTE = "/p/"


@dataclass(frozen=True)
class PublicClip:
    id: uuid.UUID
    user_id: uuid.UUID
    video_id: uuid.UUID
    title: str  # the video's, as its owner calls it now
    start_s: float
    end_s: float
    blob_key: str
    created_at: datetime

    def url(self, secret: bytes) -> str:
        """The link's path: anyone holding it can watch the clip."""
        return f"{ROUTE}{token_of(secret, self.id)}"

    def as_dict(self, secret: bytes) -> dict:
        return {
            "clip_id": str(self.id),
            "video_id": str(self.video_id),
            "title": self.title,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "url": self.url(secret),
            "created_at": self.created_at.isoformat(),
        }


def token_of(secret: bytes, clip_id: uuid.UUID) -> str:
    """The clip's id and its signature, 64 hex digits."""
    return clip_id.hex + hmac.new(secret, b"public-clip:" + clip_id.bytes, hashlib.sha256).hexdigest()[:32]


def _clip_id(secret: bytes, token: str) -> uuid.UUID | None:
    if not isinstance(token, str) or not TOKEN.match(token):
        return None
    clip_id = uuid.UUID(token[:32])
    return clip_id if hmac.compare_digest(token_of(secret, clip_id), token) else None


_SELECT = (
    "SELECT c.id, c.user_id, c.video_id, v.title, c.start_s, c.end_s, c.blob_key, c.created_at"
    " FROM public_clips c JOIN videos v ON v.id = c.video_id AND v.user_id = c.user_id"
    " AND v.trashed_at IS NULL WHERE "  # a video in the Trash has no links; one made meanwhile opens nothing
)


def _clips(db: Database, where: LiteralString, params: tuple) -> list[PublicClip]:
    with db.transaction() as conn:
        return [PublicClip(**row) for row in conn.execute(_SELECT + where, params).fetchall()]


def opened(db: Database, secret: bytes, token: str) -> PublicClip | None:
    """The clip a public link shows; ``None`` for a guessed, altered or turned-off link."""
    clip_id = _clip_id(secret, token)
    found = _clips(db, "c.id = %s", (clip_id,)) if clip_id else []
    return found[0] if found else None


def listed(db: Database, user_id: uuid.UUID) -> list[PublicClip]:
    """The user's public clips, newest first."""
    return _clips(db, "c.user_id = %s ORDER BY c.created_at DESC, c.id", (user_id,))


def _range(video: Video, start_s: float, end_s: float) -> tuple[float, float]:
    """The clip's range as kept: in hundredths of a second, rounded down (so within the video)."""
    start_s, end_s = (math.floor(t * 100 + 1e-6) / 100 for t in clip_range(video, start_s, end_s))
    if end_s <= start_s:
        raise BadInput("bad_range", "The clip needs a start before its end.")
    return start_s, end_s


def find(db: Database, video: Video, start_s: float, end_s: float) -> PublicClip | None:
    """The video's public clip of ``start_s``..``end_s`` (the range as :func:`publish` keeps it), if its link is on."""
    start_s, end_s = _range(video, start_s, end_s)
    found = _clips(
        db,
        "c.user_id = %s AND c.video_id = %s AND c.start_s = %s AND c.end_s = %s",
        (video.user_id, video.id, start_s, end_s),
    )
    return found[0] if found else None


def publish(db: Database, store: BlobStore, tmp_dir: Path, video: Video, start_s: float, end_s: float) -> PublicClip:
    """Let anyone with the link watch ``start_s``..``end_s`` of the video (the same range again: the same link)."""
    known = find(db, video, start_s, end_s)
    if known:
        return known
    start_s, end_s = _range(video, start_s, end_s)
    with db.transaction() as conn:  # before cutting; again where the link is added, which holds when links race
        check_links(conn, video.user_id)
    hit(db, "clip", str(video.user_id), video.user_id)  # each clip is encoded anew
    clip_id = uuid.uuid4()
    key = f"{video_prefix(video.user_id, video.id)}public/{clip_id}.mp4"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_dir, prefix="public-") as work:
        cut = cut_video(store, tmp_dir, video, start_s, end_s, Path(work) / "clip.mp4")
        size = cut.stat().st_size
        with db.transaction() as conn:
            held = conn.execute(
                "SELECT coalesce(sum(bytes), 0)::bigint AS n FROM public_clips WHERE user_id = %s", (video.user_id,)
            ).fetchone()
        if held and held["n"] + size > MAX_BYTES_PER_USER:
            raise BadInput(
                "too_many_bytes",
                f"Your public links hold {format_bytes(held['n'])} of clips, and they may hold "
                f"{format_bytes(MAX_BYTES_PER_USER)}; turn one off first.",
            )
        with cut.open("rb") as clip:
            store.put(key, clip)
    try:
        with db.transaction() as conn:
            check_links(conn, video.user_id)  # the user's plan's number of links on at once
            conn.execute(
                "INSERT INTO public_clips (id, user_id, video_id, start_s, end_s, blob_key, bytes)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (video_id, start_s, end_s) DO NOTHING",
                (clip_id, video.user_id, video.id, start_s, end_s, key, size),
            )
    except errors.ForeignKeyViolation:  # the video was deleted meanwhile
        delete_blobs(db, store, [key])
        raise NotFound("video", video.id) from None
    except QuotaExceeded:  # other links were turned on meanwhile
        delete_blobs(db, store, [key])
        raise
    made = find(db, video, start_s, end_s)
    if made is None or made.id != clip_id:  # deleted meanwhile, or the same range published meanwhile: that one
        delete_blobs(db, store, [key])
    if made is None:  # its video went to the Trash meanwhile: the row goes too, lest a restore show it
        with db.transaction() as conn:
            conn.execute("DELETE FROM public_clips WHERE id = %s", (clip_id,))
        raise NotFound("video", video.id)
    return made


def unpublish(db: Database, store: BlobStore, user_id: uuid.UUID, clip_id: uuid.UUID) -> None:
    """Turn the user's public link off: its page and its clip are gone at once."""
    with db.transaction() as conn:
        row = conn.execute(
            "DELETE FROM public_clips WHERE id = %s AND user_id = %s RETURNING blob_key", (clip_id, user_id)
        ).fetchone()
    if row is None:
        raise BadInput("link_not_found", "This public link is not on (it was turned off, or is not yours).")
    delete_blobs(db, store, [row["blob_key"]])
