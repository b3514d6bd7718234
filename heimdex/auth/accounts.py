"""Accounts: sign up, verify the address, sign in (with a password or a mailed link), renew, reset a forgotten
password, see and end sessions, and the account's activity.

Local accounts by default (argon2id, opaque tokens in session families: :mod:`heimdex.auth.sessions`). With
``SUPABASE_URL`` set, sign-up, sign-in and the mailed links go through Supabase Auth, which sends its own mail
(:mod:`heimdex.auth.supabase`). Nothing here says whether an address has an account: sign-in failures read
the same, and asking for a reset or a sign-in link answers the same, at once, for any address; the lookup
and the mail happen afterwards on a background thread. Sign-up is the exception: an address that has an
account cannot sign up again, which it says (sign-up is limited per client). Failed sign-ins lock the address with backoff; mail
asked for is limited per address and per client. Every account event is recorded (``audit_events``) and shown
to its user (:func:`activity`).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypedDict

from psycopg.types.json import Jsonb

from heimdex.auth import onetime
from heimdex.auth.devices import device
from heimdex.auth.passwords import check_strength, hash_password, verify_password
from heimdex.auth.sessions import (
    SessionRow,
    Tokens,
    Unauthorized,
    end_all_sessions,
    end_session,
    end_session_id,
    live_sessions,
    open_session,
    refresh_session,
    session_user,
)
from heimdex.auth.users import User, create_user, delete_user, get_user, normalize_email
from heimdex.config import get_settings
from heimdex.db import Database, one
from heimdex.errors import BadInput, Kind
from heimdex.library.quotas import hit
from heimdex.storage import BlobStore

log = logging.getLogger("heimdex.accounts")

SIGN_IN_FAILED = "The email or password is not right."
LINK_SENT = (
    "If an account uses this address, a link is on its way to it. It may take a minute; check the spam folder too."
)
UNVERIFIED_MAY = (
    "Until you confirm your email address you can upload, index and search your videos, "
    "but not make public links or download your data."
)


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
            "sign_in_locked",
            f"Too many failed sign-ins for this account; try again in {wait}, or sign in with a link by email.",
            Kind.RATE_LIMITED,
        )


def _supabase() -> bool:
    return bool(get_settings().supabase_url)


def register(
    db: Database,
    email: str,
    password: str,
    display_name: str = "",
    client: str | None = None,
    user_agent: str = "",
    lang: str | None = None,
) -> Tokens:
    """Create a local account, send the link that verifies its address, and sign it in (``client``: the caller's
    address, rate limited)."""
    if _supabase():
        from heimdex.auth.supabase import supabase_sign_up

        return supabase_sign_up(db, email, password, user_agent)
    if client:
        hit(db, "register", client)
    user = create_user(db, email, password, display_name, verified=False)
    audit(db, user.id, "register", device=device(user_agent))
    _send_link(db, user, "verify", lang)
    return open_session(db, user.id, user_agent)


def login(db: Database, email: str, password: str, client: str | None = None, user_agent: str = "") -> Tokens:
    """Sign in; a new session (:class:`BadInput` with one message for any failure).

    Failures lock the account key (a hash of the e-mail, whether or not it has an account)
    with backoff; ``client`` (the caller's address) is rate limited; an unknown e-mail costs
    the same password hashing as a known one.
    """
    if _supabase():
        from heimdex.auth.supabase import supabase_login

        return supabase_login(db, email, password, user_agent)
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
        audit(db, row["id"] if row else None, "login_failed", email_hash=key, device=device(user_agent))
        raise BadInput("sign_in_failed", SIGN_IN_FAILED)
    assert row is not None  # a missing row failed the check above (after the same hashing work)
    _unlock(db, key)
    audit(db, row["id"], "login", device=device(user_agent))
    return open_session(db, row["id"], user_agent)


def refresh(db: Database, refresh_token: str) -> Tokens:
    """The next access and refresh token for a refresh token (spent by it; see :mod:`heimdex.auth.sessions`)."""
    return refresh_session(db, refresh_token)


def _not_locked(db: Database, key: str) -> None:
    """:class:`SignInLocked` while the account key is locked."""
    with db.transaction() as conn:
        locked = conn.execute(
            "SELECT extract(epoch FROM locked_until - now()) AS wait FROM sign_in_failures WHERE key = %s AND locked_until > now()",
            (key,),
        ).fetchone()
    if locked:
        raise SignInLocked(float(locked["wait"]))


def _unlock(db: Database, key: str) -> None:
    with db.transaction() as conn:
        conn.execute("DELETE FROM sign_in_failures WHERE key = %s", (key,))


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
    _unlock(db, key)


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


# -- mailed links ---------------------------------------------------------------------------------------------------

_mail_work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="account-mail")


def _send_link(db: Database, user: User, purpose: onetime.Purpose, lang: str | None) -> None:
    """Issue a ``purpose`` link for ``user`` and mail it (the mail is handed to the mailer's own thread)."""
    from heimdex.auth import mail

    token = onetime.issue(db, user.id, purpose)
    link = f"{get_settings().public_url.rstrip('/')}/?{purpose}={token}"
    name = user.display_name if user.verified else ""  # nobody's words in mail to an address not proven yet
    mail.send_later(mail.compose(purpose, lang, user.email, name=name, link=link))
    audit(db, user.id, f"{purpose}_link_sent")


def _link_for_address(email: str, purpose: onetime.Purpose, lang: str | None) -> None:
    """The background half of :func:`request_password_reset` and :func:`request_magic_link`."""
    from heimdex.db import get_database

    db = get_database()
    try:
        with db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM users WHERE email = %s AND auth_provider = 'local'", (email.strip().lower(),)
            ).fetchone()
        if row is not None:
            _send_link(db, User.from_row(row), purpose, lang)
    except Exception:
        log.exception("a %s link could not be sent", purpose)


def _ask_for_link(db: Database, email: str, client: str | None, purpose: onetime.Purpose, lang: str | None) -> Future:
    """Count the request (per address, whether or not it has an account, and per client), then look the address
    up and mail the link afterwards: the answer and its time are the same for every address."""
    email = normalize_email(email)
    if client:
        hit(db, "mail_from", client)
    hit(db, "mail_to", _email_key(email))
    return _mail_work.submit(_link_for_address, email, purpose, lang)


def settle(timeout: float = 30.0) -> None:
    """Wait until the addresses asked about so far were looked up and their mail handed on (tests, shutdown)."""
    _mail_work.submit(lambda: None).result(timeout)


def request_password_reset(db: Database, email: str, client: str | None = None, lang: str | None = None) -> None:
    """Mail a link (1 h, once) that sets a new password, if ``email`` has an account; the same answer either way."""
    if _supabase():
        from heimdex.auth.supabase import supabase_send_link

        supabase_send_link(normalize_email(email), "reset")
        return
    _ask_for_link(db, email, client, "reset", lang)


def request_magic_link(db: Database, email: str, client: str | None = None, lang: str | None = None) -> None:
    """Mail a sign-in link (15 min, once), if ``email`` has an account; the same answer either way."""
    if _supabase():
        from heimdex.auth.supabase import supabase_send_link

        supabase_send_link(normalize_email(email), "magic")
        return
    _ask_for_link(db, email, client, "magic", lang)


def resend_verification(db: Database, token: str, lang: str | None = None) -> None:
    """Mail the signed-in user a new link that verifies their address (limited like every account mail)."""
    user = session_user(db, token)
    if user.verified:
        raise BadInput("already_verified", "Your email address is already confirmed.", Kind.CONFLICT)
    hit(db, "mail_to", _email_key(user.email))
    _send_link(db, user, "verify", lang)


def _spend_links(db: Database, user_id: uuid.UUID) -> None:
    """A new password retires every reset and sign-in link still out."""
    with db.transaction() as conn:
        conn.execute(
            """UPDATE account_tokens SET used_at = now()
               WHERE user_id = %s AND purpose IN ('reset', 'magic') AND used_at IS NULL""",
            (user_id,),
        )


def _proven(db: Database, user_id: uuid.UUID) -> User:
    """A link sent to the address came back: the address is the owner's."""
    with db.transaction() as conn:
        conn.execute(
            "UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = %s", (user_id,)
        )
    return get_user(db, user_id)


def verify_email(db: Database, link: str) -> None:
    """Spend a verification link: the account's address is confirmed."""
    user = _proven(db, onetime.redeem(db, link, "verify"))
    audit(db, user.id, "email_verified")


def reset_password(db: Database, link: str, new_password: str, user_agent: str = "") -> Tokens:
    """Spend a reset link: set ``new_password``, end every other session, lift a sign-in lock, and sign in. With
    Supabase Auth, ``link`` is the access and refresh token its mail brought back, space-separated."""
    if _supabase():
        from heimdex.auth.supabase import supabase_session, supabase_set_password

        access, _, refresh = link.partition(" ")
        supabase_set_password(access, refresh, new_password)
        tokens = supabase_session(db, access, user_agent)
        here = session_user(db, tokens.access_token)
        end_all_sessions(db, here.id, "password_reset")
        return open_session(db, here.id, user_agent)
    user = get_user(db, onetime.peek(db, link, "reset"))
    check_strength(new_password, user.email, user.display_name)  # a weak password does not cost the link
    onetime.redeem(db, link, "reset")
    with db.transaction() as conn:
        conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (hash_password(new_password), user.id))
    _proven(db, user.id)
    _spend_links(db, user.id)
    end_all_sessions(db, user.id, "password_reset")
    _unlock(db, _email_key(user.email))
    audit(db, user.id, "password_reset", device=device(user_agent))
    return open_session(db, user.id, user_agent)


def magic_sign_in(db: Database, link: str, user_agent: str = "") -> Tokens:
    """Spend a sign-in link: a new session (the address is proven by it)."""
    user_id = onetime.redeem(db, link, "magic")
    if not get_user(db, user_id).verified:  # the owner of the address claims an account someone made with it
        with db.transaction() as conn:
            conn.execute("UPDATE users SET password_hash = NULL WHERE id = %s", (user_id,))
        end_all_sessions(db, user_id, "address_claimed")
        audit(db, user_id, "address_claimed")
    user = _proven(db, user_id)
    _unlock(db, _email_key(user.email))
    audit(db, user.id, "login", how="link", device=device(user_agent))
    return open_session(db, user.id, user_agent)


def link_sign_in(db: Database, access_token: str, user_agent: str = "") -> Tokens:
    """With Supabase Auth: the session of a person its mail brought back (a confirmed address, a sign-in link),
    from the access token the link gave."""
    if not _supabase():
        raise BadInput("not_supabase", "Sign-in links come from this app's own mail here.", Kind.INVALID)
    from heimdex.auth.supabase import supabase_session

    return supabase_session(db, access_token, user_agent)


def require_verified(user: User) -> None:
    """:class:`BadInput` unless the user's address is confirmed (public links and data exports wait for it)."""
    if not user.verified:
        raise BadInput(
            "verify_first",
            "Confirm your email address first: open the link we sent you (Account → Send the link again).",
            Kind.FORBIDDEN,
        )


# -- the session's own account ---------------------------------------------------------------------------------------


def logout(db: Database, token: str) -> None:
    """End the session an access or a refresh token belongs to (an API client may hold only the latter)."""
    user_id = end_session(db, token)
    if user_id is not None:
        audit(db, user_id, "sign_out")


def change_password(db: Database, token: str, current: str, new: str, user_agent: str = "") -> Tokens:
    """Set a new password, sign out everywhere, and open a fresh session here."""
    user = session_user(db, token)
    _confirm_password(db, user, current, "The current password is not right.")
    check_strength(new, user.email, user.display_name)
    with db.transaction() as conn:
        conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (hash_password(new), user.id))
    _spend_links(db, user.id)
    end_all_sessions(db, user.id, "password_changed")
    audit(db, user.id, "password_changed", device=device(user_agent))
    return open_session(db, user.id, user_agent)


class SessionShown(TypedDict):
    session_id: int
    device: str
    created_at: str
    last_seen_at: str
    current: bool


def sessions(db: Database, token: str) -> list[SessionShown]:
    """The signed-in user's live sessions: where each began, when it was last seen, which one is this."""
    user = session_user(db, token)
    return [_shown(row) for row in live_sessions(db, user)]


def _shown(row: SessionRow) -> SessionShown:
    return SessionShown(
        session_id=row["session_id"],
        device=device(row["user_agent"]) or "Unknown device",
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        current=row["current"],
    )


def end_other_session(db: Database, token: str, session_id: int) -> None:
    """Sign out one of the user's sessions (on another device, or this one)."""
    user = session_user(db, token)
    try:
        wanted = int(session_id)
    except (TypeError, ValueError):
        raise BadInput("not_found", "There is no such session.", Kind.NOT_FOUND) from None
    if not end_session_id(db, user.id, wanted):
        raise BadInput("not_found", "There is no such session.", Kind.NOT_FOUND)
    audit(db, user.id, "session_ended", why="signed_out_from_account", session_id=wanted)


def sign_out_everywhere(db: Database, token: str) -> None:
    """End every session of the signed-in user, this one too."""
    user = session_user(db, token)
    ended = end_all_sessions(db, user.id, "sign_out_everywhere")
    audit(db, user.id, "sign_out_everywhere", sessions=ended)


class Event(TypedDict):
    event: str
    at: str
    device: str
    detail: dict


def activity(db: Database, token: str, limit: int = 50) -> list[Event]:
    """The signed-in user's account events, newest first (sign-ins, failed ones, links sent and used, sessions
    ended, exports)."""
    user = session_user(db, token)
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT event, detail, created_at FROM audit_events WHERE user_id = %s ORDER BY id DESC LIMIT %s",
            (user.id, max(1, min(int(limit), 200))),
        ).fetchall()
    return [
        Event(
            event=r["event"],
            at=r["created_at"].isoformat(),
            device=str((r["detail"] or {}).get("device", "")),
            detail={k: v for k, v in (r["detail"] or {}).items() if k not in {"device", "email_hash"}},
        )
        for r in rows
    ]


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
    "LINK_SENT",
    "SIGN_IN_FAILED",
    "SignInLocked",
    "Tokens",
    "Unauthorized",
    "activity",
    "change_password",
    "delete_account",
    "end_other_session",
    "login",
    "logout",
    "magic_sign_in",
    "normalize_email",
    "refresh",
    "register",
    "rename",
    "request_magic_link",
    "request_password_reset",
    "require_verified",
    "resend_verification",
    "reset_password",
    "sessions",
    "sign_out_everywhere",
    "verify_email",
]
