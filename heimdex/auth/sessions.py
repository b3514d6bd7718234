"""Sessions: opaque tokens for signed-in users, stored only as their sha256, with an expiry.

Signing in rotates (a new token each time); signing out revokes; an unknown, revoked or
expired token is :class:`Unauthorized`, with one message whatever the reason.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from heimdex.auth.users import User
from heimdex.db import Database
from heimdex.errors import BadInput, Kind

SESSION_DAYS = 14


class Unauthorized(BadInput):
    def __init__(self) -> None:
        super().__init__("unauthorized", "Please sign in again.", Kind.UNAUTHORIZED)


def _digest(token: str) -> bytes:
    return hashlib.sha256(str(token).encode("utf-8", "replace")).digest()


def start_session(db: Database, user_id: uuid.UUID) -> str:
    """A new token for ``user_id`` (the only time it exists in clear)."""
    token = secrets.token_urlsafe(32)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO sessions (user_id, token_hash, expires_at) VALUES (%s, %s, now() + %s)",
            (user_id, _digest(token), timedelta(days=SESSION_DAYS)),
        )
    return token


def session_user(db: Database, token: str | None) -> User:
    """The user a live token belongs to; :class:`Unauthorized` otherwise."""
    if not isinstance(token, str) or not token or len(token) > 200:
        raise Unauthorized()
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT u.*, s.id AS session_id FROM sessions s JOIN users u ON u.id = s.user_id
               WHERE s.token_hash = %s AND s.revoked_at IS NULL AND s.expires_at > now()""",
            (_digest(token),),
        ).fetchone()
    if row is None:
        raise Unauthorized()
    return User.from_row(row)


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


def end_session(db: Database, token: str) -> None:
    """Revoke one token (signing out); unknown tokens are ignored."""
    with db.transaction() as conn:
        conn.execute(
            "UPDATE sessions SET revoked_at = now() WHERE token_hash = %s AND revoked_at IS NULL", (_digest(token),)
        )


def end_all_sessions(db: Database, user_id: uuid.UUID) -> None:
    """Revoke every token of a user (after a password change)."""
    with db.transaction() as conn:
        conn.execute("UPDATE sessions SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL", (user_id,))
