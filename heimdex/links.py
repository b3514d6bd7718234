"""Signed links: short-lived URLs to a user's video, an HMAC over user, video and expiry.

A link is checked without a session (a ``<video>`` tag cannot send one): a tampered
signature, another user's id or an expired time is refused (403 in the app).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from heimdex.config import Settings, get_settings
from heimdex.errors import BadInput

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
        super().__init__("link_refused", f"This link is not valid: {reason}.")


@dataclass(frozen=True)
class Grant:
    user_id: uuid.UUID
    video_id: uuid.UUID
    expires: int


def _signature(secret: bytes, user_id: uuid.UUID, video_id: uuid.UUID, expires: int) -> str:
    message = f"{user_id}:{video_id}:{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign(
    secret: bytes, user_id: uuid.UUID, video_id: uuid.UUID, seconds: int = LINK_SECONDS, now: float | None = None
) -> str:
    """The query string that lets its holder play ``video_id`` for ``seconds``."""
    expires = int((now or time.time()) + seconds)
    return urlencode({"u": str(user_id), "e": expires, "s": _signature(secret, user_id, video_id, expires)})


def verify(secret: bytes, video_id: str, user: str, expires: str, signature: str, now: float | None = None) -> Grant:
    """The grant a link carries; :class:`LinkRefused` if it was altered or has expired."""
    try:
        grant = Grant(uuid.UUID(user), uuid.UUID(video_id), int(expires))
    except (ValueError, TypeError):
        raise LinkRefused("malformed") from None
    expected = _signature(secret, grant.user_id, grant.video_id, grant.expires)
    if not hmac.compare_digest(expected, signature or ""):
        raise LinkRefused("bad signature")
    if grant.expires < (now or time.time()):
        raise LinkRefused("expired")
    return grant
