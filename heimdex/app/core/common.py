"""What every subject of the core shares: the stores, the user's own video by id, and signed links."""

from __future__ import annotations

import time
import uuid

from heimdex.app.inputs import clean_text
from heimdex.app.links import LINK_SECONDS, Purpose, secret, sign
from heimdex.auth.users import User
from heimdex.config import get_settings
from heimdex.db import Database, get_database
from heimdex.library.videos import Video, get_video, parse_video_id
from heimdex.storage import BlobStore, get_blob_store

STEADY_S = 300  # pictures' links stay the same this long, so the browser keeps them cached


def database() -> Database:
    return get_database()


def store() -> BlobStore:
    return get_blob_store(get_settings())


def owned_video(user: User, video_id: object) -> Video:
    """The user's video ``video_id`` (:class:`~heimdex.errors.BadInput` ``not_found`` if it is not theirs)."""
    return get_video(database(), user.id, parse_video_id(clean_text(str(video_id), 64)))


def signed(user: User, video_id: uuid.UUID, purpose: Purpose, scope: str = "") -> str:
    """The signed query string of a link to the user's video for ``purpose`` (and ``scope``), alive while the
    user's session is; pictures' links stay the same for a few minutes. ``video_id`` must be the user's."""
    if purpose != Purpose.STILL:
        return sign(secret(), purpose, user.id, video_id, user.session_id, scope)
    now = time.time() // STEADY_S * STEADY_S
    return sign(secret(), purpose, user.id, video_id, user.session_id, scope, LINK_SECONDS + STEADY_S, now=now)


def still_link(user: User, video_id: uuid.UUID, scene: int) -> str:
    """A signed link to the picture of one of the user's scenes."""
    return f"/still/{video_id}?{signed(user, video_id, Purpose.STILL, str(scene))}&scene={scene}"
