"""Accounts: signing up and in (no session yet), mailed links, renewing a session, and what a session does to its
own account: sign out (here, elsewhere, everywhere), change the password, rename, activity, delete the account."""

from __future__ import annotations

from heimdex.app.core.common import database, store
from heimdex.app.handoff import get_handoff
from heimdex.app.inputs import clean_text
from heimdex.auth import accounts
from heimdex.auth.accounts import Event, SessionShown
from heimdex.auth.sessions import TokenPair, session_user


def _lang(lang: str | None) -> str:
    return "ko" if str(lang or "").lower().startswith("ko") else "en"


def register(
    email: str, password: str, display_name: str = "", lang: str = "en", client: str | None = None, user_agent: str = ""
) -> TokenPair:
    """A new local account, signed in; a link that confirms the address is mailed to it (``client``: the caller's
    address, for rate limits)."""
    return accounts.register(
        database(),
        clean_text(email, 254),
        clean_text(password, 1000),
        clean_text(display_name, 100),
        client,
        clean_text(user_agent, 400),
        _lang(lang),
    ).as_dict()


def login(email: str, password: str, client: str | None = None, user_agent: str = "") -> TokenPair:
    """A new session: an access token (15 minutes) and a refresh token that renews it (see
    :func:`heimdex.auth.accounts.login` for lockout and limits)."""
    return accounts.login(
        database(), clean_text(email, 254), clean_text(password, 1000), client, clean_text(user_agent, 400)
    ).as_dict()


def refresh(refresh_token: str) -> TokenPair:
    """The next access token and refresh token; the refresh token given is spent (used again, it ends the session)."""
    return accounts.refresh(database(), clean_text(refresh_token, 200)).as_dict()


def request_password_reset(email: str, lang: str = "en", client: str | None = None) -> None:
    """Mail a link that sets a new password (1 hour, once), if the address has an account; the same answer always."""
    accounts.request_password_reset(database(), clean_text(email, 254), client, _lang(lang))


def reset_password(link: str, new_password: str, user_agent: str = "") -> TokenPair:
    """Set a new password with a reset link's token: every other session ends, and this one begins."""
    return accounts.reset_password(
        database(), clean_text(link, 8000), clean_text(new_password, 1000), clean_text(user_agent, 400)
    ).as_dict()


def request_magic_link(email: str, lang: str = "en", client: str | None = None) -> None:
    """Mail a sign-in link (15 minutes, once), if the address has an account; the same answer always."""
    accounts.request_magic_link(database(), clean_text(email, 254), client, _lang(lang))


def magic_link_sign_in(link: str, user_agent: str = "") -> TokenPair:
    """Sign in with a sign-in link's token."""
    return accounts.magic_sign_in(database(), clean_text(link, 200), clean_text(user_agent, 400)).as_dict()


def supabase_link_sign_in(access_token: str, user_agent: str = "") -> TokenPair:
    """With a hosted auth provider: sign in the person one of its mails brought back, with the access token it gave
    (it is verified here first)."""
    return accounts.link_sign_in(database(), clean_text(access_token, 4000), clean_text(user_agent, 400)).as_dict()


def verify_email(link: str) -> None:
    """Confirm the account's address with a verification link's token."""
    accounts.verify_email(database(), clean_text(link, 200))


def resend_verification(token: str, lang: str = "en") -> None:
    """Mail the signed-in user a new link that confirms their address."""
    accounts.resend_verification(database(), token, _lang(lang))


def logout(token: str) -> None:
    """End the session: its tokens and every link made under it stop working."""
    accounts.logout(database(), token)


def sessions(token: str) -> list[SessionShown]:
    """The signed-in user's sessions: the browser and device each began in, when it was last seen, which is this."""
    return accounts.sessions(database(), token)


def end_session(token: str, session_id: int) -> None:
    """Sign out one session of the signed-in user (another device, or this one)."""
    accounts.end_other_session(database(), token, session_id)


def sign_out_everywhere(token: str) -> None:
    """End every session of the signed-in user, this one too."""
    accounts.sign_out_everywhere(database(), token)


def activity(token: str) -> list[Event]:
    """The signed-in user's account events, newest first: sign-ins and failed ones, links mailed and used, sessions
    ended, password changes, exports."""
    return accounts.activity(database(), token)


def change_password(token: str, current: str, new: str, user_agent: str = "") -> TokenPair:
    """A new password ends every session of the account; the answer is a fresh session."""
    return accounts.change_password(
        database(), token, clean_text(current, 1000), clean_text(new, 1000), clean_text(user_agent, 400)
    ).as_dict()


def rename(token: str, display_name: str) -> str:
    """The name shown for the signed-in user; the name as kept."""
    return accounts.rename(database(), token, clean_text(display_name, 100)).display_name


def delete_account(token: str, password: str) -> None:
    """Delete the signed-in user, everything they own, and every file of theirs the app still holds."""
    user = session_user(database(), token)
    accounts.delete_account(database(), store(), token, clean_text(password, 1000))
    get_handoff().forget_user(user.id)
