"""The runner: a job around one pipeline run, and what the run's ending means for the job.

It claims the job (:func:`heimdex.states.claim`), beats its heart while the pipeline runs
(a cancel or a deleted video sets the run's stop flag), commits the index and marks the
job and the video in one transaction, and otherwise records the failure or the
cancellation. Queued jobs (:func:`run_job`) also decide what comes next:

- success, cancellation, or a permanent failure (bad media, a bug): the job ends;
- a transient failure (the database or Redis went away, memory ran out in a model):
  the job goes back in the queue after a growing pause, until ``HEIMDEX_JOB_RETRIES``
  attempts are spent;
- another run already holds the video, or the job is no longer queued: nothing happens.

Running a job twice gives one index: the commit replaces a video's index atomically.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import replace

import psycopg

from heimdex import states
from heimdex.config import Settings, get_settings
from heimdex.db import Conn, Database, get_database
from heimdex.errors import NotFound
from heimdex.jobs.queue import submit
from heimdex.jobs.rows import beat, get_job, latest_job, report_progress
from heimdex.library.orphans import delete_blobs
from heimdex.library.videos import load_video
from heimdex.models.registry import Registry
from heimdex.pipeline import Cancelled, Events, IndexReport, StageFailed, failure, index_video
from heimdex.pipeline.commit import commit_index
from heimdex.storage import BlobStore, get_blob_store, run_prefix
from heimdex.telemetry import logs, metrics

log = logging.getLogger(__name__)

BACKOFF_S = (5.0, 20.0, 60.0, 180.0)
HEARTBEAT_S = 2.0  # how often a run reports it is alive and learns whether to stop


class JobEvents:
    """A run's events for a job: progress goes to the job row (and to ``watch``, a caller's own events); the run
    stops when the heartbeat sets the stop flag (or ``watch`` asks it to)."""

    def __init__(self, db: Database, job_id: int, watch: Events | None = None):
        self.db, self.job_id, self.watch = db, job_id, watch
        self.stop = threading.Event()

    def progress(self, stage: str, fraction: float) -> None:
        report_progress(self.db, self.job_id, stage, fraction)
        if self.watch:
            self.watch.progress(stage, fraction)

    def stop_requested(self) -> bool:
        return self.stop.is_set() or bool(self.watch and self.watch.stop_requested())


def is_transient(exc: BaseException | None) -> bool:
    """Whether trying again later may succeed."""
    import redis.exceptions

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:  # a chain may loop (an error raised from itself)
        seen.add(id(exc))
        if isinstance(
            exc,
            (
                psycopg.OperationalError,
                psycopg.InterfaceError,
                redis.exceptions.ConnectionError,
                redis.exceptions.TimeoutError,
                MemoryError,
                ConnectionError,
            ),
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def index_now(
    db: Database,
    store: BlobStore,
    video_id: uuid.UUID,
    *,
    watch: Events | None = None,
    registry: Registry | None = None,
    settings: Settings | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> IndexReport:
    """Index a video here and now, as a job of its own (the CLI's ``index``, tests, benchmarks).

    Raises :class:`~heimdex.pipeline.StageFailed` (the video says why), :class:`~heimdex.pipeline.Cancelled`,
    or :class:`~heimdex.states.Busy` when another live run holds the video.
    """
    current = latest_job(db, video_id)
    if current is not None and current.state == states.JobState.RUNNING:
        raise states.Busy()
    if current is not None and current.state == states.JobState.QUEUED:
        job_id = current.id  # waiting for a worker (queued without one): run it here
    else:
        with db.transaction() as conn:
            job_id = states.queue(conn, video_id)
    try:
        return run(db, store, job_id, watch=watch, registry=registry, settings=settings, on_stage=on_stage)
    except states.Busy:
        _record(db, job_id, lambda conn: states.supersede(conn, job_id))
        raise


def run(
    db: Database,
    store: BlobStore,
    job_id: int,
    *,
    watch: Events | None = None,
    registry: Registry | None = None,
    settings: Settings | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> IndexReport:
    """Claim a queued job, run the pipeline under its heartbeat, and commit; record how it ended."""
    settings = settings or get_settings()
    started = time.perf_counter()
    with db.transaction() as conn:
        video_id = states.claim(conn, job_id, f"{socket.gethostname()}:{os.getpid()}", settings.job_stale_s)
    events = JobEvents(db, job_id, watch)
    try:
        with _heartbeat(db, job_id, events.stop):
            report = index_video(
                db, store, load_video(db, video_id), events, registry=registry, settings=settings, on_stage=on_stage
            )
            if events.stop_requested():
                store.delete_prefix(run_prefix(report.video.user_id, video_id, report.index.run))
                raise Cancelled("The job was cancelled.")
            committed = time.perf_counter()
            previous = _commit(db, store, job_id, report, on_stage)
            commit_s = round(time.perf_counter() - committed, 3)
    except Cancelled:
        _record(db, job_id, lambda conn: states.cancel(conn, job_id))
        raise
    except StageFailed as failed:
        if _told_to_stop(db, job_id):  # cancelled or its video deleted meanwhile: the stop is what happened
            _record(db, job_id, lambda conn: states.cancel(conn, job_id))
            raise Cancelled("The job was cancelled.") from failed
        stage, code, message = failed.stage, failed.code, failed.message
        logs.event(log, "stage", logging.WARNING, job_id=job_id, video_id=str(video_id), stage=stage, outcome=code)
        _record(db, job_id, lambda conn: states.fail(conn, job_id, stage, code, message))
        raise
    if previous and previous != report.index.run:  # through the orphans: a running backup may still copy it
        delete_blobs(db, store, [run_prefix(report.video.user_id, video_id, previous)])
    timings = {**report.timings_s, "commit": commit_s, "total": round(time.perf_counter() - started, 3)}
    for stage, seconds in timings.items():
        if stage != "total":
            logs.event(
                log,
                "stage",
                job_id=job_id,
                video_id=str(video_id),
                user_id=str(report.video.user_id),
                stage=stage,
                duration_ms=round(1000 * seconds),
                outcome="ok",
            )
    metrics.indexed(timings, report.video.duration_s)
    return replace(report, video=load_video(db, video_id), timings_s=timings)


def _commit(
    db: Database, store: BlobStore, job_id: int, report: IndexReport, on_stage: Callable[[str], None] | None
) -> str | None:
    """Make the run's index the video's, and mark the job and the video, in one transaction; return the replaced run."""
    try:
        if on_stage:
            on_stage("commit")
        with db.transaction() as conn:
            previous = commit_index(conn, report.video.id, report.index)
            states.mark_indexed(conn, job_id, report.index.run, report.index.language)
    except BaseException as exc:
        store.delete_prefix(run_prefix(report.video.user_id, report.video.id, report.index.run))
        if isinstance(exc, states.WrongState):  # cancelled, or given up on, while it ran
            raise Cancelled("The job was cancelled.") from exc
        raise failure("commit", exc) from exc
    return previous


def _told_to_stop(db: Database, job_id: int) -> bool:
    """Whether the job row asks the run to stop (or is gone); False when the database cannot say."""
    try:
        return not beat(db, job_id)
    except Exception:
        return False


def _record(db: Database, job_id: int, transition: Callable[[Conn], object]) -> None:
    """Best effort: with the database away the rows stay as they are, and recovery finds the job by its silent heartbeat."""
    try:
        with db.transaction() as conn:
            transition(conn)
    except states.WrongState:
        pass  # the job ended elsewhere meanwhile (its video deleted, or recovery gave up on it)
    except Exception as exc:
        log.warning("could not record the end of job %s: %s", job_id, exc)


@contextmanager
def _heartbeat(db: Database, job_id: int, stop: threading.Event) -> Generator[None]:
    """Tell the job row the run is alive every few seconds; set ``stop`` when the row says so (or is gone)."""
    done = threading.Event()

    def beating() -> None:
        while not done.wait(HEARTBEAT_S):
            try:
                if not beat(db, job_id):
                    stop.set()
            except Exception as exc:  # the database is away: the run finds out on its own
                log.warning("heartbeat of job %s failed: %s", job_id, exc)

    heart = threading.Thread(target=beating, name="heartbeat", daemon=True)
    heart.start()
    try:
        yield
    finally:
        done.set()
        heart.join()


def run_job(job_id: int) -> str:
    """Run one queued job row; return how it ended: succeeded, failed, retrying, cancelled or skipped."""
    started = time.perf_counter()
    outcome = "error"
    try:
        outcome = _run_job(job_id)
        return outcome
    finally:
        took = time.perf_counter() - started
        logs.event(log, "job", job_id=job_id, duration_ms=round(1000 * took), outcome=outcome)
        metrics.job_ended(outcome, took)


def _run_job(job_id: int) -> str:
    settings = get_settings()
    db = get_database()
    try:
        job = get_job(db, job_id)
    except NotFound:
        return "skipped"  # its video was deleted
    if job.state == states.JobState.QUEUED and job.cancel_requested:  # cancelled while it waited for another try
        _record(db, job_id, lambda conn: states.cancel(conn, job_id))
        return "cancelled"
    if job.state != states.JobState.QUEUED:
        return "skipped"
    try:
        run(db, get_blob_store(settings), job_id, settings=settings)
        return "succeeded"
    except Cancelled:
        return "cancelled"
    except NotFound:
        return "skipped"
    except StageFailed as failed:
        if not is_transient(failed.__cause__):
            return "failed"
        return _retry(db, job_id, failed.message, settings.job_retries)
    except states.Busy:  # another job is indexing this video now: this one is not needed
        _record(db, job_id, lambda conn: states.supersede(conn, job_id))
        return "skipped"
    except states.NotQueued:  # it ran elsewhere, was cancelled, or its video no longer waits for it
        _record(db, job_id, lambda conn: states.supersede(conn, job_id))  # ends it if it is still queued
        return "skipped"
    except Exception as exc:
        if is_transient(exc):  # failed before the run could record anything (the database was away)
            return _retry(db, job_id, str(exc), settings.job_retries)
        raise


def _retry(db: Database, job_id: int, reason: str, retries: int) -> str:
    job = get_job(db, job_id)
    if job.attempts > retries:
        log.warning("job %s failed after %s attempts: %s", job_id, job.attempts, reason)
        return "failed"
    delay = BACKOFF_S[min(job.attempts, len(BACKOFF_S)) - 1]
    with db.transaction() as conn:
        states.requeue(conn, job_id, f"attempt {job.attempts} failed, retrying in {delay:.0f} s: {reason}")
    submit(db, job_id, load_video(db, job.video_id).duration_s, delay_s=delay)
    log.warning("job %s will retry in %.0f s: %s", job_id, delay, reason)
    return "retrying"
