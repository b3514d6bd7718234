"""Accounts: register, sign in, sign out, change password, profile, delete, all returning or taking tokens.

Local accounts by default (argon2id, opaque session tokens). With ``SUPABASE_URL`` set,
sign-in goes through Supabase Auth and its JWT is verified here (:mod:`heimdex.auth.supabase`)
and mapped to a local user row. Failed sign-ins are rate limited per email and audited;
the message never says whether the email exists.
"""

from __future__ import annotations

import hashlib
import uuid

from psycopg.types.json import Jsonb

from heimdex.auth.passwords import check_strength, hash_password, verify_password
from heimdex.auth.sessions import Unauthorized, end_all_sessions, end_session, session_user, start_session
from heimdex.auth.users import User, create_user, delete_user, normalize_email
from heimdex.config import get_settings
from heimdex.db import Database, one
from heimdex.errors import BadInput, Kind
from heimdex.library.quotas import hit
from heimdex.storage import BlobStore

SIGN_IN_FAILED = "The email or password is not right."


def audit(db: Database, user_id: uuid.UUID | None, event: str, **detail) -> None:
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO audit_events (user_id, event, detail) VALUES (%s, %s, %s)", (user_id, event, Jsonb(detail))
        )


def _email_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


LOCK_AFTER = 5  # failed sign-ins in a row before an account key locks
LOCK_FIRST_S = 30.0  # the first lock; each further failure doubles it
LOCK_LONGEST_S = 3600.0


class SignInLocked(BadInput):
    def __init__(self, seconds: float):
        wait = f"{int(seconds // 60) + 1} minute(s)" if seconds >= 60 else f"{int(seconds) + 1} seconds"
        super().__init__(
            "sign_in_locked", f"Too many failed sign-ins for this account; try again in {wait}.", Kind.RATE_LIMITED
        )


def register(db: Database, email: str, password: str, display_name: str = "", client: str | None = None) -> str:
    """Create a local account and sign it in; return the session token (``client``: the caller's address, rate limited)."""
    if get_settings().supabase_url:
        raise BadInput(
            "use_supabase", "Accounts are managed by Supabase here: sign up through the project's sign-up page."
        )
    if client:
        hit(db, "register", client)
    user = create_user(db, email, password, display_name)
    audit(db, user.id, "register")
    return start_session(db, user.id)


def login(db: Database, email: str, password: str, client: str | None = None) -> str:
    """Sign in; return a new session token (:class:`BadInput` with one message for any failure).

    Failures lock the account key (a hash of the e-mail, whether or not it has an account)
    with backoff; ``client`` (the caller's address) is rate limited; an unknown e-mail costs
    the same password hashing as a known one.
    """
    if get_settings().supabase_url:
        from heimdex.auth.supabase import supabase_login

        return supabase_login(db, email, password)
    if client:
        hit(db, "sign_in", client)
    key = _email_key(email)
    _not_locked(db, key)
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT id, password_hash FROM users WHERE email = %s AND auth_provider = 'local'", (email.strip().lower(),)
        ).fetchone()
    if not verify_password(row["password_hash"] if row else None, password):
        _failed(db, key)
        audit(db, row["id"] if row else None, "login_failed", email_hash=key)
        raise BadInput("sign_in_failed", SIGN_IN_FAILED)
    assert row is not None  # a missing row failed the check above (after the same hashing work)
    with db.transaction() as conn:
        conn.execute("DELETE FROM sign_in_failures WHERE key = %s", (key,))
    audit(db, row["id"], "login")
    return start_session(db, row["id"])


def _not_locked(db: Database, key: str) -> None:
    """:class:`SignInLocked` while the account key is locked."""
    with db.transaction() as conn:
        locked = conn.execute(
            "SELECT extract(epoch FROM locked_until - now()) AS wait FROM sign_in_failures WHERE key = %s AND locked_until > now()",
            (key,),
        ).fetchone()
    if locked:
        raise SignInLocked(float(locked["wait"]))


def _confirm_password(db: Database, user: User, password: str, refusal: str) -> None:
    """Check a signed-in user's password (to change it, or to delete the account) under the sign-in lockout:
    a stolen session cannot guess it faster than a stranger could sign in."""
    key = _email_key(user.email)
    _not_locked(db, key)
    with db.transaction() as conn:
        row = one(conn.execute("SELECT password_hash FROM users WHERE id = %s", (user.id,)).fetchone())
    if not row["password_hash"] or not verify_password(row["password_hash"], password):
        _failed(db, key)
        audit(db, user.id, "password_check_failed")
        raise BadInput("sign_in_failed", refusal)
    with db.transaction() as conn:
        conn.execute("DELETE FROM sign_in_failures WHERE key = %s", (key,))


def _failed(db: Database, key: str) -> None:
    """Count a failed sign-in; from the ``LOCK_AFTER``-th in a row the key locks, twice as long each time."""
    with db.transaction() as conn:
        conn.execute(
            """INSERT INTO sign_in_failures (key, failures) VALUES (%(key)s, 1)
               ON CONFLICT (key) DO UPDATE SET failures = sign_in_failures.failures + 1, last_at = now(),
                   locked_until = CASE WHEN sign_in_failures.failures + 1 >= %(after)s
                       THEN now() + make_interval(secs => least(%(longest)s,
                            %(first)s * power(2, sign_in_failures.failures + 1 - %(after)s)))
                       ELSE sign_in_failures.locked_until END""",
            {"key": key, "after": LOCK_AFTER, "first": LOCK_FIRST_S, "longest": LOCK_LONGEST_S},
        )


def logout(db: Database, token: str) -> None:
    end_session(db, token)


def change_password(db: Database, token: str, current: str, new: str) -> str:
    """Set a new password, sign out everywhere, and return a fresh token."""
    user = session_user(db, token)
    _confirm_password(db, user, current, "The current password is not right.")
    check_strength(new, user.email, user.display_name)
    with db.transaction() as conn:
        conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (hash_password(new), user.id))
    end_all_sessions(db, user.id)
    audit(db, user.id, "password_changed")
    return start_session(db, user.id)


def rename(db: Database, token: str, display_name: str) -> User:
    user = session_user(db, token)
    name = display_name.strip()[:100]
    if not name:
        raise BadInput("bad_name", "Enter a display name.")
    with db.transaction() as conn:
        row = one(
            conn.execute("UPDATE users SET display_name = %s WHERE id = %s RETURNING *", (name, user.id)).fetchone()
        )
    return User.from_row(row)


def delete_account(db: Database, store: BlobStore, token: str, password: str) -> None:
    """Delete the signed-in user and everything they own (their password confirms it for local accounts)."""
    user = session_user(db, token)
    if user.auth_provider == "local":
        _confirm_password(db, user, password, "The password is not right.")
    delete_user(db, store, user.id)


__all__ = [
    "SIGN_IN_FAILED",
    "SignInLocked",
    "Unauthorized",
    "change_password",
    "delete_account",
    "login",
    "logout",
    "register",
    "rename",
    "normalize_email",
]
