"""Indexing jobs: rows in Postgres (the truth), a queue that carries their ids, a task that runs them.

    enqueue(video) ─► jobs row (queued) ─► RQ queue "heimdex" (or the in-process executor)
                  ─► task.run_job(job id) in a worker ─► pipeline ─► jobs row (succeeded/failed/cancelled)
"""

from heimdex.jobs.rows import (
    Job,
    beat,
    create_job,
    finish_job,
    get_job,
    latest_job,
    report_progress,
    request_cancel,
    start_job,
)

__all__ = ["Job", "resume", "beat", "create_job", "finish_job", "get_job", "latest_job", "report_progress", "request_cancel", "start_job"]


def resume() -> list[int]:
    """At start-up: give every queued job, and every job whose worker died, back to this process's queue."""
    from heimdex.config import get_settings
    from heimdex.db import get_database
    from heimdex.jobs.queue import get_queue
    from heimdex.jobs.recovery import recover

    return recover(get_database(), get_queue(), get_settings())
