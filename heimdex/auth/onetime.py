"""One-time links sent by mail: verify the address, reset the password, sign in without one.

A link carries a random token; only its sha256 is kept, with its purpose and expiry
(:data:`LIVES`). Redeeming spends it and every other unspent token of the same user and purpose,
in one statement, so a link works once and a newer link retires the older ones on use.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Literal

from heimdex.db import Database
from heimdex.errors import BadInput, Kind

Purpose = Literal["verify", "reset", "magic"]
LIVES: dict[str, timedelta] = {
    "verify": timedelta(hours=24),
    "reset": timedelta(hours=1),
    "magic": timedelta(minutes=15),
}


class LinkExpired(BadInput):
    def __init__(self) -> None:
        super().__init__(
            "link_expired", "This link has expired or was already used; ask for a new one.", Kind.FORBIDDEN
        )


def _digest(token: object) -> bytes:
    """The stored form of a token; :class:`LinkExpired` for anything not shaped like one."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise LinkExpired()
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()


def issue(db: Database, user_id: uuid.UUID, purpose: Purpose) -> str:
    """A new token for ``purpose`` (the only time it exists in clear)."""
    token = secrets.token_urlsafe(32)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at) VALUES (%s, %s, %s, now() + %s)",
            (user_id, purpose, _digest(token), LIVES[purpose]),
        )
    return token


def peek(db: Database, token: object, purpose: Purpose) -> uuid.UUID:
    """The user a live ``purpose`` token was issued to, without spending it; :class:`LinkExpired` otherwise."""
    digest = _digest(token)
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT user_id FROM account_tokens
               WHERE token_hash = %s AND purpose = %s AND used_at IS NULL AND expires_at > now()""",
            (digest, purpose),
        ).fetchone()
    if row is None:
        raise LinkExpired()
    return row["user_id"]


def redeem(db: Database, token: object, purpose: Purpose) -> uuid.UUID:
    """The user a live ``purpose`` token was issued to, spending it (and the user's other ones of that purpose);
    :class:`LinkExpired` for an unknown, spent, expired or other-purpose token."""
    digest = _digest(token)
    with db.transaction() as conn:
        row = conn.execute(
            """UPDATE account_tokens SET used_at = now()
               WHERE token_hash = %s AND purpose = %s AND used_at IS NULL AND expires_at > now()
               RETURNING user_id""",
            (digest, purpose),
        ).fetchone()
        if row is None:
            raise LinkExpired()
        conn.execute(
            "UPDATE account_tokens SET used_at = now() WHERE user_id = %s AND purpose = %s AND used_at IS NULL",
            (row["user_id"], purpose),
        )
    return row["user_id"]


def forget_spent(db: Database) -> int:
    """Delete the tokens that can no longer be used (spent or expired a day ago); how many went (upkeep)."""
    with db.transaction() as conn:
        return conn.execute(
            "DELETE FROM account_tokens WHERE coalesce(used_at, expires_at) < now() - interval '1 day'"
        ).rowcount
