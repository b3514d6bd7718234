"""Job rows: one per indexing request, holding its state, current stage and progress for any process to read."""

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


def finish_job(db: Database, job_id: int, error: str | None = None) -> None:
    """Mark the job succeeded, or failed with ``error``."""
    with db.transaction() as conn:
        conn.execute(
            """UPDATE jobs SET state = %s, error = %s, finished_at = now(), heartbeat_at = now(),
                   progress = CASE WHEN %s THEN 1 ELSE progress END
               WHERE id = %s""",
            ("failed" if error else "succeeded", error, error is None, job_id),
        )
