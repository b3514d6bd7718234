"""Where job ids wait for a worker: RQ on Redis when ``REDIS_URL`` is set, else an in-process executor.

Both run the same function, :func:`heimdex.jobs.runner.run_job`, with the job row's id.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import uuid
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from typing import Protocol

from heimdex import states
from heimdex.config import Settings, get_settings
from heimdex.db import Database, one
from heimdex.jobs.rows import latest_job, set_queue_id
from heimdex.telemetry import logs

log = logging.getLogger(__name__)

QUEUE_NAME = "heimdex"
TASK = "heimdex.jobs.runner.run_job"


def job_timeout_s(duration_s: float) -> int:
    """How long a job may run: two minutes plus three seconds per second of video."""
    return int(120 + 3 * duration_s)


class JobQueue(Protocol):
    def submit(self, job_id: int, timeout_s: int, delay_s: float = 0.0) -> str | None:
        """Hand a job to the workers (after ``delay_s``); return the queue's id for it."""
        ...

    def holds(self, queue_id: str | None) -> bool:
        """Whether the queue still has this job waiting or running."""
        ...


class RqQueue:
    """Jobs on the RQ queue ``heimdex``; any number of ``worker.py`` processes take them."""

    def __init__(self, redis_url: str):
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url, socket_connect_timeout=5, health_check_interval=10)  # pyright: ignore[reportUnknownMemberType] (redis and rq leave some parameters untyped)
        self.queue = Queue(QUEUE_NAME, connection=self.redis)

    def submit(self, job_id: int, timeout_s: int, delay_s: float = 0.0) -> str:
        queue_id = f"heimdex-job-{job_id}-{uuid.uuid4().hex[:8]}"
        options = {"job_id": queue_id, "job_timeout": timeout_s, "result_ttl": 3600, "failure_ttl": 7 * 86400}
        if delay_s > 0:
            self.queue.enqueue_in(timedelta(seconds=delay_s), TASK, job_id, **options)  # pyright: ignore[reportUnknownMemberType] (redis and rq leave some parameters untyped)
        else:
            self.queue.enqueue(TASK, job_id, **options)  # pyright: ignore[reportUnknownMemberType] (redis and rq leave some parameters untyped)
        return queue_id

    def holds(self, queue_id: str | None) -> bool:
        from rq.job import Job, JobStatus

        if not queue_id:
            return False
        try:
            status = Job.fetch(queue_id, connection=self.redis).get_status(refresh=True)  # pyright: ignore[reportUnknownMemberType] (redis and rq leave some parameters untyped)
        except Exception:  # gone (Redis lost it, or it expired)
            return False
        return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


class LocalQueue:
    """Jobs in child processes of this one, at a lower CPU priority: the app indexes on its own when
    there is no Redis, and its searches keep the processor first. The children live as long as the
    pool and keep their models loaded between jobs; each ends when this process does (:meth:`close`
    on a clean stop, a watch on its parent otherwise). A child that dies is replaced; its job's
    silent heartbeat brings it back through recovery."""

    def __init__(self, workers: int = 1, nice: int = 19, threads: bool = False):
        self._workers, self._nice, self._threads = workers, nice, threads
        self._executor = self._pool()
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def _pool(self) -> Executor:
        if self._threads:  # a ZeroGPU Space: the GPU is lent only to calls from the app's own process
            return ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="job")
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_child_start,
            initargs=(self._nice, os.getpid()),
        )

    def submit(self, job_id: int, timeout_s: int, delay_s: float = 0.0) -> str:
        queue_id = f"local-{job_id}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            self._held.add(queue_id)
        if delay_s > 0:
            timer = threading.Timer(delay_s, self._start, args=(queue_id, job_id))
            timer.daemon = True
            timer.start()
        else:
            self._start(queue_id, job_id)
        return queue_id

    def _start(self, queue_id: str, job_id: int) -> None:
        with self._lock:
            try:
                future = self._executor.submit(_run_in_child, job_id)
            except BrokenProcessPool:  # a child died (killed, out of memory): start a fresh pool
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._pool()
                future = self._executor.submit(_run_in_child, job_id)
        future.add_done_callback(lambda done: self._ended(queue_id, job_id, done))

    def _ended(self, queue_id: str, job_id: int, done: Future[str]) -> None:
        with self._lock:
            self._held.discard(queue_id)
        if not done.cancelled() and done.exception() is not None:  # the row says what happened to the job
            log.error("job %s ended with an error", job_id, exc_info=done.exception())

    def holds(self, queue_id: str | None) -> bool:
        with self._lock:
            return queue_id in self._held

    def close(self) -> None:
        """Stop the children now, a running job with them (its heartbeat stops; the next start recovers it). A job in
        a thread is left to the process's end."""
        with self._lock:
            executor = self._executor
            children: dict[int, multiprocessing.Process] = getattr(executor, "_processes", None) or {}
            for process in list(children.values()):
                process.kill()
        executor.shutdown(wait=not self._threads, cancel_futures=True)


def _child_start(nice: int, parent: int) -> None:
    """In each child: run below the app's priority, log like it, and end when the app has gone."""
    os.nice(nice)
    logs.configure(get_settings())
    threading.Thread(target=_end_with, args=(parent,), name="parent-watch", daemon=True).start()


def _end_with(parent: int) -> None:
    """Exit at once when the parent is gone (killed, so it could not stop this child)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    from heimdex.db.embedded import release

    release()  # hand back the embedded database (stopping it if this was its last user)
    os._exit(0)


def _run_in_child(job_id: int) -> str:
    """The task by its name, as RQ finds it (the queue carries names, never the code it runs)."""
    import importlib

    module, _, function = TASK.rpartition(".")
    return getattr(importlib.import_module(module), function)(job_id)


class DeferredQueue:
    """No queue at hand (a CLI without Redis): the job waits in its row until a process with a queue recovers it."""

    def submit(self, job_id: int, timeout_s: int, delay_s: float = 0.0) -> None:
        return None

    def holds(self, queue_id: str | None) -> bool:
        return False


_queue: JobQueue | None = None
_queue_lock = threading.Lock()


def get_queue(settings: Settings | None = None) -> JobQueue:
    """The process-wide queue for the configured mode."""
    global _queue
    with _queue_lock:
        if _queue is None:
            settings = settings or get_settings()
            _queue = (
                RqQueue(settings.redis_url)
                if settings.redis_url
                else LocalQueue(settings.job_concurrency, settings.job_nice, settings.job_threads)
            )
        return _queue


def reset_queue() -> None:
    """Forget the process-wide queue, stopping its child processes (tests switch between modes; the app stops)."""
    global _queue
    with _queue_lock:
        if isinstance(_queue, LocalQueue):
            _queue.close()
        _queue = None


def enqueue(db: Database, video_id: uuid.UUID, queue: JobQueue | None = None) -> int:
    """Queue the indexing of a video; a video already queued or running keeps its job. Returns the job id."""
    current = latest_job(db, video_id)
    if current is not None and current.active:
        return current.id
    with db.transaction() as conn:
        job_id = states.queue(conn, video_id)
        duration = one(conn.execute("SELECT duration_s FROM videos WHERE id = %s", (video_id,)).fetchone())[
            "duration_s"
        ]
    submit(db, job_id, duration, queue=queue)
    return job_id


def submit(db: Database, job_id: int, duration_s: float, delay_s: float = 0.0, queue: JobQueue | None = None) -> None:
    """Hand an existing queued job row to the queue and remember the queue's id for it."""
    queue = queue or get_queue()
    queue_id = queue.submit(job_id, job_timeout_s(duration_s), delay_s)
    if queue_id:
        set_queue_id(db, job_id, queue_id)
