"""Job rows: one per indexing request, holding its state, stage and progress for any process to read.

The row is the single source of truth; the queue only carries the job's id. Reads and the
running job's own notes (progress, heartbeat) are here; every change of state is in
:mod:`heimdex.states`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from heimdex.db import Database
from heimdex.errors import NotFound
from heimdex.states import ACTIVE, JobState


@dataclass(frozen=True)
class Job:
    id: int
    video_id: uuid.UUID
    state: JobState
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
        return self.state in ACTIVE

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Job:
        values: dict[str, Any] = {name: row[name] for name in cls.__dataclass_fields__}
        values["state"] = JobState(row["state"])
        return cls(**values)


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
