"""Issue 32: accounts as promised, through the real database and a real SMTP server (``mailbox``): the address
verified by a mailed link, a forgotten password reset, sign-in by link, sessions that renew and can be ended,
and the activity that records it all. Each attack is a test: a link used twice, an expired link, another
user's token, enumeration by answer and by time, a flood of mail, a reset while locked out, a refresh token
reused after rotation."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest

from heimdex.auth import accounts
from heimdex.auth.sessions import Unauthorized, session_user
from heimdex.errors import BadInput

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
NEW_PASSWORD = "a much longer secret phrase"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"


def _email(prefix: str = "acct") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def _token(mailbox, to: str, subject: str, kind: str) -> str:
    """The one-time token of the ``kind`` link in the latest mail to ``to`` about ``subject``."""
    message = mailbox.wait_for(to, subject)
    link = mailbox.link(message, f"{kind}=")
    return parse_qs(urlsplit(link).query)[kind][0]


def _events(db, user_id) -> list[str]:
    with db.transaction() as conn:
        rows = conn.execute("SELECT event FROM audit_events WHERE user_id = %s ORDER BY id", (user_id,)).fetchall()
    return [r["event"] for r in rows]


@pytest.fixture
def signed_up(db, mailbox):
    """A fresh account made by sign-up (unverified), its tokens and its address."""
    email = _email()
    tokens = accounts.register(db, email, PASSWORD, "Ada", client=f"10.9.{uuid.uuid4().int % 250}.1", user_agent=LINUX)
    return email, tokens


def test_sign_up_mails_a_link_that_verifies_the_address_once(db, mailbox, signed_up):
    email, tokens = signed_up
    user = session_user(db, tokens.access_token)
    assert not user.verified
    with pytest.raises(BadInput) as refused:
        accounts.require_verified(user)  # public links and exports wait for the address
    assert refused.value.code == "verify_first"
    message = mailbox.wait_for(email, "Confirm")
    assert message["From"] and "Heimdex" in str(message["From"])
    link = _token(mailbox, email, "Confirm", "verify")
    accounts.verify_email(db, link)
    assert session_user(db, tokens.access_token).verified
    with pytest.raises(BadInput) as again:  # a link works once
        accounts.verify_email(db, link)
    assert again.value.code == "link_expired"
    assert {"register", "verify_link_sent", "email_verified"} <= set(_events(db, user.id))


def test_a_forgotten_password_is_reset_by_a_link_that_ends_every_other_session(db, mailbox, signed_up):
    email, old = signed_up
    accounts.request_password_reset(db, email, client="10.8.0.1", lang="ko")
    accounts.settle()
    message = mailbox.wait_for(email, "비밀번호")  # in the language asked for
    assert "1시간" in message.get_body(("plain",)).get_content()
    link = _token(mailbox, email, "비밀번호", "reset")
    with pytest.raises(BadInput):  # a weak password does not spend the link
        accounts.reset_password(db, link, "password")
    fresh = accounts.reset_password(db, link, NEW_PASSWORD, user_agent=IPHONE)
    with pytest.raises(Unauthorized):  # the session from before the reset is over
        session_user(db, old.access_token)
    with pytest.raises(Unauthorized):
        accounts.refresh(db, old.refresh_token)
    assert session_user(db, fresh.access_token).email == email
    with pytest.raises(BadInput) as twice:  # once only
        accounts.reset_password(db, link, "yet another long phrase")
    assert twice.value.code == "link_expired"
    accounts.login(db, email, NEW_PASSWORD)
    with pytest.raises(BadInput):
        accounts.login(db, email, PASSWORD)


def test_an_expired_link_is_refused(db, mailbox, signed_up):
    email, _ = signed_up
    accounts.request_magic_link(db, email)
    accounts.settle()
    link = _token(mailbox, email, "sign-in link", "magic")
    with db.transaction() as conn:
        conn.execute("UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'magic'")
    with pytest.raises(BadInput) as refused:
        accounts.magic_sign_in(db, link)
    assert refused.value.code == "link_expired"


def test_a_sign_in_link_signs_in_once_and_proves_the_address(db, mailbox, signed_up):
    email, _ = signed_up
    accounts.request_magic_link(db, email, lang="en")
    accounts.settle()
    link = _token(mailbox, email, "sign-in link", "magic")
    tokens = accounts.magic_sign_in(db, link, user_agent=IPHONE)
    user = session_user(db, tokens.access_token)
    assert user.verified  # the mail came back from the address
    with pytest.raises(BadInput):
        accounts.magic_sign_in(db, link)
    assert any(s["device"] == "Mobile Safari on iPhone" for s in accounts.sessions(db, tokens.access_token))


def test_no_answer_or_wait_tells_whether_an_address_has_an_account(db, mailbox, signed_up):
    """Enumeration by answer: the same (nothing) for both. By time: the answer never waits for the lookup or for
    SMTP; with the mail server held, the request for the real address returns and its mail arrives on release."""
    email, _ = signed_up
    stranger = _email("nobody")
    with mailbox.hold():
        assert accounts.request_password_reset(db, email) is None
        assert accounts.request_password_reset(db, stranger) is None
        assert mailbox.messages(email) == [
            m for m in mailbox.messages(email) if "reset" not in str(m["Subject"]).lower()
        ]
    accounts.settle()
    mailbox.wait_for(email, "Reset")
    assert mailbox.messages(stranger) == []


def test_a_flood_of_mail_is_refused_per_address_and_per_client(db, mailbox):
    target = _email("flood")
    for _ in range(3):
        accounts.request_password_reset(db, target, client="10.7.0.1")
    with pytest.raises(BadInput) as per_address:
        accounts.request_magic_link(db, target, client="10.7.0.2")
    assert per_address.value.code == "rate_limited"
    client = f"10.6.{uuid.uuid4().int % 250}.9"
    refused = 0
    for _ in range(25):
        try:
            accounts.request_password_reset(db, _email("spray"), client=client)
        except BadInput as limited:
            assert limited.code == "rate_limited"
            refused += 1
    assert refused == 5  # 20 an hour from one client


def test_a_reset_lifts_a_sign_in_lock(db, mailbox, signed_up):
    email, _ = signed_up
    for _ in range(accounts.LOCK_AFTER):
        with pytest.raises(BadInput):
            accounts.login(db, email, "not the password at all")
    with pytest.raises(accounts.SignInLocked):
        accounts.login(db, email, PASSWORD)
    accounts.request_password_reset(db, email)  # asking is allowed while locked: the mail goes to the owner
    accounts.settle()
    accounts.reset_password(db, _token(mailbox, email, "Reset", "reset"), NEW_PASSWORD)
    accounts.login(db, email, NEW_PASSWORD)


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(db, signed_up):
    email, first = signed_up
    second = accounts.refresh(db, first.refresh_token)
    assert second.refresh_token != first.refresh_token and second.expires_in == 15 * 60
    assert accounts.refresh(db, first.refresh_token).access_token  # the same page asking twice at once: a grace
    with db.transaction() as conn:  # ... that passes
        conn.execute("UPDATE session_tokens SET used_at = now() - interval '1 minute' WHERE used_at IS NOT NULL")
    with pytest.raises(Unauthorized):  # a stolen copy used after the owner's rotation
        accounts.refresh(db, first.refresh_token)
    with pytest.raises(Unauthorized):  # ... ends the whole family: the owner's tokens too
        session_user(db, second.access_token)
    with pytest.raises(Unauthorized):
        accounts.refresh(db, second.refresh_token)
    user_id = accounts.login(db, email, PASSWORD)
    assert "session_ended" in _events(db, session_user(db, user_id.access_token).id)


def test_an_access_token_lives_fifteen_minutes_and_the_refresh_token_renews_it(db, signed_up):
    _, tokens = signed_up
    with db.transaction() as conn:
        conn.execute(
            "UPDATE session_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = sha256(%s::bytea)",
            (tokens.access_token.encode(),),
        )
    with pytest.raises(Unauthorized):
        session_user(db, tokens.access_token)
    assert session_user(db, accounts.refresh(db, tokens.refresh_token).access_token)


def test_sessions_are_listed_and_ended_one_by_one_or_everywhere(db, signed_up):
    email, laptop = signed_up
    phone = accounts.login(db, email, PASSWORD, user_agent=IPHONE)
    listed = accounts.sessions(db, laptop.access_token)
    assert [s["device"] for s in listed] == ["Chrome 156 on Linux", "Mobile Safari on iPhone"]
    assert [s["current"] for s in listed] == [True, False]
    accounts.end_other_session(db, laptop.access_token, listed[1]["session_id"])
    with pytest.raises(Unauthorized):
        session_user(db, phone.access_token)
    tablet = accounts.login(db, email, PASSWORD)
    accounts.sign_out_everywhere(db, tablet.access_token)
    for ended in (laptop, tablet):
        with pytest.raises(Unauthorized):
            session_user(db, ended.access_token)


def test_another_users_token_ends_nothing_of_mine(db, signed_up):
    email, mine = signed_up
    other = accounts.register(db, _email("other"), PASSWORD, "Eve")
    my_session = accounts.sessions(db, mine.access_token)[0]["session_id"]
    with pytest.raises(BadInput) as refused:
        accounts.end_other_session(db, other.access_token, my_session)
    assert refused.value.code == "not_found"
    assert session_user(db, mine.access_token).email == email
    with pytest.raises(Unauthorized):  # a refresh token is not an access token, nor the other way round
        session_user(db, mine.refresh_token)
    with pytest.raises(Unauthorized):
        accounts.refresh(db, mine.access_token)


def test_activity_shows_the_account_events_to_their_owner(db, mailbox, signed_up):
    email, tokens = signed_up
    with pytest.raises(BadInput):
        accounts.login(db, email, "not the password at all", user_agent=IPHONE)
    accounts.login(db, email, PASSWORD, user_agent=IPHONE)
    shown = accounts.activity(db, tokens.access_token)
    events = [e["event"] for e in shown]
    assert events[:2] == ["login", "login_failed"] and "register" in events
    assert shown[1]["device"] == "Mobile Safari on iPhone"
    assert all("email_hash" not in e["detail"] for e in shown)


def test_a_sign_in_link_claims_an_address_someone_else_signed_up_with(db, mailbox):
    """Pre-hijacking: a squatter signs up with someone's address; its owner signs in by a link mailed to it. The
    squatter's sessions end and their password no longer opens the account."""
    email = _email("claimed")
    squatter = accounts.register(db, email, PASSWORD, "Squatter")
    accounts.request_magic_link(db, email)
    accounts.settle()
    owner = accounts.magic_sign_in(db, _token(mailbox, email, "sign-in link", "magic"))
    with pytest.raises(Unauthorized):
        session_user(db, squatter.access_token)
    with pytest.raises(Unauthorized):
        accounts.refresh(db, squatter.refresh_token)
    with pytest.raises(BadInput):
        accounts.login(db, email, PASSWORD)
    assert session_user(db, owner.access_token).verified


def test_a_new_password_retires_the_links_still_out(db, mailbox, signed_up):
    email, tokens = signed_up
    accounts.request_magic_link(db, email)
    accounts.settle()
    link = _token(mailbox, email, "sign-in link", "magic")
    fresh = accounts.change_password(db, tokens.access_token, PASSWORD, NEW_PASSWORD)
    with pytest.raises(BadInput) as spent:
        accounts.magic_sign_in(db, link)
    assert spent.value.code == "link_expired"
    accounts.logout(db, fresh.refresh_token)  # an API client holding only its refresh token signs out too
    with pytest.raises(Unauthorized):
        session_user(db, fresh.access_token)


def test_the_grace_for_a_page_asking_twice_is_given_once(db, signed_up):
    _, first = signed_up
    accounts.refresh(db, first.refresh_token)
    second = accounts.refresh(db, first.refresh_token)  # within the grace: the same page, asking twice
    with pytest.raises(Unauthorized):  # a third use, even at once, is a copy: the session ends
        accounts.refresh(db, first.refresh_token)
    with pytest.raises(Unauthorized):
        session_user(db, second.access_token)


def test_mail_goes_to_exactly_the_address_kept(db):
    for tricky in ("=?utf-8?q?x=40a.example=2C_y?=@evil.example", "ceo<x1@evil.example>", "a,b@evil.example"):
        with pytest.raises(BadInput) as refused:
            accounts.register(db, tricky, PASSWORD)
        assert refused.value.code == "bad_email"


def test_upkeep_forgets_tokens_that_can_no_longer_be_used(db, mailbox, signed_up):
    from heimdex.auth.onetime import forget_spent
    from heimdex.auth.sessions import forget_expired

    email, tokens = signed_up
    renewed = accounts.refresh(db, tokens.refresh_token)
    with db.transaction() as conn:  # the first pair's time passed; a link spent two days ago
        conn.execute(
            "UPDATE session_tokens SET expires_at = now() - interval '1 second' WHERE token_hash IN (%s, %s)",
            tuple(hashlib.sha256(t.encode()).digest() for t in (tokens.access_token, tokens.refresh_token)),
        )
        conn.execute("UPDATE account_tokens SET used_at = now() - interval '2 days' WHERE purpose = 'verify'")
    assert forget_expired(db) >= 2 and forget_spent(db) >= 1
    assert session_user(db, renewed.access_token).email == email  # what is live stays
    with db.transaction() as conn:
        left = conn.execute("SELECT count(*) AS n FROM account_tokens WHERE used_at < now() - interval '1 day'")
        assert left.fetchone()["n"] == 0
