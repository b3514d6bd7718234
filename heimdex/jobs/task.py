"""The job a worker runs: index one video, then decide what its ending means.

- success, cancellation, or a permanent failure (bad media, a bug): the job ends;
- a transient failure (the database or Redis went away, memory ran out in a model):
  the job goes back in the queue after a growing pause, until ``HEIMDEX_JOB_RETRIES``
  attempts are spent;
- another run already holds the video, or the job is no longer queued: nothing happens.

Running a job twice gives one index: the pipeline replaces a video's index atomically.
"""

from __future__ import annotations

import logging

import psycopg

from heimdex.config import get_settings
from heimdex.db import get_database
from heimdex.errors import BadInput, NotFound
from heimdex.jobs.queue import submit
from heimdex.jobs.rows import cancel_job, end_job, get_job, requeue_job
from heimdex.pipeline import IndexingFailed, JobCancelled, index_video
from heimdex.storage import get_blob_store
from heimdex.videos import get_video, owner_of

log = logging.getLogger(__name__)

BACKOFF_S = (5.0, 20.0, 60.0, 180.0)


def is_transient(exc: BaseException | None) -> bool:
    """Whether trying again later may succeed."""
    import redis

    while exc is not None:
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError, redis.exceptions.ConnectionError,
                            redis.exceptions.TimeoutError, MemoryError, ConnectionError)):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def run_job(job_id: int) -> str:
    """Run one job row; return how it ended: succeeded, failed, retrying, cancelled or skipped."""
    settings = get_settings()
    db = get_database()
    try:
        job = get_job(db, job_id)
    except NotFound:
        return "skipped"  # its video was deleted
    if job.state == "queued" and job.cancel_requested:  # cancelled while it waited for another try
        cancel_job(db, job_id)
        return "cancelled"
    if job.state != "queued":
        return "skipped"
    try:
        index_video(db, get_blob_store(settings), job.video_id, job_id=job_id)
        return "succeeded"
    except JobCancelled:
        return "cancelled"
    except NotFound:
        return "skipped"
    except IndexingFailed as failed:
        if not is_transient(failed.__cause__):
            return "failed"
        return _retry(db, job_id, failed.message, settings.job_retries)
    except BadInput as refused:
        if refused.code == "busy":  # another job is indexing this video now: this one is not needed
            end_job(db, job_id, "cancelled", "superseded: another job was indexing this video")
            return "skipped"
        if refused.code == "not_queued":  # this job ran elsewhere, or was cancelled meanwhile
            return "skipped"
        raise
    except Exception as exc:
        if is_transient(exc):  # failed before the run could record anything (the database was away)
            return _retry(db, job_id, str(exc), settings.job_retries)
        raise


def _retry(db, job_id: int, reason: str, retries: int) -> str:
    job = get_job(db, job_id)
    if job.attempts > retries:
        log.warning("job %s failed after %s attempts: %s", job_id, job.attempts, reason)
        return "failed"
    delay = BACKOFF_S[min(job.attempts, len(BACKOFF_S)) - 1]
    requeue_job(db, job_id, f"attempt {job.attempts} failed, retrying in {delay:.0f} s: {reason}")
    video = get_video(db, owner_of(db, job.video_id), job.video_id)
    submit(db, job_id, video.duration_s, delay_s=delay)
    log.warning("job %s will retry in %.0f s: %s", job_id, delay, reason)
    return "retrying"
