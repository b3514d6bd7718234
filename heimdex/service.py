"""The service layer the app and its API call: every operation takes a session token first.

Each function resolves the token to a user (or raises :class:`Unauthorized`) and
touches only that user's rows; quotas and rate limits are enforced here, so the UI and
the API behave the same. Results are plain JSON-ready dicts.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from pathlib import Path

from heimdex.auth.sessions import session_user
from heimdex.config import Settings, get_settings
from heimdex.db import Database, get_database
from heimdex.errors import BadInput
from heimdex.ingest import ingest
from heimdex.jobs import latest_job, request_cancel
from heimdex.jobs.queue import enqueue
from heimdex.links import sign
from heimdex.quotas import check_room, hit, usage
from heimdex.search import SearchFilters
from heimdex.search import search as search_moments
from heimdex.storage import BlobStore, get_blob_store
from heimdex.videos import delete_video as remove_video
from heimdex.videos import get_video, list_videos, parse_video_id


def _db() -> Database:
    return get_database()


def _store() -> BlobStore:
    return get_blob_store(get_settings())


def secret() -> bytes:
    """The key of signed links: ``HEIMDEX_SECRET_KEY``, else one kept in the data folder (read once)."""
    return _secret(get_settings())


@lru_cache(maxsize=2)
def _secret(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "secret.key"
    if not path.is_file():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{uuid.uuid4().hex}")
        partial.write_text(secrets.token_hex(32))
        partial.chmod(0o600)
        partial.replace(path)
    return path.read_text().strip().encode()


def rename(token: str, display_name: str) -> str:
    from heimdex.auth.accounts import rename as rename_user

    return rename_user(_db(), token, display_name).display_name


def profile(token: str) -> dict:
    user = session_user(_db(), token)
    used = usage(_db(), user.id, user.tier)
    return {"email": user.email, "display_name": user.display_name, "tier": user.tier, "usage": used.summary(),
            "provider": user.auth_provider}


def upload(token: str, path: str | Path, title: str | None = None, language: str | None = None) -> str:
    """Validate, store and queue a video; return its id (the same file again returns the same id)."""
    db, settings = _db(), get_settings()
    user = session_user(db, token)
    hit(db, "upload", str(user.id), user.id)
    path = Path(path)
    if not path.is_file():
        raise BadInput("no_file", "Choose a video file to upload.")
    with path.open("rb") as source:
        video = ingest(
            db, _store(), settings, user.id, source, path.name, title, language,
            admit=lambda info: check_room(db, user.id, user.tier, info.duration_s),
        ).video
    if video.state in ("uploaded", "failed"):
        enqueue(db, video.id)
    return str(video.id)


def videos(token: str) -> list[dict]:
    """The user's videos with their job's stage and progress and their scene count, newest first."""
    db = _db()
    user = session_user(db, token)
    with db.transaction() as conn:
        counts = {
            row["video_id"]: row["n"]
            for row in conn.execute(
                "SELECT video_id, count(*) AS n FROM scenes WHERE user_id = %s GROUP BY video_id", (user.id,)
            ).fetchall()
        }
    listed = []
    for video in list_videos(db, user.id):
        job = latest_job(db, video.id)
        listed.append({
            **video.summary(),
            "stage": job.stage if job and job.active else None,
            "progress": round(job.progress, 3) if job else 0.0,
            "job_state": job.state if job else None,
            "scene_count": counts.get(video.id, 0),
        })
    return listed


def search(token: str, query: str, limit: int = 10, video_id: str | None = None, channels: tuple[str, ...] = (),
           person: str | None = None, page: int = 1, since_days: int | None = None) -> list[dict]:
    """The user's moments for ``query``, as the CLI prints them (``since_days``: uploaded in the last days)."""
    db = _db()
    user = session_user(db, token)
    hit(db, "search", str(user.id), user.id)
    since = datetime.now(timezone.utc) - timedelta(days=since_days) if since_days else None
    filters = SearchFilters(video_id=parse_video_id(video_id) if video_id else None, channels=tuple(channels),
                            person=person or None, since=since)
    found = search_moments(db, user.id, query, filters, page=page, page_size=max(1, min(int(limit), 100)))
    return [moment.as_dict() for moment in found.moments]


def preview(token: str, video_id: str, start_s: float = 0.0) -> str:
    """A short-lived signed URL (path and query) that plays the video from ``start_s``."""
    db = _db()
    user = session_user(db, token)
    video = get_video(db, user.id, parse_video_id(video_id))
    start = min(max(0.0, float(start_s)), video.duration_s)
    return f"/media/{video.id}?{sign(secret(), user.id, video.id)}#t={start:.2f}"


def clip_link(token: str, video_id: str, start_s: float, end_s: float) -> str:
    """A signed URL that downloads ``start_s``..``end_s`` of the video as its own file."""
    db = _db()
    user = session_user(db, token)
    video = get_video(db, user.id, parse_video_id(video_id))
    return f"/clip/{video.id}?{sign(secret(), user.id, video.id)}&start={float(start_s):.2f}&end={float(end_s):.2f}"


def thumbnails(token: str, keys: list[str | None]) -> list[bytes | None]:
    """Keyframe JPEGs of the user's (each key is checked to be under the user's prefix)."""
    user = session_user(_db(), token)
    store, pictures = _store(), []
    for key in keys:
        if key and not key.startswith(f"u/{user.id}/"):
            raise BadInput("not_found", "No such picture.")
        if key:
            with store.open(key) as blob:
                pictures.append(blob.read())
        else:
            pictures.append(None)
    return pictures


def delete_video(token: str, video_id: str) -> str:
    """Delete a video and everything derived from it (its running job stops)."""
    db = _db()
    user = session_user(db, token)
    vid = parse_video_id(video_id)
    get_video(db, user.id, vid)
    job = latest_job(db, vid)
    if job and job.active:
        request_cancel(db, job.id)
    remove_video(db, _store(), user.id, vid)
    return str(vid)


def reindex(token: str, video_id: str) -> int:
    db = _db()
    user = session_user(db, token)
    return enqueue(db, get_video(db, user.id, parse_video_id(video_id)).id)


def cancel(token: str, video_id: str) -> str:
    db = _db()
    user = session_user(db, token)
    video = get_video(db, user.id, parse_video_id(video_id))
    job = latest_job(db, video.id)
    if job is None or not job.active:
        raise BadInput("not_running", "This video is not being indexed.")
    return request_cancel(db, job.id)


def _person(person) -> dict:
    return {**person.summary(), "cover": person.cover}


def people(token: str) -> dict:
    """The user's named people (by name) and the people suggested from faces seen (most seen first)."""
    from heimdex.people import list_people

    db = _db()
    user = session_user(db, token)
    return {"people": [_person(p) for p in list_people(db, user.id)],
            "suggested": [_person(p) for p in list_people(db, user.id, suggested=True)]}


def person_faces(token: str, person_id: int) -> list[dict]:
    """A person's faces (pictures are blob keys for :func:`thumbnails`): photos first, then faces seen in videos."""
    from heimdex.people import person_faces as faces_of

    db = _db()
    user = session_user(db, token)
    return [{"face_id": f.id, "video_id": str(f.video_id) if f.video_id else None, "title": f.title, "t": f.t,
             "picture": f.crop, "reference": f.reference} for f in faces_of(db, user.id, int(person_id))]


def scene_faces(token: str, scene_ids: list[int]) -> list[dict]:
    """The faces seen in the user's scenes, with the name each was given (``None``: nobody known)."""
    from heimdex.people import scene_faces as faces_in

    db = _db()
    user = session_user(db, token)
    return [{"face_id": f.id, "video_id": str(f.video_id), "t": f.t, "picture": f.crop, "name": f.name}
            for f in faces_in(db, user.id, list(scene_ids or []))]


def name_face(token: str, face_id: int, name: str) -> dict:
    """Enroll ``name`` from a face picked in one of the user's scenes (adding to the person if the name exists)."""
    from heimdex.people import enroll_faces

    db = _db()
    return _person(enroll_faces(db, session_user(db, token).id, name, [int(face_id)]))


def add_person(token: str, name: str, photos: list[str | Path]) -> dict:
    """Enroll ``name`` from photos with one face each (adding to the person if the name exists)."""
    from heimdex.models.registry import get_model
    from heimdex.people import enroll

    db = _db()
    user = session_user(db, token)
    paths = [Path(p) for p in photos or []]
    if any(not p.is_file() for p in paths):
        raise BadInput("no_file", "Choose the photos again.")
    return _person(enroll(db, _store(), user.id, name, paths, get_model("faces")))


def rename_person(token: str, person_id: int, name: str) -> dict:
    """Name a suggested person, or rename one; a name already used merges the two."""
    from heimdex.people import rename_person as rename

    db = _db()
    return _person(rename(db, session_user(db, token).id, int(person_id), name))


def merge_people(token: str, keep_id: int, other_id: int) -> dict:
    from heimdex.people import merge_people as merge

    db = _db()
    return _person(merge(db, session_user(db, token).id, int(keep_id), int(other_id)))


def split_person(token: str, person_id: int) -> list[dict]:
    """Split a person into the two most distinct groups; the second is a new unnamed person."""
    from heimdex.people import split_person as split

    db = _db()
    return [_person(p) for p in split(db, session_user(db, token).id, int(person_id))]


def delete_person(token: str, person_id: int) -> None:
    from heimdex.people import delete_person as forget

    db = _db()
    forget(db, _store(), session_user(db, token).id, int(person_id))
