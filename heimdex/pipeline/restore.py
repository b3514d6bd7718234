"""The committed index as a document: export it, or rebuild a video's rows from it without a model."""

from __future__ import annotations

import time
import uuid

from heimdex.db import Database
from heimdex.errors import BadInput
from heimdex.jobs import latest_job
from heimdex.pipeline.commit import commit_index, read_sidecar, sidecar_key
from heimdex.pipeline.run import IndexReport
from heimdex.storage import BlobStore
from heimdex.videos import Video, get_video, owner_of


def _indexed_video(db: Database, video_id: uuid.UUID) -> Video:
    video = get_video(db, owner_of(db, video_id), video_id)
    if not video.index_run:
        raise BadInput("not_indexed", f"Video {video_id} has no index yet; index it first.")
    return video


def current_index(db: Database, store: BlobStore, video_id: uuid.UUID) -> IndexReport:
    """The committed index of a video, read from its sidecar."""
    video = _indexed_video(db, video_id)
    job = latest_job(db, video.id)
    return IndexReport(video, read_sidecar(store, video.user_id, video.id, video.index_run), job.id if job else 0, {})


def export_index(db: Database, store: BlobStore, video_id: uuid.UUID) -> bytes:
    """The sidecar JSON of a video's committed index."""
    video = _indexed_video(db, video_id)
    with store.open(sidecar_key(video.user_id, video.id, video.index_run)) as blob:
        return blob.read()


def restore_index(db: Database, store: BlobStore, video_id: uuid.UUID) -> IndexReport:
    """Rewrite the video's shots, scenes and vectors from its sidecar (one transaction, no model run)."""
    video = _indexed_video(db, video_id)
    started = time.perf_counter()
    index = read_sidecar(store, video.user_id, video.id, video.index_run)
    commit_index(db, video.id, index)
    seconds = round(time.perf_counter() - started, 3)
    job = latest_job(db, video.id)
    return IndexReport(get_video(db, video.user_id, video.id), index, job.id if job else 0, {"commit": seconds, "total": seconds})
