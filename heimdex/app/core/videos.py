"""A user's videos: their profile and quota, adding, listing, renaming, indexing again, stopping, and the Trash
(deleting, restoring, deleting for good)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict
from typing import BinaryIO, cast

from heimdex import states
from heimdex.app.core.common import database, owned_video, signed, store
from heimdex.app.handoff import file_path, get_handoff
from heimdex.app.inputs import clean_text
from heimdex.app.links import Purpose
from heimdex.app.results import AccountSummary, ListedVideo, Profile, Quota, TrashedVideo, VideoInfo
from heimdex.auth.users import User
from heimdex.config import get_settings
from heimdex.db import Conn, one
from heimdex.errors import BadInput, Kind
from heimdex.jobs import latest_job
from heimdex.jobs.queue import enqueue
from heimdex.library import trash as trash_store
from heimdex.library import videos as videos_store
from heimdex.library.ingest import ingest
from heimdex.library.media import MediaInfo
from heimdex.library.quotas import check_room, usage
from heimdex.library.videos import Video, list_videos, parse_video_id
from heimdex.telemetry import metrics


def profile(user: User) -> Profile:
    """Who is signed in, and how much of their quota is used."""
    used = usage(database(), user.id, user.tier)
    return {
        "email": user.email,
        "display_name": user.display_name,
        "tier": user.tier,
        "usage": used.summary(),
        "quota": cast(Quota, asdict(used)),
        "provider": user.auth_provider,
        "verified": user.verified,
        "session": f"{user.id}:{user.session_id}",
    }


def account_summary(user: User) -> AccountSummary:
    """What deleting the account removes: the videos in the Library, their minutes and scenes, the videos in the
    Trash, the people the user named, and the public links on."""
    with database().transaction() as conn:
        row = one(
            conn.execute(
                """SELECT count(*) FILTER (WHERE trashed_at IS NULL) AS videos,
                          coalesce(sum(duration_s) FILTER (WHERE trashed_at IS NULL), 0) AS seconds,
                          count(*) FILTER (WHERE trashed_at IS NOT NULL) AS trashed,
                          (SELECT count(*) FROM scenes WHERE user_id = %(user)s) AS scenes,
                          (SELECT count(*) FROM people WHERE user_id = %(user)s AND name IS NOT NULL) AS people,
                          (SELECT count(*) FROM public_clips WHERE user_id = %(user)s) AS links
                   FROM videos WHERE user_id = %(user)s""",
                {"user": user.id},
            ).fetchone()
        )
    return {
        "videos": row["videos"],
        "minutes": round(row["seconds"] / 60, 1),
        "scenes": row["scenes"],
        "trashed": row["trashed"],
        "people": row["people"],
        "links": row["links"],
    }


def upload(user: User, file: dict | str, title: str = "", language: str = "auto") -> str:
    """Validate, store and queue a video the user uploaded through the app; its id (the same file again: the same id).

    ``file`` names a file this user uploaded (``{"path": ...}``, as ``gradio_client.handle_file`` sends it): it is
    read only if it is one of theirs (:meth:`heimdex.app.handoff.Handoff.claim`), and deleted afterwards, stored or
    refused. It must fit the user's quota."""
    handoff = get_handoff()
    try:
        staged = handoff.claim(user.id, file_path(file))
        try:
            with staged.open("rb") as source:
                video = add_video(
                    user,
                    source,
                    staged.name,
                    title or None,
                    language,
                    admit=lambda conn, info: check_room(conn, user.id, user.tier, info.duration_s),
                )
        finally:
            handoff.release(staged)
    except BadInput as refused:
        metrics.uploaded(refused.code)
        raise
    metrics.uploaded(None)
    return str(video.id)


def add_video(
    user: User,
    source: BinaryIO,
    filename: str,
    title: str | None = None,
    language: str | None = None,
    admit: Callable[[Conn, MediaInfo], None] | None = None,
) -> Video:
    """Store a video from ``source`` and queue its indexing (the same bytes again: the video they already are; one
    in the Trash comes out of it, uploaded again, and is indexed anew)."""
    db = database()
    video = ingest(
        db,
        store(),
        get_settings(),
        user.id,
        source,
        clean_text(filename, 255),
        clean_text(title, 500) or None,
        clean_text(language, 20) or None,
        admit=admit,
    ).video
    if video.state in (states.VideoState.UPLOADED, states.VideoState.FAILED):
        enqueue(db, video.id)
    return video


def _status(video: Video, scenes: int) -> VideoInfo:
    job = latest_job(database(), video.id)
    return {  # pyright: ignore[reportReturnType]: Video.summary() holds the listing's fields
        **video.summary(),
        "stage": job.stage if job and job.active else None,
        "progress": round(job.progress, 3) if job else 0.0,
        "job_id": job.id if job else None,
        "job_state": job.state.value if job else None,
        "attempts": job.attempts if job else 0,
        "error": video.error_message or (job.error if job and job.state == states.JobState.FAILED else None),
        "scene_count": scenes,
    }


def _scene_counts(user: User) -> dict[uuid.UUID, int]:
    with database().transaction() as conn:
        rows = conn.execute(
            "SELECT video_id, count(*) AS n FROM scenes WHERE user_id = %s GROUP BY video_id", (user.id,)
        )
        return {row["video_id"]: row["n"] for row in rows.fetchall()}


def videos(user: User) -> list[ListedVideo]:
    """The user's videos with their job's stage and progress, their scene count and a signed link to their poster
    (their first scene's picture; 404 until there is one), newest first."""
    counts = _scene_counts(user)
    return [
        {
            **_status(video, counts.get(video.id, 0)),
            "poster": f"/still/{video.id}?{signed(user, video.id, Purpose.STILL)}",
        }
        for video in list_videos(database(), user.id)
    ]


def video_status(user: User, video_id: str) -> VideoInfo:
    """One of the user's videos as :func:`videos` lists it."""
    video = owned_video(user, video_id)
    return _status(video, _scene_counts(user).get(video.id, 0))


def rename_video(user: User, video_id: str, title: str) -> VideoInfo:
    """Give the video a new title (1 to 200 characters); return it as :func:`videos` lists it."""
    video = owned_video(user, video_id)
    title = clean_text(title, 200).strip()
    if not title:
        raise BadInput("bad_title", "A title needs at least one character.")
    videos_store.rename_video(database(), user.id, video.id, title)
    return video_status(user, str(video.id))


def delete_video(user: User, video_id: str) -> str:
    """Move a video to the Trash (its running job stops): everything derived from it is deleted at once, and it can
    be restored for 30 days, then it goes for good; the id of the video."""
    video = owned_video(user, video_id)
    job = latest_job(database(), video.id)
    if job and job.active:
        try:
            with database().transaction() as conn:
                states.request_cancel(conn, job.id)
        except states.WrongState:
            pass  # it ended meanwhile
    trash_store.trash_video(database(), store(), user.id, video.id)
    return str(video.id)


def _trashed_id(video_id: str) -> uuid.UUID:
    return parse_video_id(clean_text(str(video_id), 64))


def trash(user: User) -> list[TrashedVideo]:
    """The user's videos in the Trash, the last deleted first, each with when it goes for good."""
    return [
        {
            "video_id": str(video.id),
            "title": video.title,
            "duration_s": video.duration_s,
            "size_bytes": video.size_bytes,
            "trashed_at": video.trashed_at.isoformat() if video.trashed_at else "",
            "emptied_at": trash_store.emptied_at(video).isoformat(),
        }
        for video in trash_store.trashed(database(), user.id)
    ]


def restore_video(user: User, video_id: str) -> str:
    """Take a video out of the Trash and index it again; its id."""
    video = trash_store.restore_video(database(), user.id, _trashed_id(video_id))
    enqueue(database(), video.id)
    return str(video.id)


def delete_forever(user: User, video_id: str) -> str:
    """Delete a video in the Trash for good, with its uploaded file; its id."""
    found = _trashed_id(video_id)
    trash_store.delete_forever(database(), store(), user.id, found)
    return str(found)


def empty_trash(user: User) -> int:
    """Delete every video in the user's Trash for good, now; how many went."""
    return trash_store.empty_trash(database(), store(), older_than_days=0, user_id=user.id)


def reindex(user: User, video_id: str) -> int:
    """Index the video again (a video already queued or running keeps its job); the job's id."""
    return enqueue(database(), owned_video(user, video_id).id)


def cancel(user: User, video_id: str) -> str:
    """Stop the video's indexing: ``cancelled`` at once if it waited, ``running`` until its next heartbeat."""
    job = latest_job(database(), owned_video(user, video_id).id)
    if job is not None:
        try:
            with database().transaction() as conn:
                return states.request_cancel(conn, job.id).value
        except states.WrongState:  # it is not queued or running
            pass
    raise BadInput("not_running", "This video is not being indexed.", Kind.CONFLICT)
