"""The video/job state machine, walked through its whole table on real rows.

Every transition is tried from every pair of (job state, video state): where the table
allows it the rows move to its targets, anywhere else it raises ``WrongState`` and
changes nothing.
"""

from __future__ import annotations

import itertools

import pytest

from heimdex import states
from heimdex.states import TRANSITIONS, JobState, VideoState

pytestmark = pytest.mark.integration

VIDEO_STATES = [state for state in VideoState if state is not VideoState.DELETED]
CALLS = {
    "claim": lambda conn, job: states.claim(conn, job, "test:1", 60),
    "mark_indexed": lambda conn, job: states.mark_indexed(conn, job, "run2", "en"),
    "fail": lambda conn, job: states.fail(conn, job, "ocr", "index_failed", "Indexing failed while reading."),
    "cancel": lambda conn, job: states.cancel(conn, job),
    "supersede": lambda conn, job: states.supersede(conn, job),
    "requeue": lambda conn, job: states.requeue(conn, job, "retrying"),
    "give_up": lambda conn, job: states.give_up(conn, job, "Indexing stopped 3 times."),
}


@pytest.fixture(scope="module")
def video(db, store, settings, media):
    from heimdex.auth.users import create_user
    from heimdex.library.ingest import ingest

    user = create_user(db, "states@example.com", "correct horse battery staple")
    with (media / "goldeneye-vfr-drop3.mp4").open("rb") as source:
        return ingest(db, store, settings, user.id, source, "clip.mp4", None, None).video


def _set(
    conn, video_id, video_state: VideoState, job_state: JobState | None, index_run: str | None = None
) -> int | None:
    conn.execute("DELETE FROM jobs WHERE video_id = %s", (video_id,))
    conn.execute(
        "UPDATE videos SET state = %s, index_run = %s, error_code = NULL, error_message = NULL WHERE id = %s",
        (video_state, index_run, video_id),
    )
    if job_state is None:
        return None
    return conn.execute(
        "INSERT INTO jobs (video_id, state) VALUES (%s, %s) RETURNING id", (video_id, job_state)
    ).fetchone()["id"]


def _read(conn, video_id) -> tuple[str, str | None]:
    video = conn.execute("SELECT state FROM videos WHERE id = %s", (video_id,)).fetchone()["state"]
    job = conn.execute("SELECT state FROM jobs WHERE video_id = %s", (video_id,)).fetchone()
    return video, job["state"] if job else None


def _previous(video_state: VideoState, index_run: str | None) -> VideoState:
    if video_state in (VideoState.QUEUED, VideoState.PROCESSING):
        return VideoState.INDEXED if index_run else VideoState.UPLOADED
    return video_state


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_transition_moves_exactly_the_states_it_leaves(name, video, db):
    rule = TRANSITIONS[name]
    for job_state, video_state, index_run in itertools.product(JobState, VIDEO_STATES, (None, "run1")):
        with db.transaction() as conn:
            job = _set(conn, video.id, video_state, job_state, index_run)
        allowed = job_state in rule.jobs_from and video_state in rule.videos_from
        case = f"{name} from job {job_state}, video {video_state}, index {index_run}"
        if allowed:
            with db.transaction() as conn:
                assert CALLS[name](conn, job) == video.id, case
                moved_video, moved_job = _read(conn, video.id)
            assert moved_job == rule.job_to, case
            if name == "give_up":
                expected = rule.video_to if video_state in (VideoState.QUEUED, VideoState.PROCESSING) else video_state
            elif rule.video_to is None:
                expected = video_state if name == "supersede" else _previous(video_state, index_run)
            else:
                expected = rule.video_to
            assert moved_video == expected, case
        else:
            with pytest.raises(states.WrongState), db.transaction() as conn:
                CALLS[name](conn, job)
            with db.transaction() as conn:
                assert _read(conn, video.id) == (video_state, job_state), case


def test_queue_makes_a_job_only_for_a_video_at_rest(video, db):
    for video_state in VIDEO_STATES:
        with db.transaction() as conn:
            _set(conn, video.id, video_state, None)
        if video_state in TRANSITIONS["queue"].videos_from:
            with db.transaction() as conn:
                job = states.queue(conn, video.id)
                assert _read(conn, video.id) == ("queued", "queued")
                assert (
                    conn.execute("SELECT video_id FROM jobs WHERE id = %s", (job,)).fetchone()["video_id"] == video.id
                )
        else:
            with pytest.raises(states.WrongState), db.transaction() as conn:
                states.queue(conn, video.id)
            with db.transaction() as conn:
                assert _read(conn, video.id) == (video_state, None)


def test_restore_previous_returns_a_run_state_to_what_it_was(video, db):
    for video_state, index_run in itertools.product(VIDEO_STATES, (None, "run1")):
        with db.transaction() as conn:
            _set(conn, video.id, video_state, None, index_run)
        if video_state in TRANSITIONS["restore_previous"].videos_from:
            with db.transaction() as conn:
                states.restore_previous(conn, video.id)
                assert _read(conn, video.id)[0] == _previous(video_state, index_run)
        else:
            with pytest.raises(states.WrongState), db.transaction() as conn:
                states.restore_previous(conn, video.id)


def test_claim_waits_for_a_live_run_and_refuses_a_cancelled_job(video, db):
    with db.transaction() as conn:
        live = _set(conn, video.id, VideoState.QUEUED, JobState.QUEUED)
        states.claim(conn, live, "elsewhere:1", 60)
        other = conn.execute("INSERT INTO jobs (video_id) VALUES (%s) RETURNING id", (video.id,)).fetchone()["id"]
    with pytest.raises(states.Busy), db.transaction() as conn:
        states.claim(conn, other, "here:1", 60)
    with db.transaction() as conn:
        waiting = _set(conn, video.id, VideoState.QUEUED, JobState.QUEUED)
        conn.execute("UPDATE jobs SET cancel_requested = true WHERE id = %s", (waiting,))
    with pytest.raises(states.NotQueued), db.transaction() as conn:
        states.claim(conn, waiting, "here:1", 60)


def test_request_cancel_ends_a_waiting_job_and_flags_a_running_one(video, db):
    with db.transaction() as conn:
        waiting = _set(conn, video.id, VideoState.QUEUED, JobState.QUEUED, "run1")
        assert states.request_cancel(conn, waiting) == JobState.CANCELLED
        assert _read(conn, video.id) == ("indexed", "cancelled")
        running = _set(conn, video.id, VideoState.PROCESSING, JobState.RUNNING)
        assert states.request_cancel(conn, running) == JobState.RUNNING
        assert conn.execute("SELECT cancel_requested FROM jobs WHERE id = %s", (running,)).fetchone()[
            "cancel_requested"
        ]
        done = _set(conn, video.id, VideoState.INDEXED, JobState.SUCCEEDED, "run1")
    with pytest.raises(states.WrongState), db.transaction() as conn:
        states.request_cancel(conn, done)


def test_unindex_forgets_the_index_and_the_jobs_from_any_state(video, db):
    for video_state, job_state, index_run in itertools.product(VIDEO_STATES, [None, *JobState], (None, "run1")):
        with db.transaction() as conn:
            _set(conn, video.id, video_state, job_state, index_run)
            states.unindex(conn, video.id)
            assert _read(conn, video.id) == ("uploaded", None), (video_state, job_state, index_run)
            assert (
                conn.execute("SELECT index_run FROM videos WHERE id = %s", (video.id,)).fetchone()["index_run"] is None
            )


def test_a_video_in_the_trash_is_never_queued_nor_moved(video, db):
    with db.transaction() as conn:
        job = _set(conn, video.id, VideoState.QUEUED, JobState.QUEUED)
        conn.execute("UPDATE videos SET trashed_at = now() WHERE id = %s", (video.id,))
    try:
        for move in (lambda conn: states.claim(conn, job, "test:1", 60), lambda conn: states.cancel(conn, job)):
            with pytest.raises(states.WrongState), db.transaction() as conn:
                move(conn)
        with db.transaction() as conn:
            _set(conn, video.id, VideoState.UPLOADED, None)
        with pytest.raises(states.WrongState), db.transaction() as conn:
            states.queue(conn, video.id)
    finally:
        with db.transaction() as conn:
            conn.execute("UPDATE videos SET trashed_at = NULL WHERE id = %s", (video.id,))
