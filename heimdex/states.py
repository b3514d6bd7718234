"""The one state machine of a video and its indexing jobs: every change of state is a function here.

    video  uploaded ──queue──► queued ──claim──► processing ──mark_indexed──► indexed
           indexed, failed ──queue──► queued        processing ──fail──► failed
           queued, processing ──cancel / restore_previous──► what it was (indexed if it has an index, else uploaded)
           queued, processing, failed ──requeue──► queued          queued, processing ──give_up──► failed
           any ──unindex──► uploaded, its index forgotten (a video put in the Trash: a restore indexes it anew)
    job    (new) queued ──claim──► running ──mark_indexed──► succeeded    running ──fail──► failed
           queued, running ──cancel──► cancelled     queued ──supersede──► cancelled
           running, failed ──requeue──► queued       queued, running ──give_up──► failed
           any ──unindex──► gone (its row deleted: a running one stops at its next heartbeat)

Each transition is one SQL statement that changes a job and its video together and is
guarded by the states it leaves (:data:`TRANSITIONS`): a row found in any other state is
left alone and the call raises :class:`WrongState`. A video in the Trash has no jobs, and
none is made or moved for it. Callers pass an open connection, so a transition can share
a transaction with the rows it depends on (the commit of an index).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, LiteralString

from heimdex.db import Conn
from heimdex.errors import BadInput, Kind


class VideoState(StrEnum):
    UPLOADED = "uploaded"
    QUEUED = "queued"
    PROCESSING = "processing"
    INDEXED = "indexed"
    FAILED = "failed"
    DELETED = "deleted"  # kept by the schema; deleting a video removes its row


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE = frozenset({JobState.QUEUED, JobState.RUNNING})


class WrongState(BadInput):
    """The job (or its video) is not in a state the transition leaves; nothing changed."""

    def __init__(self, transition: str, job_id: int | None = None):
        super().__init__("wrong_state", "This video changed meanwhile; refresh and try again.", Kind.CONFLICT)
        self.job_id = job_id
        self.transition = transition


class NotQueued(WrongState):
    """The job is not waiting to run: it ran, runs elsewhere, or was cancelled."""


class Busy(BadInput):
    """Another live run is indexing the video."""

    def __init__(self) -> None:
        super().__init__("busy", "This video is being indexed right now; wait for that run to finish.", Kind.CONFLICT)


@dataclass(frozen=True)
class Transition:
    jobs_from: frozenset[JobState]
    job_to: JobState | None  # None: the video alone moves
    videos_from: frozenset[VideoState]
    video_to: VideoState | None  # None: back to what it was before the run (indexed or uploaded)


ALL_VIDEOS = frozenset(VideoState) - {VideoState.DELETED}
TRANSITIONS: dict[str, Transition] = {
    "queue": Transition(
        frozenset(),
        JobState.QUEUED,
        frozenset({VideoState.UPLOADED, VideoState.INDEXED, VideoState.FAILED}),
        VideoState.QUEUED,
    ),
    "claim": Transition(
        frozenset({JobState.QUEUED}), JobState.RUNNING, frozenset({VideoState.QUEUED}), VideoState.PROCESSING
    ),
    "mark_indexed": Transition(
        frozenset({JobState.RUNNING}), JobState.SUCCEEDED, frozenset({VideoState.PROCESSING}), VideoState.INDEXED
    ),
    "fail": Transition(
        frozenset({JobState.RUNNING}), JobState.FAILED, frozenset({VideoState.PROCESSING}), VideoState.FAILED
    ),
    "cancel": Transition(ACTIVE, JobState.CANCELLED, ALL_VIDEOS, None),
    "supersede": Transition(frozenset({JobState.QUEUED}), JobState.CANCELLED, ALL_VIDEOS, None),
    "requeue": Transition(
        frozenset({JobState.RUNNING, JobState.FAILED}),
        JobState.QUEUED,
        frozenset({VideoState.QUEUED, VideoState.PROCESSING, VideoState.FAILED}),
        VideoState.QUEUED,
    ),
    "give_up": Transition(ACTIVE, JobState.FAILED, ALL_VIDEOS, VideoState.FAILED),
    "restore_previous": Transition(frozenset(), None, frozenset({VideoState.QUEUED, VideoState.PROCESSING}), None),
    "unindex": Transition(frozenset(), None, ALL_VIDEOS, VideoState.UPLOADED),
}

# What "back to what it was" means, for a video row in a run's state; any other state stays as it is.
_PREVIOUS = """CASE WHEN videos.state IN ('queued', 'processing')
                    THEN (CASE WHEN videos.index_run IS NULL THEN 'uploaded' ELSE 'indexed' END) ELSE videos.state END"""


def _move(
    conn: Conn,
    name: str,
    job_id: int,
    job_set: LiteralString,
    video_set: LiteralString,
    params: dict[str, Any] | None = None,
    job_guard: LiteralString = "true",
) -> uuid.UUID:
    """Apply transition ``name`` to a job and its video in one statement; return the video's id."""
    rule = TRANSITIONS[name]
    row = conn.execute(
        f"""WITH moved AS (
                UPDATE jobs SET state = %(job_to)s, {job_set}
                FROM videos v
                WHERE jobs.id = %(job)s AND jobs.state = ANY(%(jobs_from)s) AND {job_guard}
                  AND v.id = jobs.video_id AND v.state = ANY(%(videos_from)s) AND v.trashed_at IS NULL
                RETURNING jobs.video_id)
            UPDATE videos SET {video_set}, updated_at = now() FROM moved WHERE videos.id = moved.video_id
            RETURNING videos.id""",
        {
            **(params or {}),
            "job": job_id,
            "job_to": rule.job_to,
            "jobs_from": list(rule.jobs_from),
            "videos_from": list(rule.videos_from),
            "video_to": rule.video_to,
        },
    ).fetchone()
    if row is None:
        raise WrongState(name, job_id)
    return row["id"]


def queue(conn: Conn, video_id: uuid.UUID) -> int:
    """A new queued job for the video, which becomes queued (never one in the Trash); return the job's id."""
    row = conn.execute(
        """WITH moved AS (UPDATE videos SET state = 'queued', updated_at = now()
                          WHERE id = %s AND state = ANY(%s) AND trashed_at IS NULL RETURNING id)
           INSERT INTO jobs (video_id) SELECT id FROM moved RETURNING id""",
        (video_id, list(TRANSITIONS["queue"].videos_from)),
    ).fetchone()
    if row is None:
        raise WrongState("queue")
    return row["id"]


def claim(conn: Conn, job_id: int, worker: str, stale_s: float) -> uuid.UUID:
    """Start a queued job (the video is processing); :class:`Busy` if another live run holds the video,
    :class:`NotQueued` if the job is not waiting to run. The video row is locked first, so two
    workers claiming at once are served one after the other."""
    conn.execute("SELECT 1 FROM videos WHERE id = (SELECT video_id FROM jobs WHERE id = %s) FOR UPDATE", (job_id,))
    busy = conn.execute(
        """SELECT 1 FROM jobs o JOIN jobs j ON j.video_id = o.video_id
           WHERE j.id = %s AND o.id <> j.id AND o.state = 'running' AND o.heartbeat_at > now() - make_interval(secs => %s)""",
        (job_id, stale_s),
    ).fetchone()
    if busy:
        raise Busy()
    try:
        return _move(
            conn,
            "claim",
            job_id,
            """worker = %(worker)s, attempts = jobs.attempts + 1, started_at = now(), heartbeat_at = now(),
               finished_at = NULL, error = NULL, progress = 0, stage = NULL""",
            "state = %(video_to)s, error_code = NULL, error_message = NULL, error_stage = NULL",
            {"worker": worker},
            job_guard="NOT jobs.cancel_requested",
        )
    except WrongState:
        raise NotQueued("claim", job_id) from None


def mark_indexed(conn: Conn, job_id: int, run: str, language: str | None) -> uuid.UUID:
    """The run committed: the job succeeded and the video is indexed with ``run``."""
    return _move(
        conn,
        "mark_indexed",
        job_id,
        "finished_at = now(), heartbeat_at = now(), progress = 1, error = NULL",
        """state = %(video_to)s, index_run = %(run)s, spoken_language = %(language)s, error_code = NULL,
           error_message = NULL, error_stage = NULL, indexed_at = now()""",
        {"run": run, "language": language},
    )


def fail(conn: Conn, job_id: int, stage: str, code: str, message: str) -> uuid.UUID:
    """The run failed in ``stage``: the job and the video say why."""
    return _move(
        conn,
        "fail",
        job_id,
        "finished_at = now(), error = %(stage)s || ': ' || %(message)s",
        "state = %(video_to)s, error_code = %(code)s, error_message = %(message)s, error_stage = %(stage)s",
        {"stage": stage, "code": code, "message": message},
    )


def cancel(conn: Conn, job_id: int, reason: str = "cancelled") -> uuid.UUID:
    """End a queued or running job as cancelled; its video goes back to what it was before the run."""
    return _move(
        conn,
        "cancel",
        job_id,
        "finished_at = now(), error = %(reason)s, cancel_requested = true",
        f"state = {_PREVIOUS}",
        {"reason": reason},
    )


def supersede(conn: Conn, job_id: int) -> uuid.UUID:
    """End a queued job that another live run made unnecessary; the video is that run's and stays as it is."""
    return _move(
        conn,
        "supersede",
        job_id,
        "finished_at = now(), error = 'superseded: another job was indexing this video'",
        "state = videos.state",
    )


def requeue(conn: Conn, job_id: int, reason: str) -> uuid.UUID:
    """Put a job back in line (a retry after a failure, or a job whose worker died), its video with it."""
    return _move(
        conn,
        "requeue",
        job_id,
        "error = %(reason)s, stage = NULL, heartbeat_at = NULL, finished_at = NULL",
        "state = %(video_to)s",
        {"reason": reason},
    )


def give_up(conn: Conn, job_id: int, message: str) -> uuid.UUID:
    """Stop trying a job whose workers kept dying: the job fails, and so does a video still waiting on it."""
    return _move(
        conn,
        "give_up",
        job_id,
        "finished_at = now(), error = %(message)s",
        """state = CASE WHEN videos.state IN ('queued', 'processing') THEN %(video_to)s ELSE videos.state END,
           error_code = CASE WHEN videos.state IN ('queued', 'processing') THEN 'worker_lost' ELSE videos.error_code END,
           error_message = CASE WHEN videos.state IN ('queued', 'processing') THEN %(message)s ELSE videos.error_message END""",
        {"message": message},
    )


def restore_previous(conn: Conn, video_id: uuid.UUID) -> None:
    """A queued or processing video with no run left goes back to what it was (indexed if it has an index)."""
    row = conn.execute(
        f"UPDATE videos SET state = {_PREVIOUS}, updated_at = now() WHERE id = %s AND state = ANY(%s) RETURNING id",
        (video_id, list(TRANSITIONS["restore_previous"].videos_from)),
    ).fetchone()
    if row is None:
        raise WrongState("restore_previous")


def unindex(conn: Conn, video_id: uuid.UUID) -> None:
    """The video forgets its index and its jobs (their rows go, so a running one stops at its next heartbeat and
    cannot commit) and is uploaded again: indexing it next starts from nothing."""
    row = conn.execute(
        """WITH gone AS (DELETE FROM jobs USING videos v
                         WHERE jobs.video_id = %(video)s AND v.id = jobs.video_id AND v.state = ANY(%(videos_from)s))
           UPDATE videos SET state = %(video_to)s, index_run = NULL, indexed_at = NULL, spoken_language = NULL,
                             error_code = NULL, error_message = NULL, error_stage = NULL, updated_at = now()
           WHERE id = %(video)s AND state = ANY(%(videos_from)s) RETURNING id""",
        {
            "video": video_id,
            "video_to": TRANSITIONS["unindex"].video_to,
            "videos_from": list(TRANSITIONS["unindex"].videos_from),
        },
    ).fetchone()
    if row is None:
        raise WrongState("unindex")


def request_cancel(conn: Conn, job_id: int) -> JobState:
    """Ask a job to stop: a queued one is cancelled at once, a running one stops at its next heartbeat. Returns its state."""
    row = conn.execute(
        "UPDATE jobs SET cancel_requested = true WHERE id = %s AND state = ANY(%s) RETURNING state",
        (job_id, list(ACTIVE)),
    ).fetchone()
    if row is None:
        raise WrongState("cancel", job_id)
    if row["state"] == JobState.QUEUED:
        cancel(conn, job_id)
        return JobState.CANCELLED
    return JobState(row["state"])
