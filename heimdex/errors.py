"""Errors that carry what a person should see, and their kind: one table maps each kind to an HTTP status, the
title of the app's message and a CLI exit code (:data:`ANSWERS`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    INVALID = "invalid"  # the request is wrong: a bad value, a file that is not a video
    UNAUTHORIZED = "unauthorized"  # no session, or one that ended
    FORBIDDEN = "forbidden"  # a link or action this caller may not use
    NOT_FOUND = "not_found"  # no such thing (or not the caller's)
    CONFLICT = "conflict"  # not now: the thing is in another state (indexing, not indexed, a folder in use)
    GONE = "gone"  # it was there and is not any more (a video's file missing from storage)
    TOO_LARGE = "too_large"  # over a limit of size, length or count
    UNPROCESSABLE = "unprocessable"  # well-formed, but the media could not be made into what was asked
    RATE_LIMITED = "rate_limited"  # too many tries: later
    UNAVAILABLE = "unavailable"  # the database, storage or a queue is away: soon
    NO_ROOM = "no_room"  # the server's disk is full: later
    FAILED = "failed"  # Heimdex's own failure


@dataclass(frozen=True)
class Answer:
    http: int
    exit_code: int  # 2: the request was refused; 75: try again later (EX_TEMPFAIL); 1: an internal failure
    title: str  # the key of the app's message title (:mod:`heimdex.app.text`)


ANSWERS: dict[Kind, Answer] = {
    Kind.INVALID: Answer(400, 2, "title_error"),
    Kind.UNAUTHORIZED: Answer(401, 2, "title_error"),
    Kind.FORBIDDEN: Answer(403, 2, "title_error"),
    Kind.NOT_FOUND: Answer(404, 2, "title_error"),
    Kind.CONFLICT: Answer(409, 2, "title_error"),
    Kind.GONE: Answer(410, 2, "title_error"),
    Kind.TOO_LARGE: Answer(413, 2, "title_error"),
    Kind.UNPROCESSABLE: Answer(422, 2, "title_error"),
    Kind.RATE_LIMITED: Answer(429, 2, "title_wait"),
    Kind.UNAVAILABLE: Answer(503, 75, "title_wait"),
    Kind.NO_ROOM: Answer(507, 75, "title_wait"),
    Kind.FAILED: Answer(500, 1, "title_error"),
}


class HeimdexError(Exception):
    """A failure of Heimdex itself (kind ``failed``)."""

    kind = Kind.FAILED

    @property
    def answer(self) -> Answer:
        return ANSWERS[self.kind]

    @property
    def exit_code(self) -> int:
        return self.answer.exit_code


class BadInput(HeimdexError):
    """A refusal a person reads: ``code`` is stable, the message is for people, the kind says why (``invalid`` unless
    given, or set by a subclass)."""

    kind = Kind.INVALID

    def __init__(self, code: str, message: str, kind: Kind | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        return self.message


class NotFound(BadInput):
    """A user, video or other record that does not exist (or is not the caller's)."""

    kind = Kind.NOT_FOUND

    def __init__(self, what: str, key: object):
        super().__init__(f"{what}_not_found", f"No {what} {key}.")
