"""Supabase Auth: sign up, sign in and mailed links through the project; its JWT verified here, mapped to a
local user row.

Used when ``SUPABASE_URL`` and ``SUPABASE_ANON_KEY`` are set. Supabase sends its own mail (verification,
reset, sign-in link) and brings the person back to ``HEIMDEX_PUBLIC_URL`` with its session; the access token
is checked locally with PyJWT (HS256 with ``SUPABASE_JWT_SECRET``, audience ``authenticated``, expiry) before
its subject becomes a user (:func:`supabase_session`); the app then works with its own sessions like for local
accounts.
"""

from __future__ import annotations

import logging
import uuid

import jwt

from heimdex.auth.sessions import Tokens, open_session
from heimdex.config import get_settings
from heimdex.db import Database, one
from heimdex.errors import BadInput, Kind

AUDIENCE = "authenticated"


def verify_access_token(token: str, secret: str) -> dict:
    """The claims of a Supabase access token; :class:`BadInput` if it is forged, expired or for someone else."""
    try:
        return jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE, options={"require": ["exp", "sub"]})
    except jwt.PyJWTError:
        raise BadInput("sign_in_failed", "The sign-in could not be verified; please sign in again.") from None


def user_for_claims(db: Database, claims: dict) -> uuid.UUID:
    """The local user row of a Supabase user (created on first sign-in)."""
    email = (claims.get("email") or f"{claims['sub']}@users.supabase").lower()
    with db.transaction() as conn:
        row = conn.execute(
            """INSERT INTO users (id, email, auth_provider, external_id, display_name)
               VALUES (%s, %s, 'supabase', %s, %s)
               ON CONFLICT (auth_provider, external_id) WHERE external_id IS NOT NULL
               DO UPDATE SET email = EXCLUDED.email RETURNING id""",
            (uuid.uuid4(), email, claims["sub"], email.split("@")[0]),
        ).fetchone()
    return one(row)["id"]


def _client():
    from supabase import create_client

    settings = get_settings()
    if not (settings.supabase_url and settings.supabase_anon_key and settings.supabase_jwt_secret):
        raise BadInput("bad_setting", "SUPABASE_ANON_KEY and SUPABASE_JWT_SECRET must be set with SUPABASE_URL.")
    return create_client(settings.supabase_url, settings.supabase_anon_key)


def supabase_session(db: Database, access_token: str, user_agent: str = "") -> Tokens:
    """A Heimdex session for a Supabase access token (after a sign-in, or a mailed link brought the person back)."""
    claims = verify_access_token(access_token, get_settings().supabase_jwt_secret or "")
    return open_session(db, user_for_claims(db, claims), user_agent)


def supabase_login(db: Database, email: str, password: str, user_agent: str = "") -> Tokens:
    """Sign in with Supabase Auth."""
    try:
        answer = _client().auth.sign_in_with_password({"email": email, "password": password})
    except BadInput:
        raise
    except Exception:
        raise BadInput("sign_in_failed", "The email or password is not right.") from None
    if answer.session is None:
        raise BadInput("sign_in_failed", "The email or password is not right.")
    return supabase_session(db, answer.session.access_token, user_agent)


def supabase_sign_up(db: Database, email: str, password: str, user_agent: str = "") -> Tokens:
    """Sign up with Supabase Auth; it mails the verification link itself. Without a session yet (the project
    confirms addresses first), the answer says to open that mail."""
    redirect = get_settings().public_url
    try:
        answer = _client().auth.sign_up(
            {"email": email, "password": password, "options": {"email_redirect_to": redirect}}
        )
    except BadInput:
        raise
    except Exception:
        raise BadInput("register_failed", "An account could not be made with this email.") from None
    if answer.session is None:
        raise BadInput("verify_first", "Open the link we sent to your email to finish signing up.", Kind.FORBIDDEN)
    return supabase_session(db, answer.session.access_token, user_agent)


def supabase_set_password(access_token: str, refresh_token: str, new_password: str) -> None:
    """Set a new password for the person a Supabase reset mail brought back (its session, from the link)."""
    client = _client()
    try:
        client.auth.set_session(access_token, refresh_token)
        client.auth.update_user({"password": new_password})
    except Exception:
        raise BadInput("link_expired", "This link has expired or was already used; ask for a new one.") from None


def supabase_send_link(email: str, purpose: str) -> None:
    """Ask Supabase to mail a reset link (``reset``) or a sign-in link (``magic``); the answer never says whether
    the address has an account, and a failure is only logged."""
    redirect = get_settings().public_url
    try:
        if purpose == "reset":
            _client().auth.reset_password_for_email(email, {"redirect_to": redirect})
        else:
            _client().auth.sign_in_with_otp(
                {"email": email, "options": {"email_redirect_to": redirect, "should_create_user": False}}
            )
    except BadInput:
        raise
    except Exception:
        logging.getLogger("heimdex.accounts").exception("Supabase did not take a %s link request", purpose)
