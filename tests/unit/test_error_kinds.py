"""Every error has a kind, and one table maps each kind to an HTTP status, a message title and a CLI exit code."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import heimdex
from heimdex.errors import ANSWERS, BadInput, HeimdexError, Kind, NotFound

pytestmark = pytest.mark.unit


def _all_errors() -> set[type[HeimdexError]]:
    for module in pkgutil.walk_packages(heimdex.__path__, "heimdex."):
        if module.name != "heimdex.__main__":
            importlib.import_module(module.name)
    found, todo = set(), [HeimdexError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("heimdex.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return found


def test_every_kind_has_one_answer_and_refusals_exit_2_waits_75_failures_1():
    assert set(ANSWERS) == set(Kind)
    assert {kind: ANSWERS[kind].http for kind in Kind} == {
        Kind.INVALID: 400,
        Kind.UNAUTHORIZED: 401,
        Kind.FORBIDDEN: 403,
        Kind.NOT_FOUND: 404,
        Kind.CONFLICT: 409,
        Kind.GONE: 410,
        Kind.TOO_LARGE: 413,
        Kind.UNPROCESSABLE: 422,
        Kind.RATE_LIMITED: 429,
        Kind.UNAVAILABLE: 503,
        Kind.NO_ROOM: 507,
        Kind.FAILED: 500,
    }
    assert {kind for kind in Kind if ANSWERS[kind].exit_code == 75} == {Kind.UNAVAILABLE, Kind.NO_ROOM}
    assert {kind for kind in Kind if ANSWERS[kind].exit_code == 1} == {Kind.FAILED}
    assert all(ANSWERS[kind].exit_code == 2 for kind in Kind if ANSWERS[kind].http < 500 and kind != Kind.FAILED)


def test_each_titles_words_exist_in_both_languages():
    from heimdex.app.text import EN, KO

    for answer in ANSWERS.values():
        assert answer.title in EN and answer.title in KO


def test_server_side_failures_are_not_the_users_input():
    from heimdex.db import DatabaseUnavailable
    from heimdex.library.ingest import StorageUnavailable
    from heimdex.pipeline.run import StageFailed

    for away in (DatabaseUnavailable(), StorageUnavailable()):
        assert away.kind == Kind.UNAVAILABLE and away.answer.http == 503 and away.exit_code == 75
    assert StageFailed("ocr", "index_failed", "something went wrong").exit_code == 1
    assert StageFailed("frames", "too_long", "The video is too long.").exit_code == 2
    assert HeimdexError("boom").answer.http == 500


@pytest.mark.parametrize(
    "make, status",
    [
        (lambda: __import__("heimdex.app.links", fromlist=["x"]).LinkRefused("expired"), 403),
        (lambda: __import__("heimdex.auth.sessions", fromlist=["x"]).Unauthorized(), 401),
        (lambda: __import__("heimdex.library.videos", fromlist=["x"]).SourceMissing(), 410),
        (lambda: __import__("heimdex.library.clips", fromlist=["x"]).ClipFailed(), 422),
        (lambda: __import__("heimdex.states", fromlist=["x"]).Busy(), 409),
        (lambda: __import__("heimdex.states", fromlist=["x"]).WrongState("claim"), 409),
        (lambda: __import__("heimdex.auth.accounts", fromlist=["x"]).SignInLocked(30), 429),
        (lambda: __import__("heimdex.library.quotas", fromlist=["x"]).QuotaExceeded("rate_limited", "later"), 429),
        (lambda: __import__("heimdex.library.quotas", fromlist=["x"]).QuotaExceeded("quota_videos", "full"), 413),
        (lambda: NotFound("video", "x"), 404),
        (lambda: BadInput("bad_title", "A title needs a character."), 400),
    ],
)
def test_a_refusal_answers_its_kinds_status(make, status):
    from heimdex.app.web.signed import refused

    failure = make()
    assert failure.answer.http == status
    answer = refused(failure)
    assert answer.status_code == status and answer.detail == failure.message


def test_upload_refusals_carry_their_kind():
    from heimdex.app import uploads
    from heimdex.app.uploads import UploadStopped

    assert uploads._too_large(1 << 20).answer.http == 413
    assert uploads._no_space().answer.http == 507
    assert UploadStopped("no_file", "Choose a file to upload.").answer.http == 400


def test_every_error_class_of_heimdex_names_its_kind_or_takes_one():
    """A new error class must say what kind it is (or be given one when raised): none falls through by accident."""
    generic = {BadInput, HeimdexError}
    for error in _all_errors() - generic:
        own = [cls for cls in error.__mro__ if issubclass(cls, HeimdexError) and cls not in generic]
        named = any("kind" in vars(cls) for cls in own)
        given = any("Kind." in _source(cls) for cls in own)  # its __init__ (or its parent's) gives BadInput one
        assert named or given, error


def _source(cls: type) -> str:
    import inspect

    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return ""
