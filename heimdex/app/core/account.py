"""Accounts: signing up and in (no session yet), and what a session does to itself: sign out, change the
password, rename, delete the account."""

from __future__ import annotations

from heimdex.app.core.common import database, store
from heimdex.app.handoff import get_handoff
from heimdex.app.inputs import clean_text
from heimdex.auth import accounts
from heimdex.auth.sessions import session_user


def register(email: str, password: str, display_name: str = "", client: str | None = None) -> str:
    """A new local account, signed in: its session token (``client``: the caller's address, for rate limits)."""
    return accounts.register(
        database(), clean_text(email, 254), clean_text(password, 1000), clean_text(display_name, 100), client
    )


def login(email: str, password: str, client: str | None = None) -> str:
    """A new session token for the account (see :func:`heimdex.auth.accounts.login` for lockout and limits)."""
    return accounts.login(database(), clean_text(email, 254), clean_text(password, 1000), client)


def logout(token: str) -> None:
    """End the session: its token and every link made under it stop working."""
    accounts.logout(database(), token)


def change_password(token: str, current: str, new: str) -> str:
    """A new password ends every session of the account; the answer is a fresh token."""
    return accounts.change_password(database(), token, clean_text(current, 1000), clean_text(new, 1000))


def rename(token: str, display_name: str) -> str:
    """The name shown for the signed-in user; the name as kept."""
    return accounts.rename(database(), token, clean_text(display_name, 100)).display_name


def delete_account(token: str, password: str) -> None:
    """Delete the signed-in user, everything they own, and every file of theirs the app still holds."""
    user = session_user(database(), token)
    accounts.delete_account(database(), store(), token, clean_text(password, 1000))
    get_handoff().forget_user(user.id)
