"""Quotas by tier and rate limits, enforced in the service layer (the app and the API alike).

A user's tier (``users.tier``; an unknown name reads as ``free``) is one row of :data:`TIERS`: how many videos and
minutes of video they keep, how many searches a minute they may run, how many public links they keep on, and how
large a data export may be. Rate limits count actions per user (or per client address or email) over the window up
to now (each allowed action a row), in Postgres, so every process of the app shares them. ``python -m heimdex users
tier EMAIL TIER`` moves a user.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace

from heimdex.config import GIB, get_settings
from heimdex.db import Conn, Database, one
from heimdex.errors import BadInput, Kind

LIMITS = {  # action: (allowed per window, window seconds)
    "upload": (30, 3600),
    "clip": (30, 600),  # clips cut (downloaded or published), per user: each one is encoded anew
    "mail_to": (3, 3600),  # account mail asked for one address (any outcome, whether it has an account or not)
    "mail_from": (20, 3600),  # account mail asked for from one client address
    "export": (3, 86400),  # data exports per user per day
}


@dataclass(frozen=True)
class Tier:
    """What one plan allows."""

    name: str
    videos: int  # videos kept, the Trash's included
    minutes: float  # minutes of video kept, the Trash's included
    searches_per_minute: int  # per user
    public_links: int  # public links on at once
    export_bytes: int  # the largest data export made for the user


TIERS: dict[str, Tier] = {
    "free": Tier("free", videos=20, minutes=60.0, searches_per_minute=60, public_links=5, export_bytes=2 * GIB),
    "pro": Tier("pro", videos=1000, minutes=6000.0, searches_per_minute=300, public_links=200, export_bytes=50 * GIB),
}
DEFAULT_TIER = "free"


def tier(name: str | None) -> Tier:
    """The tier called ``name`` (unknown or unset: ``free``), with the operator's overrides from the environment:
    ``HEIMDEX_QUOTA_<TIER>_VIDEOS`` / ``_MINUTES`` for that tier, ``HEIMDEX_SEARCH_LIMIT`` for every tier."""
    found = TIERS.get(name or DEFAULT_TIER) or TIERS[DEFAULT_TIER]
    settings = get_settings()
    videos = getattr(settings, f"quota_{found.name}_videos", None)
    minutes = getattr(settings, f"quota_{found.name}_minutes", None)
    return replace(
        found,
        videos=found.videos if videos is None else videos,
        minutes=found.minutes if minutes is None else minutes,
        searches_per_minute=found.searches_per_minute if settings.search_limit is None else settings.search_limit,
    )


def _limit(action: str, tier_name: str | None = None) -> tuple[int, int]:
    settings = get_settings()
    if action == "sign_in":  # per client address, any outcome
        return settings.sign_in_limit, 900
    if action == "register":  # per client address
        return settings.register_limit, 3600
    if action == "search":  # per user, by their tier
        return tier(tier_name).searches_per_minute, 60
    return LIMITS[action]


class QuotaExceeded(BadInput):
    """A plan's room used up (``too_large``), or too many tries in a while (code ``rate_limited``)."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message, Kind.RATE_LIMITED if code == "rate_limited" else Kind.TOO_LARGE)


@dataclass(frozen=True)
class Usage:
    videos: int
    minutes: float
    max_videos: int
    max_minutes: float
    links: int  # public links on
    max_links: int
    searches_per_minute: int
    max_export_bytes: int

    def summary(self) -> str:
        return f"{self.videos} of {self.max_videos} videos, {self.minutes:.1f} of {self.max_minutes:.0f} minutes"


def tier_limits(tier_name: str | None) -> tuple[int, float]:
    """Videos and minutes of video a tier keeps."""
    found = tier(tier_name)
    return found.videos, found.minutes


def export_limit(tier_name: str | None) -> int:
    """The largest data export, in bytes, made for a user of this tier (the export builder's ``max_bytes``)."""
    return tier(tier_name).export_bytes


def usage(db: Database | Conn, user_id: uuid.UUID, tier_name: str | None) -> Usage:
    """What a user keeps, against their tier's limits (read in ``db``'s own transaction, or in ``conn``'s). Videos in
    the Trash count until it is emptied of them (:mod:`heimdex.library.trash`): their files are still kept."""
    if isinstance(db, Database):
        with db.transaction() as conn:
            return usage(conn, user_id, tier_name)
    row = one(
        db.execute(
            """SELECT count(*) AS n, coalesce(sum(duration_s), 0) AS seconds,
                      (SELECT count(*) FROM public_clips WHERE user_id = %(user)s) AS links
               FROM videos WHERE user_id = %(user)s""",
            {"user": user_id},
        ).fetchone()
    )
    max_videos, max_minutes = tier_limits(tier_name)
    plan = tier(tier_name)
    return Usage(
        row["n"],
        row["seconds"] / 60,
        max_videos,
        max_minutes,
        row["links"],
        plan.public_links,
        plan.searches_per_minute,
        plan.export_bytes,
    )


def check_links(conn: Conn, user_id: uuid.UUID) -> None:
    """:class:`QuotaExceeded` unless the user may turn one more public link on. Called in the transaction that adds
    the link, it takes the user's links lock first (held to the end of that transaction), so links made at once are
    counted one after the other and a plan's number holds however many race."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 27))", (f"links:{user_id}",))
    row = conn.execute("SELECT tier FROM users WHERE id = %s", (user_id,)).fetchone()
    allowed = tier(row["tier"] if row else None).public_links
    held = one(conn.execute("SELECT count(*) AS n FROM public_clips WHERE user_id = %s", (user_id,)).fetchone())["n"]
    if held >= allowed:
        raise QuotaExceeded(
            "quota_links",
            f"Your plan keeps {allowed} public links; turn one off in Account → Public links to make another.",
        )


def check_room(db: Database | Conn, user_id: uuid.UUID, tier_name: str | None, duration_s: float) -> None:
    """:class:`QuotaExceeded` unless one more video of ``duration_s`` fits the user's tier. To hold when uploads
    race, call it with the connection whose transaction adds the video (:func:`heimdex.library.ingest.ingest` locks the
    user's uploads there)."""
    now = usage(db, user_id, tier_name)
    if now.videos + 1 > now.max_videos:
        raise QuotaExceeded(
            "quota_videos",
            f"Your plan keeps {now.max_videos} videos, the Trash's included; "
            "delete one and empty it from the Trash to upload another.",
        )
    if now.minutes + duration_s / 60 > now.max_minutes:
        raise QuotaExceeded(
            "quota_minutes",
            f"Your plan keeps {now.max_minutes:.0f} minutes of video; this one needs {duration_s / 60:.1f} and "
            f"{max(0.0, now.max_minutes - now.minutes):.1f} are left.",
        )


def hit(db: Database, action: str, key: str, user_id: uuid.UUID | None = None, tier: str | None = None) -> None:
    """Count one ``action`` for ``key``; :class:`QuotaExceeded` (not counted) if the window's allowance was used in
    the window up to now. ``tier``: the user's, for actions allowed per tier (``search``: the tier's searches per
    minute; unset reads as free). Counts for one key are taken one after the other, however many race."""
    allowed, window = _limit(action, tier)
    bucket = f"{action}:{key}"
    with db.transaction() as conn:
        conn.execute("SET LOCAL synchronous_commit TO OFF")  # a count lost in a crash does not matter; the wait does
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 28))", (bucket,))
        since = one(
            conn.execute(
                """SELECT count(*) AS n, extract(epoch FROM min(at) - clock_timestamp()) + %(window)s AS wait
                   FROM rate_limits WHERE bucket = %(bucket)s AND at > clock_timestamp() - make_interval(secs => %(window)s)""",
                {"bucket": bucket, "window": window},
            ).fetchone()
        )
        if since["n"] < allowed:
            conn.execute(
                "INSERT INTO rate_limits (bucket, at, user_id) VALUES (%s, clock_timestamp(), %s)", (bucket, user_id)
            )
            return
    wait = max(1, math.ceil(since["wait"] or 0))
    raise QuotaExceeded("rate_limited", f"Too many attempts; try again in {wait} seconds.")


def forget_counted(db: Database) -> int:
    """Delete counts older than the longest window (upkeep); how many went."""
    longest = max(window for _, window in LIMITS.values())
    with db.transaction() as conn:
        return conn.execute("DELETE FROM rate_limits WHERE at < now() - make_interval(secs => %s)", (longest,)).rowcount
