"""The service layer the app and its API call: every operation takes a session token first.

Each function resolves the token to a user (or raises :class:`Unauthorized`) and
touches only that user's rows; quotas and rate limits are enforced here, so the UI and
the API behave the same. Results are plain JSON-ready dicts.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

from heimdex.auth import accounts
from heimdex.auth.sessions import session_user
from heimdex.config import get_settings
from heimdex.db import Database, get_database
from heimdex.errors import BadInput
from heimdex.handoff import get_handoff
from heimdex.ingest import ingest
from heimdex.inputs import clean_text, seconds, whole_number
from heimdex.jobs import latest_job, request_cancel
from heimdex.jobs.queue import enqueue
from heimdex.links import secret, sign
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


# ---- accounts ----

def register(email: str, password: str, display_name: str = "", client: str | None = None) -> str:
    """A new local account, signed in: its session token (``client``: the caller's address, for rate limits)."""
    return accounts.register(_db(), clean_text(email, 254), clean_text(password, 1000), clean_text(display_name, 100), client)


def login(email: str, password: str, client: str | None = None) -> str:
    """A new session token for the account (see :func:`heimdex.auth.accounts.login` for lockout and limits)."""
    return accounts.login(_db(), clean_text(email, 254), clean_text(password, 1000), client)


def logout(token: str) -> None:
    accounts.logout(_db(), token)


def change_password(token: str, current: str, new: str) -> str:
    return accounts.change_password(_db(), token, clean_text(current, 1000), clean_text(new, 1000))


def delete_account(token: str, password: str) -> None:
    """Delete the signed-in user, everything they own, and every file of theirs the app still holds."""
    user = session_user(_db(), token)
    accounts.delete_account(_db(), _store(), token, clean_text(password, 1000))
    get_handoff().forget_user(user.id)


def rename(token: str, display_name: str) -> str:
    from heimdex.auth.accounts import rename as rename_user

    return rename_user(_db(), token, clean_text(display_name, 100)).display_name


def profile(token: str) -> dict:
    user = session_user(_db(), token)
    used = usage(_db(), user.id, user.tier)
    return {"email": user.email, "display_name": user.display_name, "tier": user.tier, "usage": used.summary(),
            "provider": user.auth_provider}


def upload(token: str, path: object, title: str | None = None, language: str | None = None) -> str:
    """Validate, store and queue a video the caller uploaded at ``path``; return its id (the same file again: the same id).

    The session is checked first; ``path`` must be a file this user uploaded through the app
    (:meth:`heimdex.handoff.Handoff.claim`), and it is deleted afterwards, stored or refused.
    """
    db, settings = _db(), get_settings()
    user = session_user(db, token)
    handoff = get_handoff()
    staged = handoff.claim(user.id, path)
    try:
        hit(db, "upload", str(user.id), user.id)
        with staged.open("rb") as source:
            video = ingest(
                db, _store(), settings, user.id, source, staged.name, clean_text(title, 500) or None, clean_text(language, 20) or None,
                admit=lambda info: check_room(db, user.id, user.tier, info.duration_s),
            ).video
    finally:
        handoff.release(staged)
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


class _Line:
    """``slots`` holders at a time, the others served strictly in the order they came (no barging in)."""

    def __init__(self, slots: int):
        self._free, self._waiting, self._lock = slots, deque(), threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()  # the slot is handed over by the one leaving

    def __exit__(self, *exc) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._free += 1


_search_line: _Line | None = None
_line_lock = threading.Lock()


def _searches() -> _Line:
    """``HEIMDEX_SEARCH_CONCURRENCY`` searches at once, the others waiting first come, first served.

    A search is CPU work; on a few cores more of them at once only share the processor and the
    interpreter, and the unluckiest wait longest. Waiting in line keeps every answer near the mean.
    """
    global _search_line
    with _line_lock:
        if _search_line is None:
            _search_line = _Line(get_settings().search_concurrency)
        return _search_line


def search(token: str, query: str, limit: int = 10, video_id: str | None = None, channels: tuple[str, ...] = (),
           person: str | None = None, page: int = 1, since_days: int | None = None) -> list[dict]:
    """The user's moments for ``query``, as the CLI prints them (``since_days``: uploaded in the last days)."""
    with _searches():
        return _search(token, query, limit, video_id, channels, person, page, since_days)


def _search(token, query, limit, video_id, channels, person, page, since_days) -> list[dict]:
    db = _db()
    user = session_user(db, token)
    hit(db, "search", str(user.id), user.id)
    days = whole_number(since_days or 0, "number of days")
    since = datetime.now(timezone.utc) - timedelta(days=min(max(days, 0), 36500)) if days else None
    filters = SearchFilters(video_id=parse_video_id(clean_text(video_id, 64)) if video_id else None,
                            channels=tuple(clean_text(c, 20) for c in channels or ()), person=clean_text(person, 80) or None,
                            since=since)
    found = search_moments(db, user.id, clean_text(query, 500), filters, page=max(1, whole_number(page, "page")),
                           page_size=max(1, min(whole_number(limit, "limit"), 100)))
    return [moment.as_dict() for moment in found.moments]


def preview(token: str, video_id: str, start_s: float = 0.0) -> str:
    """A short-lived signed URL (path and query) that plays the video from ``start_s``."""
    db = _db()
    user = session_user(db, token)
    video = get_video(db, user.id, parse_video_id(video_id))
    start = min(max(0.0, seconds(start_s, "start")), video.duration_s)
    return f"/media/{video.id}?{sign(secret(), user.id, video.id)}#t={start:.2f}"


def clip_link(token: str, video_id: str, start_s: float, end_s: float) -> str:
    """A signed URL that downloads ``start_s``..``end_s`` of the video as its own file."""
    db = _db()
    user = session_user(db, token)
    video = get_video(db, user.id, parse_video_id(video_id))
    start, end = seconds(start_s, "start"), seconds(end_s, "end")
    return f"/clip/{video.id}?{sign(secret(), user.id, video.id)}&start={start:.2f}&end={end:.2f}"


def pictures(token: str, keys: list[str | None]) -> list[str | None]:
    """Files of the user's keyframe JPEGs for the app to show (each key checked to be under the user's prefix)."""
    user = session_user(_db(), token)
    return _pictures(user.id, keys)


def _pictures(user_id, keys: list[str | None]) -> list[str | None]:
    store, handoff, shown = _store(), get_handoff(), []
    for key in keys:
        if key and not key.startswith(f"u/{user_id}/"):
            raise BadInput("not_found", "No such picture.")
        if not key:
            shown.append(None)
            continue
        try:
            with store.open(key) as blob:
                shown.append(handoff.picture(user_id, key, blob.read()))
        except FileNotFoundError:  # deleted meanwhile
            shown.append(None)
    return shown


def face_pictures(token: str, face_ids: list[int | None]) -> list[str | None]:
    """Files of the pictures of the user's faces ``face_ids`` (None where a face has none or is not the user's)."""
    from heimdex.people import face_crops

    db = _db()
    user = session_user(db, token)
    crops = face_crops(db, user.id, [whole_number(i, "face id") for i in face_ids if i is not None])
    return _pictures(user.id, [crops.get(i) if i is not None else None for i in face_ids])


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
    return {**person.summary(), "cover_face_id": person.cover}


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
             "reference": f.reference} for f in faces_of(db, user.id, whole_number(person_id, "person id"))]


def scene_faces(token: str, scene_ids: list[int]) -> list[dict]:
    """The faces seen in the user's scenes, with the name each was given (``None``: nobody known)."""
    from heimdex.people import scene_faces as faces_in

    db = _db()
    user = session_user(db, token)
    return [{"face_id": f.id, "video_id": str(f.video_id), "t": f.t, "name": f.name}
            for f in faces_in(db, user.id, [whole_number(i, "scene id") for i in (scene_ids or [])][:500])]


def name_face(token: str, face_id: int, name: str) -> dict:
    """Enroll ``name`` from a face picked in one of the user's scenes (adding to the person if the name exists)."""
    from heimdex.people import enroll_faces

    db = _db()
    return _person(enroll_faces(db, session_user(db, token).id, clean_text(name, 200), [whole_number(face_id, "face id")]))


def add_person(token: str, name: str, photos: list[object]) -> dict:
    """Enroll ``name`` from photos with one face each (adding to the person if the name exists).

    Like :func:`upload`: the session first, then only files this user uploaded, deleted afterwards.
    """
    from heimdex.models.registry import get_model
    from heimdex.people import enroll

    db = _db()
    user = session_user(db, token)
    handoff = get_handoff()
    if not isinstance(photos, list) or len(photos) > 20:
        raise BadInput("no_photo", "Add between 1 and 20 photos of the person.")
    claimed: list[Path] = []
    try:
        for photo in photos:
            claimed.append(handoff.claim(user.id, photo))
        return _person(enroll(db, _store(), user.id, clean_text(name, 200), claimed, get_model("faces")))
    finally:
        for path in claimed:
            handoff.release(path)


def rename_person(token: str, person_id: int, name: str) -> dict:
    """Name a suggested person, or rename one; a name already used merges the two."""
    from heimdex.people import rename_person as rename

    db = _db()
    return _person(rename(db, session_user(db, token).id, whole_number(person_id, "person id"), clean_text(name, 200)))


def merge_people(token: str, keep_id: int, other_id: int) -> dict:
    from heimdex.people import merge_people as merge

    db = _db()
    return _person(merge(db, session_user(db, token).id, whole_number(keep_id, "person id"), whole_number(other_id, "person id")))


def split_person(token: str, person_id: int) -> list[dict]:
    """Split a person into the two most distinct groups; the second is a new unnamed person."""
    from heimdex.people import split_person as split

    db = _db()
    return [_person(p) for p in split(db, session_user(db, token).id, whole_number(person_id, "person id"))]


def delete_person(token: str, person_id: int) -> None:
    from heimdex.people import delete_person as forget

    db = _db()
    forget(db, _store(), session_user(db, token).id, whole_number(person_id, "person id"))
