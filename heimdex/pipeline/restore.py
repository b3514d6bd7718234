"""The committed index as a document: export it, or rebuild a video's rows from it without a model."""

from __future__ import annotations

import time

from heimdex.db import Database
from heimdex.errors import BadInput, Kind
from heimdex.library.videos import Video, get_video
from heimdex.pipeline.commit import commit_index, read_sidecar, sidecar_key
from heimdex.pipeline.run import IndexReport
from heimdex.storage import BlobStore


def _indexed(video: Video) -> str:
    if not video.index_run:
        raise BadInput("not_indexed", f"Video {video.id} has no index yet; index it first.", Kind.CONFLICT)
    return video.index_run


def current_index(store: BlobStore, video: Video) -> IndexReport:
    """The committed index of a video, read from its sidecar."""
    return IndexReport(video, read_sidecar(store, video.user_id, video.id, _indexed(video)), {})


def export_index(store: BlobStore, video: Video) -> bytes:
    """The sidecar JSON of a video's committed index."""
    with store.open(sidecar_key(video.user_id, video.id, _indexed(video))) as blob:
        return blob.read()


def restore_index(db: Database, store: BlobStore, video: Video) -> IndexReport:
    """Rewrite the video's shots, scenes and vectors from its sidecar (one transaction, no model run)."""
    started = time.perf_counter()
    index = read_sidecar(store, video.user_id, video.id, _indexed(video))
    with db.transaction() as conn:
        commit_index(conn, video.id, index)
    seconds = round(time.perf_counter() - started, 3)
    return IndexReport(get_video(db, video.user_id, video.id), index, {"commit": seconds, "total": seconds})
