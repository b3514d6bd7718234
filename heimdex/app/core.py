"""What a user can do with their library: every function takes the :class:`User` it acts for.

Who that user is was settled before the call: by the session layer (:mod:`heimdex.app.service`,
for the app and its API) or by the CLI's ``--user``. Every read and write here stays inside
that user's rows and blobs; text and numbers from outside are made safe here (the CLI
and the app send the same things). Results are plain JSON-ready dicts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from heimdex import states
from heimdex.app.handoff import get_handoff
from heimdex.app.inputs import clean_text, seconds, whole_number
from heimdex.app.links import LINK_SECONDS, Purpose, secret, sign
from heimdex.auth.users import User
from heimdex.config import get_settings
from heimdex.db import Conn, Database, get_database
from heimdex.errors import BadInput
from heimdex.jobs import latest_job
from heimdex.jobs.queue import enqueue
from heimdex.library import people as people_store
from heimdex.library import public, subtitles
from heimdex.library import videos as videos_store
from heimdex.library.ingest import ingest
from heimdex.library.media import MediaInfo
from heimdex.library.quotas import usage
from heimdex.library.videos import Video, get_video, list_videos, parse_video_id, scene_at, source_missing
from heimdex.library.videos import delete_video as remove_video
from heimdex.search import SearchFilters
from heimdex.search import search as search_moments
from heimdex.search.query import parse_query
from heimdex.search.results import Matcher
from heimdex.storage import BlobStore, get_blob_store


def _db() -> Database:
    return get_database()


def _store() -> BlobStore:
    return get_blob_store(get_settings())


def _video(user: User, video_id: object) -> Video:
    return get_video(_db(), user.id, parse_video_id(clean_text(str(video_id), 64)))


# ---- videos ----


def profile(user: User) -> dict:
    used = usage(_db(), user.id, user.tier)
    return {
        "email": user.email,
        "display_name": user.display_name,
        "tier": user.tier,
        "usage": used.summary(),
        "quota": asdict(used),
        "provider": user.auth_provider,
    }


def add_video(
    user: User,
    source: BinaryIO,
    filename: str,
    title: str | None = None,
    language: str | None = None,
    admit: Callable[[Conn, MediaInfo], None] | None = None,
) -> Video:
    """Store a video from ``source`` and queue its indexing (the same bytes again: the video they already are)."""
    db = _db()
    video = ingest(
        db,
        _store(),
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


def _status(video: Video, scenes: int) -> dict:
    job = latest_job(_db(), video.id)
    return {
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
    with _db().transaction() as conn:
        rows = conn.execute(
            "SELECT video_id, count(*) AS n FROM scenes WHERE user_id = %s GROUP BY video_id", (user.id,)
        )
        return {row["video_id"]: row["n"] for row in rows.fetchall()}


def videos(user: User) -> list[dict]:
    """The user's videos with their job's stage and progress, their scene count and a signed link to their poster
    (their first scene's picture; 404 until there is one), newest first."""
    counts = _scene_counts(user)
    return [
        {**_status(video, counts.get(video.id, 0)), "poster": f"/still/{video.id}?{_links(user, video, Purpose.STILL)}"}
        for video in list_videos(_db(), user.id)
    ]


def video_status(user: User, video_id: object) -> dict:
    """One of the user's videos as :func:`videos` lists it."""
    video = _video(user, video_id)
    return _status(video, _scene_counts(user).get(video.id, 0))


def rename_video(user: User, video_id: object, title: str) -> dict:
    """Give the video a new title (1 to 200 characters); return it as :func:`videos` lists it."""
    video = _video(user, video_id)
    title = clean_text(title, 200).strip()
    if not title:
        raise BadInput("bad_title", "A title needs at least one character.")
    videos_store.rename_video(_db(), user.id, video.id, title)
    return video_status(user, video.id)


def delete_video(user: User, video_id: object) -> str:
    """Delete a video and everything derived from it (its running job stops)."""
    video = _video(user, video_id)
    job = latest_job(_db(), video.id)
    if job and job.active:
        try:
            with _db().transaction() as conn:
                states.request_cancel(conn, job.id)
        except states.WrongState:
            pass  # it ended meanwhile
    remove_video(_db(), _store(), user.id, video.id)
    return str(video.id)


def reindex(user: User, video_id: object) -> int:
    """Index the video again (a video already queued or running keeps its job); return the job id."""
    return enqueue(_db(), _video(user, video_id).id)


def cancel(user: User, video_id: object) -> str:
    """Stop the video's indexing: ``cancelled`` at once if it waited, ``running`` until its next heartbeat."""
    job = latest_job(_db(), _video(user, video_id).id)
    if job is not None:
        try:
            with _db().transaction() as conn:
                return states.request_cancel(conn, job.id).value
        except states.WrongState:  # it is not queued or running
            pass
    raise BadInput("not_running", "This video is not being indexed.")


# ---- search and the player ----


def search(
    user: User,
    query: str,
    limit: int = 10,
    video_id: object | None = None,
    channels: tuple[str, ...] = (),
    person: str | None = None,
    page: int = 1,
    since_days: int | None = None,
    language: str | None = None,
) -> list[dict]:
    """The user's moments for ``query`` (``since_days``: uploaded in the last days)."""
    days = whole_number(since_days or 0, "number of days")
    filters = SearchFilters(
        video_id=parse_video_id(clean_text(str(video_id), 64)) if video_id else None,
        channels=tuple(clean_text(c, 20) for c in channels or ()),
        person=clean_text(person, 80) or None,
        language=clean_text(language, 20) or None,
        since=datetime.now(UTC) - timedelta(days=min(max(days, 0), 36500)) if days else None,
    )
    found = search_moments(
        _db(),
        user.id,
        clean_text(query, 500),
        filters,
        page=max(1, whole_number(page, "page")),
        page_size=max(1, min(whole_number(limit, "limit"), 100)),
    )
    return [moment.as_dict() for moment in found.moments]


STEADY_S = 300  # pictures' links stay the same this long, so the browser keeps them cached


def _links(user: User, video: Video, purpose: Purpose, scope: str = "") -> str:
    """The signed query string of a link to the user's video for ``purpose`` (and ``scope``), alive while the user's
    session is; pictures' links stay the same for a few minutes."""
    if purpose != Purpose.STILL:
        return sign(secret(), purpose, user.id, video.id, user.session_id, scope)
    now = time.time() // STEADY_S * STEADY_S
    return sign(secret(), purpose, user.id, video.id, user.session_id, scope, LINK_SECONDS + STEADY_S, now=now)


def preview(user: User, video_id: object, start_s: float = 0.0) -> str:
    """A short-lived signed URL (path and query) that plays the video from ``start_s``."""
    return _play_link(user, _video(user, video_id), start_s)


def clip_link(user: User, video_id: object, start_s: float, end_s: float) -> str:
    """A signed URL that downloads ``start_s``..``end_s`` of the video as its own file."""
    return _clip_link(user, _video(user, video_id), start_s, end_s)


def _play_link(user: User, video: Video, start_s: float) -> str:
    start = min(max(0.0, seconds(start_s, "start")), video.duration_s)
    return f"/media/{video.id}?{_links(user, video, Purpose.MEDIA)}#t={start:.2f}"


def _clip_link(user: User, video: Video, start_s: float, end_s: float) -> str:
    start, end = f"{seconds(start_s, 'start'):.2f}", f"{seconds(end_s, 'end'):.2f}"
    return f"/clip/{video.id}?{_links(user, video, Purpose.CLIP, f'{start}-{end}')}&start={start}&end={end}"


def still_links(user: User, moments: list[dict]) -> list[str | None]:
    """Signed URLs of the moments' pictures (their best scene's keyframe), each naming its scene."""
    videos: dict[str, Video] = {}
    links: list[str | None] = []
    for found in moments:
        video_id, scene = str(found.get("video_id")), found.get("thumbnail_scene")
        if scene is None:
            links.append(None)
            continue
        if video_id not in videos:
            videos[video_id] = _video(user, video_id)
        video, number = videos[video_id], str(whole_number(scene, "scene id"))
        links.append(f"/still/{video.id}?{_links(user, video, Purpose.STILL, number)}&scene={number}")
    return links


def captions_link(user: User, video_id: object, kind: str = "vtt") -> str:
    """A signed URL of the video's speech as WebVTT (what a ``<track>`` loads: it cannot send a session either),
    or ``kind`` ``srt`` / ``vtt-file``: a SubRip or WebVTT file to download."""
    return _captions_link(user, _video(user, video_id), kind)


def _captions_link(user: User, video: Video, kind: str = "vtt") -> str:
    if kind not in ("vtt", "srt", "vtt-file"):
        raise BadInput("bad_format", "Transcripts come as vtt or srt.")
    return f"/captions/{video.id}?{_links(user, video, Purpose.CAPTIONS, kind)}" + (
        "" if kind == "vtt" else f"&as={kind}"
    )


def transcript(user: User, video_id: object, query: str = "") -> dict:
    """What was said in the video, line by line with times, and the same as WebVTT and SubRip files; with
    ``query``, each line also comes ``marked``: the query's words as ``**word**``."""
    video = _video(user, video_id)
    with _db().transaction() as conn:
        found = subtitles.lines(subtitles.spoken_words(conn, user.id, video.id))
    matches = Matcher(parse_query(clean_text(query, 500)).terms) if query else None
    return {
        "segments": [
            {**line.as_dict(), "marked": " ".join(f"**{w}**" if matches(w) else w for w in line.text.split())}
            if matches
            else line.as_dict()
            for line in found
        ],
        "vtt": subtitles.webvtt(found),
        "srt": subtitles.srt(found),
    }


def share_link(user: User, video_id: object, start_s: float) -> str:
    """A link (path and query) that opens the Player at ``start_s`` of the video for its owner, once signed in: a
    pointer, no credential (it opens nothing for anyone else, and no media without a session)."""
    video = _video(user, video_id)
    start = min(max(0.0, seconds(start_s, "start")), video.duration_s)
    return f"/?moment={video.id}&t={start:.2f}"


def open_shared(user: User, video_id: object, at: object) -> dict:
    """The moment a share link points at (:func:`moment`): the signed-in user's own video only."""
    return moment(user, video_id, seconds(at, "time"))


def moment(user: User, video_id: object, start_s: float) -> dict:
    """The moment at ``start_s`` of the video, as the Player opens it: the video, the scene playing then, signed
    links (play from there, its captions, the scene as a clip) and the people seen in the scene."""
    video = _video(user, video_id)
    start = min(max(0.0, seconds(start_s, "start")), video.duration_s)
    scene = scene_at(_db(), user.id, video.id, start)
    if scene is None:
        raise BadInput("not_indexed", "This video has no scenes yet; it can be opened once it is indexed.")
    return {
        "video": video_status(user, video.id),
        "scene": {
            "scene_id": scene["id"],
            "idx": scene["idx"],
            "start_s": scene["start_s"],
            "end_s": scene["end_s"],
            "transcript": scene["transcript"],
            "ocr_text": scene["ocr_text"],
            "caption": scene["caption"],
            "tags": [tag["tag"] for tag in scene["tags"]],
        },
        **open_moment(user, video.id, start, scene["start_s"], scene["end_s"], [scene["id"]]),
    }


def open_moment(
    user: User, video_id: object, start_s: float, scene_start_s: float, end_s: float, scene_ids: list[int]
) -> dict:
    """Everything the Player shows for one moment: where it plays, its captions, its clip, and the faces in its scenes
    (with pictures)."""
    video = _video(user, video_id)
    faces = scene_faces(user, scene_ids)
    return {
        "src": _play_link(user, video, start_s),
        "captions": _captions_link(user, video),
        "transcript_files": {kind: _captions_link(user, video, kind) for kind in ("srt", "vtt-file")},
        "language": video.spoken_language or "en",
        "duration_s": video.duration_s,
        "title": video.title,
        "clip": _clip_link(user, video, scene_start_s, end_s),
        "public": _public_link(video, scene_start_s, end_s),
        "faces": [
            {**face, "picture": picture}
            for face, picture in zip(faces, face_pictures(user, [f["face_id"] for f in faces]))
        ],
    }


# ---- public clips ----


def _public_link(video: Video, start_s: float, end_s: float) -> dict | None:
    """The clip's public link if it is on (``None``: off, or the range is no clip of the video)."""
    try:
        found = public.find(_db(), video, seconds(start_s, "start"), seconds(end_s, "end"))
    except BadInput:
        return None
    return found.as_dict(secret()) if found else None


def publish_clip(user: User, video_id: object, start_s: float, end_s: float) -> dict:
    """Let anyone with the link watch ``start_s``..``end_s`` of the user's video (at most 2 minutes; the same range
    again: the same link): ``{"clip_id", "url", ...}``, the link being the path ``/p/<token>``."""
    video = _video(user, video_id)
    try:
        clip = public.publish(
            _db(), _store(), get_settings().tmp_dir, video, seconds(start_s, "start"), seconds(end_s, "end")
        )
    except FileNotFoundError:
        raise source_missing(_db(), video) from None
    return clip.as_dict(secret())


def unpublish_clip(user: User, clip_id: object) -> None:
    """Turn one of the user's public links off: anyone opening it from now on gets nothing."""
    try:
        parsed = uuid.UUID(clean_text(str(clip_id), 64))
    except ValueError:
        raise BadInput("link_not_found", "This public link is not on (it was turned off, or is not yours).") from None
    public.unpublish(_db(), _store(), user.id, parsed)


def public_clips(user: User) -> list[dict]:
    """The user's public links that are on, newest first."""
    return [clip.as_dict(secret()) for clip in public.listed(_db(), user.id)]


def pictures(user: User, keys: list[str | None]) -> list[str | None]:
    """Files of the user's JPEGs (keyframes, faces) for the app to show; each key must be under the user's prefix."""
    store, handoff, shown = _store(), get_handoff(), []
    for key in keys:
        if key and (not isinstance(key, str) or not key.startswith(f"u/{user.id}/")):
            raise BadInput("not_found", "No such picture.")
        if not key:
            shown.append(None)
            continue
        try:
            with store.open(key) as blob:
                shown.append(handoff.picture(user.id, key, blob.read()))
        except FileNotFoundError:  # deleted meanwhile
            shown.append(None)
    return shown


def face_pictures(user: User, face_ids: list[int | None]) -> list[str | None]:
    """Files of the pictures of the user's faces ``face_ids`` (None where a face has none or is not the user's)."""
    crops = people_store.face_crops(_db(), user.id, [whole_number(i, "face id") for i in face_ids if i is not None])
    return pictures(user, [crops.get(i) if i is not None else None for i in face_ids])


# ---- people ----


def _person(person: people_store.Person) -> dict:
    return {**person.summary(), "cover_face_id": person.cover}


def people(user: User) -> dict:
    """The user's named people (by name) and the people suggested from faces seen (most seen first)."""
    return {
        "people": [_person(p) for p in people_store.list_people(_db(), user.id)],
        "suggested": [_person(p) for p in people_store.list_people(_db(), user.id, suggested=True)],
    }


def person_faces(user: User, person_id: int) -> list[dict]:
    """A person's faces (photos first, then faces seen in videos)."""
    return [
        {
            "face_id": f.id,
            "video_id": str(f.video_id) if f.video_id else None,
            "title": f.title,
            "t": f.t,
            "reference": f.reference,
        }
        for f in people_store.person_faces(_db(), user.id, whole_number(person_id, "person id"))
    ]


def likely_faces(user: User, person_id: int) -> list[dict]:
    """ "Is this also Mina?": faces seen in videos that surely are the person but unlike their photos; confirming
    one (:func:`name_face` with the person's name) makes it a reference face."""
    return [
        {
            "face_id": f.id,
            "video_id": str(f.video_id),
            "title": f.title,
            "t": f.t,
            "question": f"Is this also {f.name}?",
        }
        for f in people_store.likely_faces(_db(), user.id, whole_number(person_id, "person id"))
    ]


def scene_faces(user: User, scene_ids: list[int]) -> list[dict]:
    """The faces seen in the user's scenes, with the name each was given (``None``: nobody known)."""
    ids = [whole_number(i, "scene id") for i in (scene_ids or [])][:500]
    return [
        {"face_id": f.id, "video_id": str(f.video_id), "t": f.t, "name": f.name}
        for f in people_store.scene_faces(_db(), user.id, ids)
    ]


def name_face(user: User, face_id: int, name: str) -> dict:
    """Enroll ``name`` from a face picked in one of the user's scenes (adding to the person if the name exists)."""
    return _person(people_store.enroll_faces(_db(), user.id, clean_text(name, 200), [whole_number(face_id, "face id")]))


def add_person(user: User, name: str, photos: list[Path]) -> dict:
    """Enroll ``name`` from photos with one face each (adding to the person if the name exists)."""
    from heimdex.models.registry import get_registry

    if not photos or len(photos) > 20:
        raise BadInput("no_photo", "Add between 1 and 20 photos of the person.")
    return _person(
        people_store.enroll(_db(), _store(), user.id, clean_text(name, 200), photos, get_registry().get("faces"))
    )


def rename_person(user: User, person_id: int, name: str) -> dict:
    """Name a suggested person, or rename one; a name already used merges the two."""
    return _person(
        people_store.rename_person(_db(), user.id, whole_number(person_id, "person id"), clean_text(name, 200))
    )


def merge_people(user: User, keep_id: int, other_id: int) -> dict:
    return _person(
        people_store.merge_people(
            _db(), user.id, whole_number(keep_id, "person id"), whole_number(other_id, "person id")
        )
    )


def split_person(user: User, person_id: int) -> list[dict]:
    """Split a person into the two most distinct groups; the second is a new unnamed person."""
    return [_person(p) for p in people_store.split_person(_db(), user.id, whole_number(person_id, "person id"))]


def delete_person(user: User, person_id: int) -> None:
    people_store.delete_person(_db(), _store(), user.id, whole_number(person_id, "person id"))
