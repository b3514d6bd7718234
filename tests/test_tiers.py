"""Tiers from one table (heimdex.library.quotas.TIERS), each enforced per tier, and the operator's command."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from heimdex.library import public, quotas
from heimdex.library.quotas import TIERS, QuotaExceeded, hit, tier, usage
from helpers import run_cli

pytestmark = pytest.mark.integration

GIB = 1024**3


def _set_tier(db, user_id: uuid.UUID, name: str) -> None:
    with db.transaction() as conn:
        conn.execute("UPDATE users SET tier = %s WHERE id = %s", (name, user_id))


def test_the_table_is_what_usage_reports_and_an_unknown_tier_reads_as_free(db, settings, make_user):
    assert (settings.quota_free_videos, settings.quota_pro_videos, settings.search_limit) == (None, None, None)
    assert TIERS["free"] == quotas.Tier("free", 20, 60.0, 60, 5, 2 * GIB)
    assert TIERS["pro"] == quotas.Tier("pro", 1000, 6000.0, 300, 200, 50 * GIB)
    user = make_user("tiers")
    for name in ("free", "pro"):
        row = TIERS[name]
        now = usage(db, user.id, name)
        assert (now.videos, now.minutes, now.links) == (0, 0.0, 0)
        assert (now.max_videos, now.max_minutes, now.max_links, now.searches_per_minute, now.max_export_bytes) == (
            row.videos,
            row.minutes,
            row.public_links,
            row.searches_per_minute,
            row.export_bytes,
        )
        assert now.summary() == f"0 of {row.videos} videos, 0.0 of {row.minutes:.0f} minutes"
        assert quotas.export_limit(name) == row.export_bytes
    for unknown in ("gold", "", None, "PRO"):
        assert tier(unknown) == TIERS["free"]
        assert usage(db, user.id, unknown) == usage(db, user.id, "free")


def test_the_environment_still_overrides_videos_minutes_and_searches(monkeypatch):
    from heimdex.config import Settings

    changed = Settings.from_env(
        {"HEIMDEX_QUOTA_FREE_VIDEOS": "2", "HEIMDEX_QUOTA_PRO_MINUTES": "90", "HEIMDEX_SEARCH_LIMIT": "7"}
    )
    monkeypatch.setattr(quotas, "get_settings", lambda: changed)
    assert (tier("free").videos, tier("free").minutes) == (2, TIERS["free"].minutes)
    assert (tier("pro").videos, tier("pro").minutes) == (TIERS["pro"].videos, 90.0)
    assert tier("free").searches_per_minute == tier("pro").searches_per_minute == 7
    assert quotas.tier_limits("free") == (2, 60.0)


def _allowed(db, user_id: uuid.UUID, tier_name: str | None, most: int) -> int:
    """Searches counted for a fresh key in one window before the first refusal (``most``: none refused)."""
    for _ in range(3):  # a window that ended meanwhile counts anew: count again in the next one
        left = 60 - time.time() % 60
        if left < 5:
            time.sleep(left + 0.2)
        window, key = time.time() // 60, f"{user_id}:{uuid.uuid4().hex}"
        allowed = 0
        try:
            for _ in range(most):
                hit(db, "search", key, user_id, tier=tier_name)
                allowed += 1
        except QuotaExceeded as refused:
            assert refused.code == "rate_limited" and "try again" in refused.message
        if time.time() // 60 == window:
            return allowed
    raise AssertionError("no window held the count")


def test_searches_per_minute_are_the_tiers(db, make_user):
    free, pro = make_user("search-free"), make_user("search-pro")
    allowance = TIERS["free"].searches_per_minute
    assert _allowed(db, free.id, "free", allowance + 1) == allowance  # refused at its allowance + 1
    assert _allowed(db, pro.id, "pro", allowance + 1) == allowance + 1  # the same count: not refused
    assert _allowed(db, pro.id, "pro", 1000) == TIERS["pro"].searches_per_minute
    assert _allowed(db, free.id, None, 1000) == allowance  # a tier left unsaid reads as free
    assert _allowed(db, free.id, "gold", 1000) == allowance


class _Counted(Exception):
    pass


def test_the_search_door_counts_by_the_callers_tier(db, make_user, monkeypatch):
    from heimdex.app import service
    from heimdex.auth.sessions import start_session

    user = make_user("door-tier")
    _set_tier(db, user.id, "pro")
    seen = []

    def counted(*args, **kwargs):
        seen.append((args, kwargs))
        raise _Counted  # the search itself is not run

    monkeypatch.setattr(service, "hit", counted)
    with pytest.raises(_Counted):
        service.search(start_session(db, user.id), "anything", 5)
    [(args, kwargs)] = seen
    assert args[1:] == ("search", str(user.id), user.id) and kwargs == {"tier": "pro"}


def _video(db, store, settings, user, media):
    from heimdex.library.ingest import ingest

    with (media / "fades.mp4").open("rb") as source:  # 10 s
        return ingest(db, store, settings, user.id, source, "fades.mp4").video


def _fill_links(db, user, video, count: int) -> list[uuid.UUID]:
    """``count`` link rows (no clip blobs: the count is what is checked)."""
    ids = [uuid.uuid4() for _ in range(count)]
    with db.transaction() as conn:
        for clip_id in ids:
            conn.execute(
                "INSERT INTO public_clips (id, user_id, video_id, start_s, end_s, blob_key, bytes)"
                " VALUES (%s, %s, %s, %s, %s, %s, 0)",
                (clip_id, user.id, video.id, 0.0, 1 + clip_id.int % 10**6 / 10**6, f"absent/{clip_id}.mp4"),
            )
    return ids


def test_a_free_user_keeps_the_tiers_public_links(db, store, settings, make_user, media):
    user = make_user("links")
    video = _video(db, store, settings, user, media)
    allowed = TIERS["free"].public_links
    ids = _fill_links(db, user, video, allowed)
    with pytest.raises(QuotaExceeded) as refused:
        public.publish(db, store, settings.tmp_dir, video, 2.0, 3.0)
    assert refused.value.code == "quota_links"
    assert refused.value.message == (
        f"Your plan keeps {allowed} public links; turn one off in Account → Public links to make another."
    )
    assert usage(db, user.id, user.tier).links == allowed

    public.unpublish(db, store, user.id, ids[0])  # turning one off makes room
    made = public.publish(db, store, settings.tmp_dir, video, 2.0, 3.0)
    assert made.id in {clip.id for clip in public.listed(db, user.id)}
    assert len(public.listed(db, user.id)) == allowed

    _set_tier(db, user.id, "pro")  # the tier is read where the link is added
    more = public.publish(db, store, settings.tmp_dir, video, 4.0, 5.0)
    assert len(public.listed(db, user.id)) == allowed + 1 and more.id != made.id


def test_links_turned_on_meanwhile_are_counted_where_the_link_is_added(
    db, store, settings, make_user, media, monkeypatch
):
    """The count before cutting passed; while the clip was cut the plan's last link was turned on elsewhere."""
    user = make_user("links-race")
    video = _video(db, store, settings, user, media)
    allowed = TIERS["free"].public_links
    _fill_links(db, user, video, allowed - 1)
    cut = public.cut_video

    def cut_while_another_is_made(*args, **kwargs):
        made = cut(*args, **kwargs)
        _fill_links(db, user, video, 1)
        return made

    monkeypatch.setattr(public, "cut_video", cut_while_another_is_made)
    with pytest.raises(QuotaExceeded) as refused:
        public.publish(db, store, settings.tmp_dir, video, 6.0, 7.0)
    assert refused.value.code == "quota_links"
    assert public.find(db, video, 6.0, 7.0) is None
    assert not [key for key in store.keys() if str(video.id) in key and "/public/" in key]  # its clip deleted


def _audit(db, user_id: uuid.UUID) -> list[dict]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT event, detail FROM audit_events WHERE user_id = %s AND event = 'tier_changed' ORDER BY id",
            (user_id,),
        ).fetchall()
    return [row["detail"] for row in rows]


def test_the_operator_moves_a_user_to_another_tier(db, make_user):
    from heimdex.auth.users import get_user

    user = make_user("cli-tier")
    moved = run_cli("users", "tier", user.email.upper(), "pro")
    assert moved.returncode == 0, moved.stderr
    assert "free -> pro" in moved.stdout and "searches per minute:  300" in moved.stdout
    assert get_user(db, user.id).tier == "pro"
    assert _audit(db, user.id) == [{"tier": "pro", "was": "free", "by": "operator"}]

    again = run_cli("users", "tier", user.email, "pro")  # nothing to change: nothing recorded
    assert again.returncode == 0 and "already on pro" in again.stdout
    assert len(_audit(db, user.id)) == 1

    unknown = run_cli("users", "tier", user.email, "gold")
    assert unknown.returncode == 2
    assert "There is no tier 'gold'; the tiers are free, pro." in unknown.stderr and "Traceback" not in unknown.stderr
    assert get_user(db, user.id).tier == "pro"
    nobody = run_cli("users", "tier", "nobody-at-all@example.com", "pro")
    assert nobody.returncode == 2 and "No user" in nobody.stderr

    listed = run_cli("users", "tiers", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["name"] for row in json.loads(listed.stdout)] == list(TIERS)
    assert json.loads(listed.stdout)[1]["public_links"] == TIERS["pro"].public_links
