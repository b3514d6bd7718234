"""Signed links: short-lived URLs to a user's video, for one purpose, alive while the session that made them is.

A ``<video>``, ``<track>`` or ``<img>`` cannot send a session, so these links carry their own
grant: an HMAC over the purpose (``media``, ``captions``, ``still``, ``clip``), the user, the
video, the session that asked for it, the expiry and what else the link names (a scene, a
clip's range, a transcript's format). A link for one purpose opens nothing else, and the app
also checks that its session is still live (:func:`heimdex.auth.sessions.session_live`): signing
out or changing the password ends every link made under that session. A tampered signature,
another purpose, another user's id or an expired time is refused (403 in the app).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from urllib.parse import urlencode

from heimdex.config import Settings, get_settings
from heimdex.errors import BadInput, Kind

LINK_SECONDS = 15 * 60


def secret() -> bytes:
    """The signing key: ``HEIMDEX_SECRET_KEY``, else one kept in the data folder (read once)."""
    return _secret(get_settings())


@lru_cache(maxsize=2)
def _secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret.key"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{uuid.uuid4().hex}")
        partial.write_text(secrets.token_hex(32))
        partial.chmod(0o600)
        partial.replace(path)
    return path.read_text().strip().encode()


class LinkRefused(BadInput):
    def __init__(self, reason: str):
        super().__init__("link_refused", f"This link is not valid: {reason}.", Kind.FORBIDDEN)


class Purpose(StrEnum):
    """What a signed link opens: one route, nothing else."""

    MEDIA = "media"
    CAPTIONS = "captions"
    STILL = "still"
    CLIP = "clip"
    EXPORT = "export"  # a data export's zip (its id in place of a video's)


@dataclass(frozen=True)
class Grant:
    purpose: Purpose
    user_id: uuid.UUID
    video_id: uuid.UUID
    session_id: int
    expires: int
    scope: str  # what else the link names ("" for nothing)


def _signature(secret: bytes, grant: Grant) -> str:
    message = "\n".join(
        (grant.purpose, str(grant.user_id), str(grant.video_id), str(grant.session_id), str(grant.expires), grant.scope)
    ).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign(
    secret: bytes,
    purpose: Purpose,
    user_id: uuid.UUID,
    video_id: uuid.UUID,
    session_id: int | None,
    scope: str = "",
    seconds: int = LINK_SECONDS,
    now: float | None = None,
) -> str:
    """The query string that lets its holder use ``video_id`` for ``purpose`` (and ``scope``) for ``seconds``, while
    ``session_id`` lasts (``None``, no session: a link nothing opens)."""
    expires = int((now or time.time()) + seconds)
    grant = Grant(purpose, user_id, video_id, session_id or 0, expires, scope)
    return urlencode({"u": str(user_id), "k": grant.session_id, "e": expires, "s": _signature(secret, grant)})


def verify(
    secret: bytes,
    purpose: Purpose,
    video_id: str,
    user: str,
    session: str,
    expires: str,
    signature: str,
    scope: str = "",
    now: float | None = None,
) -> Grant:
    """The grant a link carries for ``purpose``; :class:`LinkRefused` if it was altered, is for another purpose or
    has expired. Whether its session is still live is the caller's to check."""
    try:
        grant = Grant(purpose, uuid.UUID(user), uuid.UUID(video_id), int(session), int(expires), str(scope)[:64])
    except (ValueError, TypeError):
        raise LinkRefused("malformed") from None
    if not hmac.compare_digest(_signature(secret, grant), str(signature or "")):
        raise LinkRefused("bad signature")
    if grant.expires < (now or time.time()):
        raise LinkRefused("expired")
    return grant
