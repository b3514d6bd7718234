"""Public links: a clip of a user's video that anyone with the link may watch, turned on and off by its owner."""

from __future__ import annotations

import uuid
from typing import cast

from heimdex.app.core.common import database, owned_video, store
from heimdex.app.inputs import clean_text, seconds
from heimdex.app.links import secret
from heimdex.app.results import PublicClip
from heimdex.auth.accounts import require_verified
from heimdex.auth.users import User
from heimdex.config import get_settings
from heimdex.errors import BadInput
from heimdex.library import public
from heimdex.library.videos import Video, source_missing


def public_link(video: Video, start_s: float, end_s: float) -> PublicClip | None:
    """The clip's public link if it is on (``None``: off, or the range is no clip of the video)."""
    try:
        found = public.find(database(), video, seconds(start_s, "start"), seconds(end_s, "end"))
    except BadInput:
        return None
    return cast(PublicClip, found.as_dict(secret())) if found else None


def publish_clip(user: User, video_id: str, start_s: float, end_s: float) -> PublicClip:
    """Let anyone with the link watch ``start_s``..``end_s`` of the user's video (at most 2 minutes; the same range
    again: the same link): ``{"clip_id", "url", ...}``, the link being the path ``/p/<token>``. Waits for a confirmed
    address."""
    video = owned_video(user, video_id)
    require_verified(user)
    try:
        clip = public.publish(
            database(), store(), get_settings().tmp_dir, video, seconds(start_s, "start"), seconds(end_s, "end")
        )
    except FileNotFoundError:
        raise source_missing(database(), video) from None
    return cast(PublicClip, clip.as_dict(secret()))


def unpublish_clip(user: User, clip_id: str) -> None:
    """Turn one of the user's public links off: anyone opening it from now on gets nothing."""
    try:
        parsed = uuid.UUID(clean_text(str(clip_id), 64))
    except ValueError:
        raise BadInput("link_not_found", "This public link is not on (it was turned off, or is not yours).") from None
    public.unpublish(database(), store(), user.id, parsed)


def public_clips(user: User) -> list[PublicClip]:
    """The user's public links that are on, newest first."""
    return [cast(PublicClip, clip.as_dict(secret())) for clip in public.listed(database(), user.id)]
