"""Recovery: jobs whose worker died, and queued jobs the queue forgot, are put back in line.

A running job writes a heartbeat every two seconds; one silent for
``HEIMDEX_JOB_STALE_S`` lost its worker (killed, out of memory, machine gone). It is
queued again (and its video with it) until its attempts are spent, then failed with
that reason, so no video stays ``processing`` forever. A queued job whose queue entry
is gone (Redis restarted empty, the app restarted with the in-process executor) is
submitted again. A job cancelled while its worker was gone ends as cancelled and its
video returns to what it was. The upkeep loop of every worker and of the app runs this
every few seconds.
"""

from __future__ import annotations

import logging

from heimdex import states
from heimdex.config import Settings
from heimdex.db import Database
from heimdex.jobs.queue import JobQueue, submit
from heimdex.jobs.rows import stale_jobs
from heimdex.telemetry import metrics

log = logging.getLogger(__name__)


def recover(db: Database, queue: JobQueue, settings: Settings) -> list[int]:
    """Requeue or fail abandoned jobs; resubmit forgotten queued ones. Returns the job ids touched."""
    touched: list[int] = []
    for job in stale_jobs(db, settings.job_stale_s):
        try:
            with db.transaction() as conn:
                if job.cancel_requested:  # cancelled while its worker was gone: nothing is left to stop
                    states.cancel(conn, job.id)
                    touched.append(job.id)
                    continue
                if job.state == states.JobState.QUEUED:
                    if queue.holds(job.queue_id):
                        continue
                    log.warning("job %s was queued but the queue lost it: submitting it again", job.id)
                elif job.attempts > settings.job_retries:
                    states.give_up(
                        conn,
                        job.id,
                        f"Indexing stopped {job.attempts} times without finishing "
                        "(its worker kept dying); try again later.",
                    )
                    touched.append(job.id)
                    continue
                else:
                    log.warning("job %s stopped beating (worker %s): queueing it again", job.id, job.worker)
                    metrics.worker_lost()
                    states.requeue(conn, job.id, f"its worker stopped during attempt {job.attempts}")
                duration = conn.execute(  # a video in the Trash has no jobs; never submit one for it
                    "SELECT duration_s FROM videos WHERE id = %s AND trashed_at IS NULL", (job.video_id,)
                ).fetchone()
        except states.WrongState:
            continue  # it moved on since it was read (finished, cancelled, its video deleted)
        if duration:
            submit(db, job.id, duration["duration_s"], queue=queue)
            touched.append(job.id)
    return touched
