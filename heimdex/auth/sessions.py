"""Sessions: a family of opaque tokens per sign-in, stored only as their sha256.

A sign-in opens a session and gives two tokens: an **access token** that every call carries, alive
``access_minutes`` (15), and a **refresh token**, alive ``refresh_days`` (7) unused, that buys the next
pair once: each use replaces it (rotation). A refresh token used a second time was copied, so the
whole session ends (and with it every link made under it), unless the second use comes within
:data:`REUSE_GRACE_S` of the first (one page asking twice at once): that one, and only one, gets a pair of
its own.
An unknown, spent, revoked or expired token is :class:`Unauthorized`, with one message whatever the reason.
The session row keeps the device it began on and when it was last seen (Account → Sessions).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import LiteralString, TypedDict

from psycopg.types.json import Jsonb

from heimdex.auth.users import User
from heimdex.config import get_settings
from heimdex.db import Conn, Database, one
from heimdex.errors import BadInput, Kind

REUSE_GRACE_S = 10  # a refresh token used again this soon after its rotation is the same page asking twice
SEEN_EVERY_S = 60  # last_seen_at is written at most this often per session


class Unauthorized(BadInput):
    def __init__(self) -> None:
        super().__init__("unauthorized", "Please sign in again.", Kind.UNAUTHORIZED)


class TokenPair(TypedDict):
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives


@dataclass(frozen=True)
class Tokens:
    """What a sign-in gives: the access token, the refresh token that renews it, and how long it lives."""

    access_token: str
    refresh_token: str
    expires_in: int

    def as_dict(self) -> TokenPair:
        return TokenPair(**asdict(self))


def _digest(token: str) -> bytes:
    return hashlib.sha256(str(token).encode("utf-8", "replace")).digest()


def _pair(conn: Conn, session_id: int) -> Tokens:
    """A new access and refresh token in ``session_id`` (the only time they exist in clear)."""
    settings = get_settings()
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    lives = timedelta(minutes=settings.access_minutes)
    conn.execute(
        """INSERT INTO session_tokens (token_hash, session_id, kind, expires_at)
           VALUES (%s, %s, 'access', now() + %s), (%s, %s, 'refresh', now() + %s)""",
        (_digest(access), session_id, lives, _digest(refresh), session_id, timedelta(days=settings.refresh_days)),
    )
    conn.execute(
        "UPDATE sessions SET expires_at = now() + %s, last_seen_at = now() WHERE id = %s",
        (timedelta(days=settings.refresh_days), session_id),
    )
    return Tokens(access, refresh, int(lives.total_seconds()))


def open_session(db: Database, user_id: uuid.UUID, user_agent: str = "") -> Tokens:
    """A new session for ``user_id`` (``user_agent``: the browser it began in, kept to show it)."""
    with db.transaction() as conn:
        session = one(
            conn.execute(
                "INSERT INTO sessions (user_id, expires_at, user_agent) VALUES (%s, now(), %s) RETURNING id",
                (user_id, (user_agent or "")[:400]),
            ).fetchone()
        )["id"]
        return _pair(conn, session)


def start_session(db: Database, user_id: uuid.UUID, user_agent: str = "") -> str:
    """A new session's access token alone (the command line and tests, which never renew it)."""
    return open_session(db, user_id, user_agent).access_token


def _shaped(token: object) -> str:
    if not isinstance(token, str) or not token or len(token) > 200:
        raise Unauthorized()
    return token


def session_user(db: Database, token: str | None) -> User:
    """The user a live access token belongs to; :class:`Unauthorized` otherwise."""
    digest = _digest(_shaped(token))
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT u.*, s.id AS session_id, s.last_seen_at < now() - make_interval(secs => %s) AS stale
               FROM session_tokens t JOIN sessions s ON s.id = t.session_id JOIN users u ON u.id = s.user_id
               WHERE t.token_hash = %s AND t.kind = 'access' AND t.expires_at > now()
                 AND s.revoked_at IS NULL AND s.expires_at > now()""",
            (SEEN_EVERY_S, digest),
        ).fetchone()
        if row is not None and row["stale"]:
            conn.execute("UPDATE sessions SET last_seen_at = now() WHERE id = %s", (row["session_id"],))
    if row is None:
        raise Unauthorized()
    return User.from_row(row)


def refresh_session(db: Database, refresh_token: str | None) -> Tokens:
    """The next pair for a live refresh token, which is spent by it. A spent one used again ends its session
    (:class:`Unauthorized`; ``ended_by = 'refresh_reuse'``), but within :data:`REUSE_GRACE_S`."""
    digest = _digest(_shaped(refresh_token))
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT t.session_id, t.used_at, t.reused_at,
                      t.used_at > now() - make_interval(secs => %s) AS just_now, s.user_id
               FROM session_tokens t JOIN sessions s ON s.id = t.session_id
               WHERE t.token_hash = %s AND t.kind = 'refresh' AND t.expires_at > now()
                 AND s.revoked_at IS NULL AND s.expires_at > now()
               FOR UPDATE OF t, s""",
            (REUSE_GRACE_S, digest),
        ).fetchone()
        if row is None:
            raise Unauthorized()
        first = row["used_at"] is None
        if first or (row["just_now"] and row["reused_at"] is None):  # the grace is for one second asking, once
            conn.execute(
                """UPDATE session_tokens SET used_at = coalesce(used_at, now()),
                       reused_at = CASE WHEN used_at IS NULL THEN NULL ELSE now() END
                   WHERE token_hash = %s""",
                (digest,),
            )
            conn.execute(  # the access tokens before it are done with
                "DELETE FROM session_tokens WHERE session_id = %s AND kind = 'access' AND expires_at <= now()",
                (row["session_id"],),
            )
            return _pair(conn, row["session_id"])
        _end(conn, "id = %s", row["session_id"], "refresh_reuse")
        conn.execute(
            "INSERT INTO audit_events (user_id, event, detail) VALUES (%s, 'session_ended', %s)",
            (row["user_id"], Jsonb({"why": "refresh_reuse"})),
        )
    raise Unauthorized()


def _end(conn: Conn, where: LiteralString, value: object, why: str, *more: object) -> int:
    """Revoke the live sessions matching ``where`` and drop their tokens; how many ended."""
    ended = conn.execute(
        f"UPDATE sessions SET revoked_at = now(), ended_by = %s WHERE {where} AND revoked_at IS NULL RETURNING id",
        (why, value, *more),
    ).fetchall()
    ids = [r["id"] for r in ended]
    if ids:
        conn.execute("DELETE FROM session_tokens WHERE session_id = ANY(%s)", (ids,))
    return len(ids)


def session_live(db: Database, session_id: int, user_id: uuid.UUID) -> bool:
    """Whether the user's session ``session_id`` is neither signed out nor expired (a signed link lives as long)."""
    if not 0 < session_id < 1 << 63:
        return False
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT 1 FROM sessions WHERE id = %s AND user_id = %s AND revoked_at IS NULL AND expires_at > now()",
            (session_id, user_id),
        ).fetchone()
    return row is not None


def end_session(db: Database, token: str, why: str = "sign_out") -> uuid.UUID | None:
    """End the session an access or refresh token belongs to (signing out); its user, or None for a token that
    belongs to no live session."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT s.id, s.user_id FROM session_tokens t JOIN sessions s ON s.id = t.session_id
               WHERE t.token_hash = %s AND t.expires_at > now() AND (t.kind = 'access' OR t.used_at IS NULL)""",
            (_digest(token),),
        ).fetchone()
        if row is None or not _end(conn, "id = %s", row["id"], why):
            return None
        return row["user_id"]


def end_session_id(db: Database, user_id: uuid.UUID, session_id: int, why: str = "ended_elsewhere") -> bool:
    """End one of the user's own sessions by its id (Account → Sessions); whether a live one ended."""
    if not isinstance(session_id, int) or not 0 < session_id < 1 << 63:
        return False
    with db.transaction() as conn:
        return _end(conn, "id = %s AND user_id = %s", session_id, why, user_id) > 0


def end_all_sessions(db: Database, user_id: uuid.UUID, why: str = "sign_out_everywhere") -> int:
    """End every session of a user (a new password, signing out everywhere); how many ended."""
    with db.transaction() as conn:
        return _end(conn, "user_id = %s", user_id, why)


class SessionRow(TypedDict):
    session_id: int
    user_agent: str
    created_at: str
    last_seen_at: str
    current: bool


def live_sessions(db: Database, user: User) -> list[SessionRow]:
    """The user's live sessions, the one acting (``user.session_id``) first, then the most recently seen."""
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT id, user_agent, created_at, last_seen_at FROM sessions
               WHERE user_id = %s AND revoked_at IS NULL AND expires_at > now()
               ORDER BY id = %s DESC, last_seen_at DESC LIMIT 100""",
            (user.id, user.session_id or 0),
        ).fetchall()
    return [
        SessionRow(
            session_id=r["id"],
            user_agent=r["user_agent"],
            created_at=r["created_at"].isoformat(),
            last_seen_at=r["last_seen_at"].isoformat(),
            current=r["id"] == user.session_id,
        )
        for r in rows
    ]


def forget_expired(db: Database) -> int:
    """Delete tokens past their expiry (a spent refresh token is kept until then: its reuse must be seen); how
    many went (upkeep)."""
    with db.transaction() as conn:
        return conn.execute("DELETE FROM session_tokens WHERE expires_at < now()").rowcount
