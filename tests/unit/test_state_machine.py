"""States, pure: the transition table read as data, the errors, and what each transition asks of its statement.

No database: where a transition is called, a small recording stand-in answers the one statement with a scripted
row (or none), so the guard states it sends and the error it raises can be checked. tests/test_states.py runs the
same transitions against PostgreSQL.
"""

from __future__ import annotations

import uuid

import pytest

from heimdex import states
from heimdex.errors import BadInput
from heimdex.states import (
    ACTIVE,
    ALL_VIDEOS,
    TRANSITIONS,
    Busy,
    JobState,
    NotQueued,
    VideoState,
    WrongState,
)

pytestmark = pytest.mark.unit

J, V = JobState, VideoState


class Script:
    """A stand-in connection: each ``execute`` records its statement and parameters and answers the next row."""

    def __init__(self, *rows):
        self.rows = list(rows)
        self.calls: list[tuple[str, object]] = []

    def execute(self, sql, params=None):
        self.calls.append((sql, params))
        return self

    def fetchone(self):
        return self.rows.pop(0)


# --- the table ------------------------------------------------------------------------------------------------------


def test_the_states_are_the_schemas_words():
    assert [s.value for s in VideoState] == ["uploaded", "queued", "processing", "indexed", "failed", "deleted"]
    assert [s.value for s in JobState] == ["queued", "running", "succeeded", "failed", "cancelled"]
    assert VideoState.QUEUED == "queued" and JobState("running") is JobState.RUNNING


def test_active_jobs_and_live_videos():
    assert ACTIVE == {J.QUEUED, J.RUNNING}
    assert ALL_VIDEOS == set(VideoState) - {V.DELETED}


def test_every_transition_has_a_function_of_its_name():
    assert set(TRANSITIONS) == {
        "queue",
        "claim",
        "mark_indexed",
        "fail",
        "cancel",
        "supersede",
        "requeue",
        "give_up",
        "restore_previous",
        "unindex",
    }
    assert all(callable(getattr(states, name)) for name in TRANSITIONS)


@pytest.mark.parametrize(
    ("name", "jobs_from", "job_to", "videos_from", "video_to"),
    [
        ("queue", set(), J.QUEUED, {V.UPLOADED, V.INDEXED, V.FAILED}, V.QUEUED),
        ("claim", {J.QUEUED}, J.RUNNING, {V.QUEUED}, V.PROCESSING),
        ("mark_indexed", {J.RUNNING}, J.SUCCEEDED, {V.PROCESSING}, V.INDEXED),
        ("fail", {J.RUNNING}, J.FAILED, {V.PROCESSING}, V.FAILED),
        ("cancel", {J.QUEUED, J.RUNNING}, J.CANCELLED, ALL_VIDEOS, None),
        ("supersede", {J.QUEUED}, J.CANCELLED, ALL_VIDEOS, None),
        ("requeue", {J.RUNNING, J.FAILED}, J.QUEUED, {V.QUEUED, V.PROCESSING, V.FAILED}, V.QUEUED),
        ("give_up", {J.QUEUED, J.RUNNING}, J.FAILED, ALL_VIDEOS, V.FAILED),
        ("restore_previous", set(), None, {V.QUEUED, V.PROCESSING}, None),
        ("unindex", set(), None, ALL_VIDEOS, V.UPLOADED),
    ],
)
def test_each_transition_as_the_module_diagram_draws_it(name, jobs_from, job_to, videos_from, video_to):
    rule = TRANSITIONS[name]
    assert (rule.jobs_from, rule.job_to, rule.videos_from, rule.video_to) == (jobs_from, job_to, videos_from, video_to)


def test_succeeded_and_cancelled_jobs_are_final_and_a_failed_one_can_only_be_requeued():
    leaving = {name for name, rule in TRANSITIONS.items() if J.SUCCEEDED in rule.jobs_from}
    assert leaving == set()
    assert {name for name, rule in TRANSITIONS.items() if J.CANCELLED in rule.jobs_from} == set()
    assert {name for name, rule in TRANSITIONS.items() if J.FAILED in rule.jobs_from} == {"requeue"}


def test_no_transition_leaves_or_reaches_a_deleted_video():
    assert all(V.DELETED not in rule.videos_from and rule.video_to != V.DELETED for rule in TRANSITIONS.values())


def test_every_video_state_but_deleted_is_reachable_from_uploaded():
    reached, frontier = {V.UPLOADED}, [V.UPLOADED]
    while frontier:
        state = frontier.pop()
        for rule in TRANSITIONS.values():
            targets = {rule.video_to} if rule.video_to else {V.UPLOADED, V.INDEXED}  # None: back to what it was
            if state in rule.videos_from:
                for target in targets - reached:
                    reached.add(target)
                    frontier.append(target)
    assert reached == ALL_VIDEOS


def test_the_table_cannot_be_changed_in_place():
    with pytest.raises(AttributeError):
        TRANSITIONS["claim"].job_to = J.SUCCEEDED  # type: ignore[misc]


# --- the errors -----------------------------------------------------------------------------------------------------


def test_wrong_state_is_bad_input_with_a_stable_code():
    error = WrongState("claim", 7)
    assert isinstance(error, BadInput) and error.exit_code == 2
    assert (error.code, error.transition, error.job_id) == ("wrong_state", "claim", 7)
    assert str(error) == "This video changed meanwhile; refresh and try again."
    assert WrongState("queue").job_id is None


def test_not_queued_is_a_wrong_state_and_busy_is_not():
    assert issubclass(NotQueued, WrongState)
    busy = Busy()
    assert not isinstance(busy, WrongState) and isinstance(busy, BadInput)
    assert busy.code == "busy" and "being indexed" in str(busy)


# --- what the transitions send --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda conn: states.mark_indexed(conn, 5, "run-1", "en"), "mark_indexed"),
        (lambda conn: states.fail(conn, 5, "asr", "asr_failed", "boom"), "fail"),
        (lambda conn: states.cancel(conn, 5), "cancel"),
        (lambda conn: states.supersede(conn, 5), "supersede"),
        (lambda conn: states.requeue(conn, 5, "worker died"), "requeue"),
        (lambda conn: states.give_up(conn, 5, "gave up"), "give_up"),
    ],
)
def test_a_transition_guards_with_its_table_row_and_returns_the_video(call, name):
    video = uuid.uuid4()
    conn = Script({"id": video})
    assert call(conn) == video
    ((_, params),) = conn.calls
    rule = TRANSITIONS[name]
    assert params["job"] == 5 and params["job_to"] == rule.job_to and params["video_to"] == rule.video_to
    assert set(params["jobs_from"]) == rule.jobs_from and set(params["videos_from"]) == rule.videos_from


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda conn: states.mark_indexed(conn, 9, "run-1", None), "mark_indexed"),
        (lambda conn: states.fail(conn, 9, "asr", "asr_failed", "boom"), "fail"),
        (lambda conn: states.cancel(conn, 9), "cancel"),
        (lambda conn: states.requeue(conn, 9, "retry"), "requeue"),
    ],
)
def test_a_row_in_another_state_raises_wrong_state_naming_the_transition(call, name):
    with pytest.raises(WrongState) as refused:
        call(Script(None))
    assert (refused.value.transition, refused.value.job_id) == (name, 9)
    assert type(refused.value) is WrongState


def test_the_transitions_carry_their_own_values():
    conn = Script({"id": uuid.uuid4()})
    states.fail(conn, 3, "ocr", "ocr_failed", "no text")
    assert {k: conn.calls[0][1][k] for k in ("stage", "code", "message")} == {
        "stage": "ocr",
        "code": "ocr_failed",
        "message": "no text",
    }
    conn = Script({"id": uuid.uuid4()})
    states.cancel(conn, 3)
    assert conn.calls[0][1]["reason"] == "cancelled"


def test_queue_sends_the_states_a_video_may_be_queued_from():
    conn = Script({"id": 42})
    video = uuid.uuid4()
    assert states.queue(conn, video) == 42
    ((_, params),) = conn.calls
    assert params[0] == video and set(params[1]) == {V.UPLOADED, V.INDEXED, V.FAILED}
    with pytest.raises(WrongState) as refused:
        states.queue(Script(None), video)
    assert (refused.value.transition, refused.value.job_id) == ("queue", None)


def test_claim_refuses_a_busy_video_before_moving_anything():
    conn = Script({"?column?": 1})  # the lock's row is not read; another live run holds the video
    with pytest.raises(Busy):
        states.claim(conn, 4, "worker-a", 60.0)
    assert len(conn.calls) == 2


def test_claim_of_a_job_not_waiting_is_not_queued():
    conn = Script(None, None)  # (the lock reads no row) no live run, then no row moved
    with pytest.raises(NotQueued) as refused:
        states.claim(conn, 4, "worker-a", 60.0)
    assert (refused.value.transition, refused.value.job_id) == ("claim", 4)
    assert conn.calls[2][1]["worker"] == "worker-a"


def test_request_cancel_cancels_a_waiting_job_at_once_and_flags_a_running_one():
    assert states.request_cancel(Script({"state": "running"}), 1) is J.RUNNING
    conn = Script({"state": "queued"}, {"id": uuid.uuid4()})
    assert states.request_cancel(conn, 1) is J.CANCELLED
    assert len(conn.calls) == 2 and conn.calls[1][1]["job_to"] == J.CANCELLED
    with pytest.raises(WrongState) as refused:
        states.request_cancel(Script(None), 1)
    assert (refused.value.transition, refused.value.job_id) == ("cancel", 1)


def test_restore_previous_refuses_a_video_at_rest():
    video = uuid.uuid4()
    conn = Script({"id": video})
    assert states.restore_previous(conn, video) is None
    assert set(conn.calls[0][1][1]) == {V.QUEUED, V.PROCESSING}
    with pytest.raises(WrongState) as refused:
        states.restore_previous(Script(None), video)
    assert refused.value.transition == "restore_previous"
