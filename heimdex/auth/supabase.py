"""Supabase Auth: sign in through the project, verify its JWT here, map it to a local user row.

Used when ``SUPABASE_URL`` and ``SUPABASE_ANON_KEY`` are set. The access token is
checked locally with PyJWT (HS256 with ``SUPABASE_JWT_SECRET``, audience
``authenticated``, expiry) before its subject becomes a user; the app then works
with its own session token like for local accounts.
"""

from __future__ import annotations

import uuid

import jwt

from heimdex.auth.sessions import start_session
from heimdex.config import get_settings
from heimdex.db import Database, one
from heimdex.errors import BadInput

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


def supabase_login(db: Database, email: str, password: str) -> str:
    """Sign in with Supabase Auth; return a Heimdex session token."""
    from supabase import create_client

    settings = get_settings()
    if not (settings.supabase_url and settings.supabase_anon_key and settings.supabase_jwt_secret):
        raise BadInput("bad_setting", "SUPABASE_ANON_KEY and SUPABASE_JWT_SECRET must be set with SUPABASE_URL.")
    client = create_client(settings.supabase_url, settings.supabase_anon_key)
    try:
        answer = client.auth.sign_in_with_password({"email": email, "password": password})
    except Exception:
        raise BadInput("sign_in_failed", "The email or password is not right.") from None
    if answer.session is None:
        raise BadInput("sign_in_failed", "The email or password is not right.")
    claims = verify_access_token(answer.session.access_token, settings.supabase_jwt_secret)
    return start_session(db, user_for_claims(db, claims))
