"""Sessions, signed links, quotas and rate limits on the real database."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from heimdex.auth.sessions import Unauthorized, end_all_sessions, end_session, session_user, start_session
from heimdex.library.quotas import QuotaExceeded, check_room, hit, usage

pytestmark = pytest.mark.integration

SECRET = b"k" * 32


def test_sessions_rotate_expire_and_revoke(db, make_user):
    user = make_user("session")
    first, second = start_session(db, user.id), start_session(db, user.id)
    assert first != second and session_user(db, first).id == session_user(db, second).id == user.id
    end_session(db, first)
    with pytest.raises(Unauthorized):
        session_user(db, first)
    assert session_user(db, second).id == user.id
    with db.transaction() as conn:  # stored hashed: the clear token is nowhere in the table
        assert (
            conn.execute(
                "SELECT count(*) AS n FROM session_tokens WHERE token_hash = %s", (second.encode(),)
            ).fetchone()["n"]
            == 0
        )
        conn.execute("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = %s", (user.id,))
    with pytest.raises(Unauthorized):
        session_user(db, second)
    third = start_session(db, user.id)
    end_all_sessions(db, user.id)
    for token in (third, "", None, "x" * 500, "not-a-token"):
        with pytest.raises(Unauthorized):
            session_user(db, token)


def test_quota_counts_videos_and_minutes(db, store, settings, make_user, media):
    from heimdex.library.ingest import ingest

    user = make_user("quota")
    with (media / "walkthrough_en.mp4").open("rb") as source:
        ingest(db, store, settings, user.id, source, "walkthrough_en.mp4")
    now = usage(db, user.id, "free")
    assert now.videos == 1 and now.minutes == pytest.approx(1.2, abs=0.01)
    check_room(db, user.id, "free", 60.0)
    with pytest.raises(QuotaExceeded) as refused:
        check_room(db, user.id, "free", 59 * 60.0)
    assert refused.value.code == "quota_minutes"


def test_rate_limits_count_per_key_and_window(db):
    key = uuid.uuid4().hex
    for _ in range(10):
        hit(db, "register", key)
    with pytest.raises(QuotaExceeded) as limited:
        hit(db, "register", key)
    assert limited.value.code == "rate_limited" and "try again" in limited.value.message
    hit(db, "register", uuid.uuid4().hex)  # another key is not affected


def _counted(db, bucket: str, *ages_s: float) -> None:
    """Actions counted for ``bucket`` ``ages_s`` seconds ago."""
    with db.transaction() as conn:
        for age in ages_s:
            conn.execute(
                "INSERT INTO rate_limits (bucket, at) VALUES (%s, clock_timestamp() - make_interval(secs => %s))",
                (bucket, age),
            )


def test_rate_limits_count_the_window_up_to_now_not_the_clocks(db):
    """30 clips in ten minutes: the 31st waits until the oldest is ten minutes old, wherever the clock's ten-minute
    marks fall (a fixed window let 30 through on each side of one); older ones count for nothing."""
    key = uuid.uuid4().hex
    _counted(db, f"clip:{key}", *(590 - i for i in range(30)))  # 30 over the last ten minutes, the oldest 590 s ago
    with pytest.raises(QuotaExceeded) as limited:
        hit(db, "clip", key)
    wait = re.search(r"try again in (\d+) seconds", limited.value.message)
    assert wait and 1 <= int(wait[1]) <= 10  # when the oldest is ten minutes old (less the time this took)
    with pytest.raises(QuotaExceeded):  # the refusal was not counted, and nothing else let it through
        hit(db, "clip", key)
    old = uuid.uuid4().hex
    _counted(db, f"clip:{old}", *(601 + i for i in range(30)), *(10 + i for i in range(29)))
    hit(db, "clip", old)  # 29 in the window: one more
    with pytest.raises(QuotaExceeded):
        hit(db, "clip", old)


def test_rate_limits_hold_however_many_race(db):
    from concurrent.futures import ThreadPoolExecutor

    key = uuid.uuid4().hex

    def one_try(_) -> bool:
        try:
            hit(db, "register", key)  # ten an hour
        except QuotaExceeded:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(one_try, range(24)))
    assert sum(allowed) == 10


def test_counts_past_every_window_are_forgotten(db):
    from heimdex.library.quotas import forget_counted

    key = uuid.uuid4().hex
    _counted(db, f"export:{key}", 86400 + 60, 86400 - 60)
    forget_counted(db)
    with db.transaction() as conn:
        rows = conn.execute("SELECT count(*) AS n FROM rate_limits WHERE bucket = %s", (f"export:{key}",)).fetchone()
    assert rows["n"] == 1


def test_accounts_register_sign_in_change_password_and_delete(db, store, settings, media):
    from heimdex.auth import accounts
    from heimdex.errors import BadInput
    from heimdex.library.ingest import ingest
    from heimdex.storage import user_prefix

    email = f"acct-{uuid.uuid4().hex[:8]}@example.com"
    first = accounts.register(db, email, "correct horse battery", "Ada").access_token
    user = session_user(db, first)
    assert user.display_name == "Ada" and accounts.rename(db, first, "Ada L.").display_name == "Ada L."
    second = accounts.login(db, email.upper(), "correct horse battery").access_token
    with pytest.raises(BadInput) as wrong:
        accounts.login(db, email, "wrong password")
    assert wrong.value.message == accounts.SIGN_IN_FAILED
    fresh = accounts.change_password(db, second, "correct horse battery", "another good password").access_token
    for old in (first, second):
        with pytest.raises(Unauthorized):
            session_user(db, old)
    assert accounts.login(db, email, "another good password")
    with (media / "classroom.mp4").open("rb") as source:
        ingest(db, store, settings, user.id, source, "classroom.mp4")
    with pytest.raises(BadInput):
        accounts.delete_account(db, store, fresh, "not my password")
    accounts.delete_account(db, store, fresh, "another good password")
    with db.transaction() as conn:
        assert conn.execute("SELECT count(*) AS n FROM videos WHERE user_id = %s", (user.id,)).fetchone()["n"] == 0
        assert conn.execute("SELECT count(*) AS n FROM users WHERE id = %s", (user.id,)).fetchone()["n"] == 0
    assert list(store.keys(user_prefix(user.id))) == []


def test_supabase_tokens_are_verified_locally(db):
    import jwt

    from heimdex.auth.supabase import user_for_claims, verify_access_token
    from heimdex.errors import BadInput

    secret = "super-secret-jwt-token-with-at-least-32-characters"
    sub = str(uuid.uuid4())
    good = jwt.encode(
        {"sub": sub, "email": "Sb@Example.com", "aud": "authenticated", "exp": int(time.time()) + 60}, secret
    )
    claims = verify_access_token(good, secret)
    assert user_for_claims(db, claims) == user_for_claims(db, claims)  # one local row per Supabase user
    for bad in (
        jwt.encode({"sub": sub, "aud": "authenticated", "exp": int(time.time()) - 5}, secret),
        jwt.encode({"sub": sub, "aud": "someone-else", "exp": int(time.time()) + 60}, secret),
        jwt.encode(
            {"sub": sub, "aud": "authenticated", "exp": int(time.time()) + 60}, "another secret of enough length!!"
        ),
        good[:-2] + "xx",
    ):
        with pytest.raises(BadInput):
            verify_access_token(bad, secret)


def test_a_supabase_mail_brings_its_person_back_signed_in(db, settings, monkeypatch):
    """With Supabase Auth, its mail (address confirmed, sign-in link) brings the person back with an access token:
    verified here (not believed) before it becomes a Heimdex session; without Supabase the door is shut."""
    from dataclasses import replace

    import jwt

    from heimdex.auth import accounts, supabase
    from heimdex.errors import BadInput

    with pytest.raises(BadInput) as shut:
        accounts.link_sign_in(db, "anything")
    assert shut.value.code == "not_supabase"
    secret = "super-secret-jwt-token-with-at-least-32-characters"
    with_supabase = replace(settings, supabase_url="http://supabase.invalid", supabase_jwt_secret=secret)
    monkeypatch.setattr(supabase, "get_settings", lambda: with_supabase)
    monkeypatch.setattr(accounts, "get_settings", lambda: with_supabase)
    claims = {"sub": str(uuid.uuid4()), "email": "back@example.com", "aud": "authenticated"}
    good = jwt.encode({**claims, "exp": int(time.time()) + 60}, secret)
    tokens = accounts.link_sign_in(db, good, user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0")
    user = session_user(db, tokens.access_token)
    assert user.email == "back@example.com" and user.auth_provider == "supabase" and user.verified
    for forged in (jwt.encode({**claims, "exp": int(time.time()) + 60}, "x" * 40), good[:-3] + "abc"):
        with pytest.raises(BadInput):
            accounts.link_sign_in(db, forged)
