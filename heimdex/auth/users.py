"""User accounts: create, look up, delete (with every row and blob they own)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg

from heimdex.auth.passwords import check_strength, hash_password
from heimdex.db import Database, one
from heimdex.errors import BadInput, NotFound
from heimdex.library.orphans import delete_blobs
from heimdex.storage import BlobStore, user_prefix

REGISTER_FAILED = "An account could not be made with this email; if you already have one, sign in."
# A plain address: no display name, quotes, comments or encoded words that a mail header would read otherwise
# (mail goes to exactly the address kept).
EMAIL_PATTERN = re.compile(r"^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    display_name: str
    tier: str
    auth_provider: str
    created_at: datetime
    email_verified_at: datetime | None = None  # when the owner proved the address (None: not yet)
    session_id: int | None = None  # the session this user acts through (None: the command line); links die with it

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None or self.auth_provider != "local"

    @classmethod
    def from_row(cls, row: dict) -> User:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__ if name in row})


def normalize_email(email: str) -> str:
    """Trimmed, lower-cased ``email``; :class:`BadInput` if it is not an address."""
    email = email.strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise BadInput("bad_email", "Enter a valid email address.")
    return email


def create_user(db: Database, email: str, password: str, display_name: str = "", verified: bool = True) -> User:
    """Create a local account; :class:`BadInput` if the email is taken or the password weak. ``verified``: whether
    its address counts as proven (an operator's or a test's account); sign-up makes it unverified."""
    email = normalize_email(email)
    display_name = " ".join(display_name.split())  # one line: it is said in mail and on screens
    check_strength(password, email, display_name)
    try:
        with db.transaction() as conn:
            row = conn.execute(
                """INSERT INTO users (id, email, display_name, password_hash, email_verified_at)
                   VALUES (%s, %s, %s, %s, CASE WHEN %s THEN now() END) RETURNING *""",
                (uuid.uuid4(), email, display_name.strip() or email.split("@")[0], hash_password(password), verified),
            ).fetchone()
    except psycopg.errors.UniqueViolation:
        raise BadInput("register_failed", REGISTER_FAILED) from None
    return User.from_row(one(row))


def get_user_by_email(db: Database, email: str) -> User:
    """The user with ``email``; :class:`NotFound` if there is none."""
    email = email.strip().lower()
    with db.transaction() as conn:
        row = conn.execute("SELECT * FROM users WHERE email = %s", (email,)).fetchone()
    if row is None:
        raise NotFound("user", email)
    return User.from_row(row)


def get_user(db: Database, user_id: uuid.UUID) -> User:
    with db.transaction() as conn:
        row = conn.execute("SELECT * FROM users WHERE id = %s", (user_id,)).fetchone()
    if row is None:
        raise NotFound("user", user_id)
    return User.from_row(row)


def delete_user(db: Database, store: BlobStore, user_id: uuid.UUID) -> None:
    """Delete a user, every row that references them (cascade) and all their blobs."""
    with db.transaction() as conn:
        deleted = conn.execute("DELETE FROM users WHERE id = %s RETURNING id", (user_id,)).fetchone()
    if deleted is None:
        raise NotFound("user", user_id)
    delete_blobs(db, store, [user_prefix(user_id)])
