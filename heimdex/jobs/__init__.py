"""Indexing jobs: rows in Postgres (the truth), a queue that carries their ids, a runner that runs them.

    enqueue(video) ─► states.queue: jobs row (queued) ─► RQ queue "heimdex" (or the in-process children)
                  ─► runner.run_job(job id) in a worker: claim, heartbeat, pipeline.index_video, commit
                  ─► states.mark_indexed / fail / cancel / requeue

Imports go one way: jobs → pipeline → stores; the pipeline never sees a job.
"""

from heimdex.jobs.rows import Job, beat, get_job, latest_job, report_progress

__all__ = ["Job", "resume", "beat", "get_job", "latest_job", "report_progress"]


def resume() -> list[int]:
    """At start-up: give every queued job, and every job whose worker died, back to this process's queue."""
    from heimdex.config import get_settings
    from heimdex.db import get_database
    from heimdex.jobs.queue import get_queue
    from heimdex.jobs.recovery import recover

    return recover(get_database(), get_queue(), get_settings())
