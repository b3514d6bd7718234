"""The session layer the app and its API call: one door per operation of :mod:`heimdex.app.operations`.

A door takes a session token first and resolves it to a user (or raises
:class:`~heimdex.auth.sessions.Unauthorized`) before anything is read; then it applies the
operation's policy (its rate limit, the search line) and calls the user-scoped core that the CLI
calls too. Each call is logged as one line: its name, the user's id, how long it took and how it
ended. ``service.search(token, "red car")`` is the door of ``core.search(user, "red car")``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from heimdex.app.handoff import file_path, get_handoff
from heimdex.app.inputs import client_address
from heimdex.app.operations import BY_NAME, OPERATIONS, Caller, Operation
from heimdex.auth.sessions import session_user
from heimdex.auth.users import User
from heimdex.config import get_settings
from heimdex.db import get_database
from heimdex.errors import BadInput
from heimdex.library.quotas import hit
from heimdex.telemetry import logs

__all__ = ["OPERATIONS", "Caller", "Operation", "caller_address", "door", "file_path", "signed_in"]

log = logging.getLogger("heimdex.service")


def signed_in(token: str | None) -> User:
    """The user a session token belongs to; :class:`~heimdex.auth.sessions.Unauthorized` otherwise."""
    return session_user(get_database(), token)


def caller_address(peer: str | None, forwarded: str | None) -> str | None:
    """The caller's address for limits counted per address: ``X-Forwarded-For`` only from a trusted proxy
    (``HEIMDEX_TRUSTED_PROXIES``)."""
    return client_address(peer, forwarded, get_settings().trusted_proxies)


class _Line:
    """``slots`` holders at a time, the others served strictly in the order they came (no barging in)."""

    def __init__(self, slots: int):
        self._free, self._waiting, self._lock = slots, deque[threading.Event](), threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over by the one leaving

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


_search_line: _Line | None = None
_line_lock = threading.Lock()


def _line() -> _Line:
    """``HEIMDEX_SEARCH_CONCURRENCY`` searches at once, the others waiting first come, first served.

    A search is CPU work; on a few cores more of them at once only share the processor and the
    interpreter, and the unluckiest wait longest. Waiting in line keeps every answer near the mean.
    """
    global _search_line
    with _line_lock:
        if _search_line is None:
            _search_line = _Line(get_settings().search_concurrency)
        return _search_line


class _Acting:
    """One call through a door, logged as one line when it ends: the operation, the user's id (once known), how
    long it took and how it ended (``ok``, a refusal's code, or ``error``)."""

    def __init__(self, name: str, **fields: Any):
        self.name, self.fields = name, fields
        self.user_id: uuid.UUID | None = None
        self.outcome = "ok"

    def __enter__(self) -> _Acting:
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None:
            self.outcome = exc.code if isinstance(exc, BadInput) else "error"
        logs.event(
            log,
            "action",
            action=self.name,
            user_id=str(self.user_id) if self.user_id else None,
            duration_ms=round(1000 * (time.perf_counter() - self.started), 1),
            outcome=self.outcome,
            **self.fields,
        )


def _discard(user: User, files: list[object]) -> None:
    """The caller's uploads named in a refused call: deleted, as the action would have (others' are left alone)."""
    handoff = get_handoff()
    for named in files:
        for file in named if isinstance(named, list) else [named]:
            try:
                handoff.release(handoff.claim(user.id, file_path(file)))
            except BadInput:
                pass


def door(operation: Operation) -> Callable[..., Any]:
    """``operation.action`` behind its policy: ``door(token, ...)`` for a user's or a session's operation,
    ``door(...)`` for one that needs no session."""
    action, names = operation.action, [p.name for p in operation.parameters()]

    def call(*args: Any, **kwargs: Any) -> Any:
        if operation.caller == Caller.ANYONE:
            with _Acting(operation.name):
                return action(*args, **kwargs)
        token, rest = (args[0], args[1:]) if args else (kwargs.pop("token", None), ())
        given = dict(zip(names, rest)) | kwargs
        logged = operation.words and get_settings().log_queries  # a person's words only when asked to
        fields = {operation.words: given.get(operation.words)} if logged and operation.words else {}
        with _line() if operation.in_line else nullcontext(), _Acting(operation.name, **fields) as acting:
            if operation.caller == Caller.SESSION:
                answer = action(token, *rest, **kwargs)
            else:
                user = signed_in(token)
                acting.user_id = user.id
                if operation.rate:
                    try:
                        hit(get_database(), operation.rate, str(user.id), user.id, tier=user.tier)
                    except BadInput:
                        _discard(user, [given[name] for name in operation.files if name in given])
                        raise
                answer = action(user, *rest, **kwargs)
            acting.fields.update(operation.logged(answer))
            return answer

    call.__name__ = call.__qualname__ = operation.name
    call.__doc__ = action.__doc__
    return call


_DOORS = {name: door(operation) for name, operation in BY_NAME.items()}


def __getattr__(name: str) -> Callable[..., Any]:
    """``service.<operation>``: the operation's door."""
    try:
        return _DOORS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
