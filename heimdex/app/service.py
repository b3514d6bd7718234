"""The session layer the app and its API call: every door takes a session token first.

Each door resolves the token to a user (or raises :class:`Unauthorized`) before anything
is read, then calls the user-scoped core (:mod:`heimdex.app.core`) that the CLI calls too.
Policies of the web doors live here: rate limits, the upload quota, the search line, and
files that may only come from the caller's own upload (:mod:`heimdex.app.handoff`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from heimdex.app import core
from heimdex.app.handoff import get_handoff
from heimdex.app.inputs import clean_text, client_address
from heimdex.auth import accounts
from heimdex.auth.sessions import session_user
from heimdex.auth.users import User
from heimdex.config import get_settings
from heimdex.db import Database, get_database
from heimdex.errors import BadInput
from heimdex.library.quotas import check_room, hit
from heimdex.storage import get_blob_store
from heimdex.telemetry import logs, metrics

log = logging.getLogger("heimdex.app.service")
P = ParamSpec("P")
R = TypeVar("R")


def _db() -> Database:
    return get_database()


def signed_in(token: str | None) -> User:
    """The user a session token belongs to; :class:`~heimdex.auth.sessions.Unauthorized` otherwise."""
    return session_user(_db(), token)


class _Acting:
    """One action through a door, logged as one line when it ends: its name, the user's id (once known), how
    long it took and how it ended (``ok``, a refusal's code, or ``error``)."""

    def __init__(self, name: str, **fields: Any):
        self.name, self.fields, self.user_id = name, fields, None
        self.outcome = "ok"

    def __enter__(self) -> _Acting:
        self.started = time.perf_counter()
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if exc is not None:
            self.outcome = exc.code if isinstance(exc, BadInput) else "error"
        took = time.perf_counter() - self.started
        logs.event(
            log,
            "action",
            action=self.name,
            user_id=str(self.user_id) if self.user_id else None,
            duration_ms=round(1000 * took, 1),
            outcome=self.outcome,
            **self.fields,
        )

    def signed_in(self, token: str | None) -> User:
        user = signed_in(token)
        self.user_id = user.id
        return user


def _door(action: Callable[Concatenate[User, P], R]) -> Callable[Concatenate[str, P], R]:
    """``action(user, ...)`` as ``door(token, ...)``: the session is checked before anything else happens."""

    @functools.wraps(action)
    def door(token: str, *args: P.args, **kwargs: P.kwargs) -> R:
        with _Acting(action.__name__) as acting:
            return action(acting.signed_in(token), *args, **kwargs)

    return door


def caller_address(peer: str | None, forwarded: str | None) -> str | None:
    """The caller's address for limits counted per address: ``X-Forwarded-For`` only from a trusted proxy
    (``HEIMDEX_TRUSTED_PROXIES``)."""
    return client_address(peer, forwarded, get_settings().trusted_proxies)


# ---- accounts ----


def register(email: str, password: str, display_name: str = "", client: str | None = None) -> str:
    """A new local account, signed in: its session token (``client``: the caller's address, for rate limits)."""
    return accounts.register(
        _db(), clean_text(email, 254), clean_text(password, 1000), clean_text(display_name, 100), client
    )


def login(email: str, password: str, client: str | None = None) -> str:
    """A new session token for the account (see :func:`heimdex.auth.accounts.login` for lockout and limits)."""
    return accounts.login(_db(), clean_text(email, 254), clean_text(password, 1000), client)


def logout(token: str) -> None:
    accounts.logout(_db(), token)


def change_password(token: str, current: str, new: str) -> str:
    return accounts.change_password(_db(), token, clean_text(current, 1000), clean_text(new, 1000))


def delete_account(token: str, password: str) -> None:
    """Delete the signed-in user, everything they own, and every file of theirs the app still holds."""
    user = signed_in(token)
    accounts.delete_account(_db(), get_blob_store(get_settings()), token, clean_text(password, 1000))
    get_handoff().forget_user(user.id)


def rename(token: str, display_name: str) -> str:
    return accounts.rename(_db(), token, clean_text(display_name, 100)).display_name


# ---- doors with a policy of their own ----


def upload(token: str, path: object, title: str | None = None, language: str | None = None) -> str:
    """Validate, store and queue a video the caller uploaded at ``path``; return its id (the same file again: the same id).

    ``path`` must be a file this user uploaded through the app (:meth:`heimdex.app.handoff.Handoff.claim`);
    it is deleted afterwards, stored or refused. Uploads are rate limited and must fit the user's quota.
    """
    with _Acting("upload") as acting:
        user = acting.signed_in(token)
        handoff = get_handoff()
        try:
            staged = handoff.claim(user.id, path)
            try:
                hit(_db(), "upload", str(user.id), user.id)
                with staged.open("rb") as source:
                    video = core.add_video(
                        user,
                        source,
                        staged.name,
                        title,
                        language,
                        admit=lambda conn, info: check_room(conn, user.id, user.tier, info.duration_s),
                    )
            finally:
                handoff.release(staged)
        except BadInput as refused:
            metrics.uploaded(refused.code)
            raise
        metrics.uploaded(None)
        acting.fields["video_id"] = str(video.id)
        return str(video.id)


def add_person(token: str, name: str, photos: list[object]) -> dict:
    """Enroll ``name`` from photos with one face each; like :func:`upload`, only files this user uploaded, deleted afterwards."""
    user = signed_in(token)
    handoff = get_handoff()
    if not isinstance(photos, list) or len(photos) > 20:
        raise BadInput("no_photo", "Add between 1 and 20 photos of the person.")
    claimed = []
    try:
        for photo in photos:
            claimed.append(handoff.claim(user.id, photo))
        return core.add_person(user, name, claimed)
    finally:
        for path in claimed:
            handoff.release(path)


class _Line:
    """``slots`` holders at a time, the others served strictly in the order they came (no barging in)."""

    def __init__(self, slots: int):
        self._free, self._waiting, self._lock = slots, deque(), threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over by the one leaving

    def __exit__(self, *exc) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


_search_line: _Line | None = None
_line_lock = threading.Lock()


def _searches() -> _Line:
    """``HEIMDEX_SEARCH_CONCURRENCY`` searches at once, the others waiting first come, first served.

    A search is CPU work; on a few cores more of them at once only share the processor and the
    interpreter, and the unluckiest wait longest. Waiting in line keeps every answer near the mean.
    """
    global _search_line
    with _line_lock:
        if _search_line is None:
            _search_line = _Line(get_settings().search_concurrency)
        return _search_line


def search(
    token: str,
    query: str,
    limit: int = 10,
    video_id: str | None = None,
    channels: tuple[str, ...] = (),
    person: str | None = None,
    page: int = 1,
    since_days: int | None = None,
) -> list[dict]:
    """The user's moments for ``query`` (:func:`heimdex.app.core.search`), in line and within the user's rate."""
    words = {"query": query} if get_settings().log_queries else {}
    with _searches(), _Acting("search", **words) as acting:
        user = acting.signed_in(token)
        hit(_db(), "search", str(user.id), user.id)
        started = time.perf_counter()
        found = core.search(user, query, limit, video_id, channels, person, page, since_days)
        metrics.searched(tuple(channels or ()), time.perf_counter() - started, len(found))
        acting.fields["results"] = len(found)
        return found


# ---- plain doors ----

profile = _door(core.profile)
videos = _door(core.videos)
delete_video = _door(core.delete_video)
rename_video = _door(core.rename_video)
reindex = _door(core.reindex)
cancel = _door(core.cancel)
preview = _door(core.preview)
clip_link = _door(core.clip_link)
open_moment = _door(core.open_moment)
moment = _door(core.moment)
share_link = _door(core.share_link)
open_shared = _door(core.open_shared)
still_links = _door(core.still_links)
transcript = _door(core.transcript)
publish_clip = _door(core.publish_clip)
unpublish_clip = _door(core.unpublish_clip)
public_clips = _door(core.public_clips)
pictures = _door(core.pictures)
face_pictures = _door(core.face_pictures)
people = _door(core.people)
person_faces = _door(core.person_faces)
likely_faces = _door(core.likely_faces)
scene_faces = _door(core.scene_faces)
name_face = _door(core.name_face)
rename_person = _door(core.rename_person)
merge_people = _door(core.merge_people)
split_person = _door(core.split_person)
delete_person = _door(core.delete_person)
