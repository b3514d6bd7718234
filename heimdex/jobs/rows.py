"""Job rows: one per indexing request, holding its state, stage and progress for any process to read.

The row is the single source of truth; the queue only carries the job's id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from heimdex.db import Database
from heimdex.errors import NotFound


@dataclass(frozen=True)
class Job:
    id: int
    video_id: uuid.UUID
    state: str
    stage: str | None
    progress: float
    attempts: int
    error: str | None
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    queue_id: str | None
    cancel_requested: bool

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @classmethod
    def from_row(cls, row: dict) -> "Job":
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


def create_job(db: Database, video_id: uuid.UUID) -> int:
    """A queued job for ``video_id``."""
    with db.transaction() as conn:
        return conn.execute("INSERT INTO jobs (video_id) VALUES (%s) RETURNING id", (video_id,)).fetchone()["id"]


def get_job(db: Database, job_id: int) -> Job:
    with db.transaction() as conn:
        row = conn.execute("SELECT * FROM jobs WHERE id = %s", (job_id,)).fetchone()
    if row is None:
        raise NotFound("job", job_id)
    return Job.from_row(row)


def latest_job(db: Database, video_id: uuid.UUID) -> Job | None:
    """The most recent job of a video, if it ever had one."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT * FROM jobs WHERE video_id = %s ORDER BY created_at DESC, id DESC LIMIT 1", (video_id,)
        ).fetchone()
    return Job.from_row(row) if row else None


def start_job(db: Database, job_id: int, worker: str) -> None:
    with db.transaction() as conn:
        conn.execute(
            """UPDATE jobs SET state = 'running', worker = %s, attempts = attempts + 1, started_at = now(),
                   heartbeat_at = now(), finished_at = NULL, error = NULL, progress = 0, stage = NULL
               WHERE id = %s""",
            (worker, job_id),
        )


def report_progress(db: Database, job_id: int, stage: str, progress: float) -> None:
    """Record the stage and overall fraction (never lowering the fraction) and beat the heart."""
    with db.transaction() as conn:
        conn.execute(
            "UPDATE jobs SET stage = %s, progress = GREATEST(progress, %s), heartbeat_at = now() WHERE id = %s",
            (stage, min(1.0, max(0.0, progress)), job_id),
        )


def set_queue_id(db: Database, job_id: int, queue_id: str) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE jobs SET queue_id = %s WHERE id = %s", (queue_id, job_id))


def beat(db: Database, job_id: int) -> bool:
    """Record that the job is alive; False when it should stop (cancel requested, or its video deleted)."""
    with db.transaction() as conn:
        row = conn.execute(
            "UPDATE jobs SET heartbeat_at = now() WHERE id = %s RETURNING cancel_requested", (job_id,)
        ).fetchone()
    return row is not None and not row["cancel_requested"]


def request_cancel(db: Database, job_id: int) -> str:
    """Cancel a job: a queued one at once, a running one at its next heartbeat; return its state now."""
    with db.transaction() as conn:
        row = conn.execute(
            """UPDATE jobs SET cancel_requested = true,
                   state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END,
                   finished_at = CASE WHEN state = 'queued' THEN now() ELSE finished_at END
               WHERE id = %s RETURNING state, video_id""",
            (job_id,),
        ).fetchone()
        if row is None:
            raise NotFound("job", job_id)
        if row["state"] == "cancelled":  # nothing ran: the video goes back to what it was
            restore_video(conn, row["video_id"])
    return row["state"]


def restore_video(conn, video_id: uuid.UUID) -> None:
    """A video whose run ended without an index goes back to what it was: indexed if it has an index, else uploaded."""
    conn.execute(
        """UPDATE videos SET state = CASE WHEN index_run IS NULL THEN 'uploaded' ELSE 'indexed' END,
               updated_at = now() WHERE id = %s AND state IN ('queued', 'processing')""",
        (video_id,),
    )


def cancel_job(db: Database, job_id: int, reason: str = "cancelled") -> None:
    """End a job that was told to stop but whose run is gone (or never started), and restore its video."""
    with db.transaction() as conn:
        row = conn.execute(
            """UPDATE jobs SET state = 'cancelled', error = %s, finished_at = now()
               WHERE id = %s AND state IN ('queued', 'running') RETURNING video_id""",
            (reason, job_id),
        ).fetchone()
        if row is not None:
            restore_video(conn, row["video_id"])


def requeue_job(db: Database, job_id: int, reason: str) -> None:
    """Put a job back in line (a retry, or a job whose worker died)."""
    with db.transaction() as conn:
        conn.execute(
            "UPDATE jobs SET state = 'queued', error = %s, stage = NULL, heartbeat_at = NULL WHERE id = %s",
            (reason, job_id),
        )
        conn.execute(
            "UPDATE videos SET state = 'queued', updated_at = now() WHERE id = (SELECT video_id FROM jobs WHERE id = %s)",
            (job_id,),
        )


def end_job(db: Database, job_id: int, state: str, error: str | None) -> None:
    """Close a job as ``cancelled`` or ``failed`` without touching its video."""
    with db.transaction() as conn:
        conn.execute(
            "UPDATE jobs SET state = %s, error = %s, finished_at = now() WHERE id = %s", (state, error, job_id)
        )


def stale_jobs(db: Database, stale_s: float) -> list[Job]:
    """Running jobs whose heartbeat stopped (their worker died) and queued jobs of any age."""
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT * FROM jobs
               WHERE (state = 'running' AND (heartbeat_at IS NULL OR heartbeat_at < now() - make_interval(secs => %s)))
                  OR state = 'queued'
               ORDER BY id""",
            (stale_s,),
        ).fetchall()
    return [Job.from_row(row) for row in rows]


def finish_job(db: Database, job_id: int, error: str | None = None) -> None:
    """Mark the job succeeded, or failed with ``error``."""
    with db.transaction() as conn:
        conn.execute(
            """UPDATE jobs SET state = %s, error = %s, finished_at = now(), heartbeat_at = now(),
                   progress = CASE WHEN %s THEN 1 ELSE progress END
               WHERE id = %s""",
            ("failed" if error else "succeeded", error, error is None, job_id),
        )
