"""Quotas by tier and rate limits, enforced in the service layer (the app and the API alike).

Tiers cap how many videos and how many minutes of video a user keeps; rate limits
count actions per user (or per email for sign-ins) in fixed windows, in Postgres,
so every process of the app shares them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from heimdex.config import get_settings
from heimdex.db import Conn, Database, one
from heimdex.errors import BadInput, Kind

LIMITS = {  # action: (allowed per window, window seconds)
    "upload": (30, 3600),
    "clip": (30, 600),  # clips cut (downloaded or published), per user: each one is encoded anew
}


def _limit(action: str) -> tuple[int, int]:
    settings = get_settings()
    if action == "sign_in":  # per client address, any outcome
        return settings.sign_in_limit, 900
    if action == "register":  # per client address
        return settings.register_limit, 3600
    if action == "search":  # per user
        return settings.search_limit, 60
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

    def summary(self) -> str:
        return f"{self.videos} of {self.max_videos} videos, {self.minutes:.1f} of {self.max_minutes:.0f} minutes"


def tier_limits(tier: str) -> tuple[int, float]:
    """Videos and minutes of video a tier keeps (``HEIMDEX_QUOTA_<TIER>_VIDEOS`` / ``_MINUTES``)."""
    settings = get_settings()
    if tier == "pro":
        return settings.quota_pro_videos, settings.quota_pro_minutes
    return settings.quota_free_videos, settings.quota_free_minutes


def usage(db: Database | Conn, user_id: uuid.UUID, tier: str) -> Usage:
    """What a user keeps, against their tier's limits (read in ``db``'s own transaction, or in ``conn``'s). Videos in
    the Trash count until it is emptied of them (:mod:`heimdex.library.trash`): their files are still kept."""
    if isinstance(db, Database):
        with db.transaction() as conn:
            return usage(conn, user_id, tier)
    row = one(
        db.execute(
            "SELECT count(*) AS n, coalesce(sum(duration_s), 0) AS seconds FROM videos WHERE user_id = %s",
            (user_id,),
        ).fetchone()
    )
    max_videos, max_minutes = tier_limits(tier)
    return Usage(row["n"], row["seconds"] / 60, max_videos, max_minutes)


def check_room(db: Database | Conn, user_id: uuid.UUID, tier: str, duration_s: float) -> None:
    """:class:`QuotaExceeded` unless one more video of ``duration_s`` fits the user's tier. To hold when uploads
    race, call it with the connection whose transaction adds the video (:func:`heimdex.library.ingest.ingest` locks the
    user's uploads there)."""
    now = usage(db, user_id, tier)
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


def hit(db: Database, action: str, key: str, user_id: uuid.UUID | None = None) -> None:
    """Count one ``action`` for ``key``; :class:`QuotaExceeded` once the window's allowance is used up."""
    allowed, window = _limit(action)
    now = datetime.now(UTC).timestamp()
    start = datetime.fromtimestamp(now - now % window, UTC)
    with db.transaction() as conn:
        conn.execute("SET LOCAL synchronous_commit TO OFF")  # a count lost in a crash does not matter; the wait does
        hits = one(
            conn.execute(
                """INSERT INTO rate_limits (bucket, window_start, hits, user_id) VALUES (%s, %s, 1, %s)
               ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits""",
                (f"{action}:{key}", start, user_id),
            ).fetchone()
        )["hits"]
    if hits > allowed:
        wait = int(window - now % window) + 1
        raise QuotaExceeded("rate_limited", f"Too many attempts; try again in {wait} seconds.")
