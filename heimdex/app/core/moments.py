"""Finding moments and opening them: search, the Player's signed links, transcripts, share links."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import cast

from heimdex.app.core.common import database, owned_video, signed, still_link
from heimdex.app.core.people import face_pictures, scene_faces
from heimdex.app.core.sharing import public_link
from heimdex.app.core.videos import video_status
from heimdex.app.inputs import clean_text, seconds, whole_number
from heimdex.app.links import Purpose
from heimdex.app.results import MarkedLine, Moment, MomentAt, Player, SearchAnswer, Transcript
from heimdex.auth.users import User
from heimdex.config import get_settings
from heimdex.errors import BadInput, Kind
from heimdex.library import subtitles
from heimdex.library.videos import Video, parse_video_id, scene_at
from heimdex.search import SearchFilters
from heimdex.search import search as search_moments
from heimdex.search.query import parse_query
from heimdex.search.results import Matcher
from heimdex.telemetry import metrics


def search(
    user: User,
    query: str,
    limit: int = 10,
    video_id: str | None = None,
    channels: tuple[str, ...] = (),
    person: str | None = None,
    page: int = 1,
    since_days: int | None = None,
    language: str | None = None,
) -> SearchAnswer:
    """One page of the user's moments for ``query``, best first, each with a signed link to its picture (for a
    user signed in), and how many there are over all pages (``since_days``: uploaded in the last days)."""
    days = whole_number(since_days or 0, "number of days")
    filters = SearchFilters(
        video_id=parse_video_id(clean_text(str(video_id), 64)) if video_id else None,
        channels=tuple(clean_text(c, 20) for c in channels or ()),
        person=clean_text(person, 80) or None,
        language=clean_text(language, 20) or None,
        since=datetime.now(UTC) - timedelta(days=min(max(days, 0), 36500)) if days else None,
    )
    started = time.perf_counter()
    found = search_moments(
        database(),
        user.id,
        clean_text(query, 500),
        filters,
        page=max(1, whole_number(page, "page")),
        page_size=max(1, min(whole_number(limit, "limit"), 100)),
        settings=get_settings(),
    )
    metrics.searched(filters.channels, time.perf_counter() - started, len(found.moments))
    moments = []
    for moment in found.moments:
        shown = cast(Moment, moment.as_dict())
        scene = moment.thumbnail_scene  # a link for a session only (the CLI has none: its links would open nothing)
        signed_in = user.session_id is not None
        shown["picture"] = still_link(user, moment.video_id, scene) if signed_in and scene is not None else None
        moments.append(shown)
    return {
        "moments": moments,
        "total": found.total,
        "page": found.page,
        "page_size": found.page_size,
        "language": found.query.language,
        "corrected": found.corrected,
        "unknown_names": list(found.unknown_names),
    }


def preview(user: User, video_id: str, start_s: float = 0.0) -> str:
    """A short-lived signed URL (path and query) that plays the video from ``start_s``."""
    return _play_link(user, owned_video(user, video_id), start_s)


def clip_link(user: User, video_id: str, start_s: float, end_s: float) -> str:
    """A signed URL that downloads ``start_s``..``end_s`` of the video as its own file."""
    return _clip_link(user, owned_video(user, video_id), start_s, end_s)


def _play_link(user: User, video: Video, start_s: float) -> str:
    start = min(max(0.0, seconds(start_s, "start")), video.duration_s)
    return f"/media/{video.id}?{signed(user, video.id, Purpose.MEDIA)}#t={start:.2f}"


def _clip_link(user: User, video: Video, start_s: float, end_s: float) -> str:
    start, end = f"{seconds(start_s, 'start'):.2f}", f"{seconds(end_s, 'end'):.2f}"
    return f"/clip/{video.id}?{signed(user, video.id, Purpose.CLIP, f'{start}-{end}')}&start={start}&end={end}"


def _captions_link(user: User, video: Video, kind: str = "vtt") -> str:
    """A signed URL of the video's speech as WebVTT (what a ``<track>`` loads: it cannot send a session either),
    or ``kind`` ``srt`` / ``vtt-file``: a SubRip or WebVTT file to download."""
    if kind not in ("vtt", "srt", "vtt-file"):
        raise BadInput("bad_format", "Transcripts come as vtt or srt.")
    return f"/captions/{video.id}?{signed(user, video.id, Purpose.CAPTIONS, kind)}" + (
        "" if kind == "vtt" else f"&as={kind}"
    )


def transcript(user: User, video_id: str, query: str = "") -> Transcript:
    """What was said in the video, line by line with times, and the same as WebVTT and SubRip files; with
    ``query``, each line also comes ``marked``: the query's words as ``**word**``."""
    video = owned_video(user, video_id)
    with database().transaction() as conn:
        found = subtitles.lines(subtitles.spoken_words(conn, user.id, video.id))
    matches = Matcher(parse_query(clean_text(query, 500)).terms) if query else None
    segments: list[MarkedLine] = []
    for line in found:
        shown = cast(MarkedLine, line.as_dict())
        if matches:
            shown["marked"] = " ".join(f"**{w}**" if matches(w) else w for w in line.text.split())
        segments.append(shown)
    return {"segments": segments, "vtt": subtitles.webvtt(found), "srt": subtitles.srt(found)}


def share_link(user: User, video_id: str, start_s: float) -> str:
    """A link (path and query) that opens the Player at ``start_s`` of the video for its owner, once signed in: a
    pointer, no credential (it opens nothing for anyone else, and no media without a session)."""
    video = owned_video(user, video_id)
    start = min(max(0.0, seconds(start_s, "start")), video.duration_s)
    return f"/?moment={video.id}&t={start:.2f}"


def open_shared(user: User, video_id: str, at: float) -> MomentAt:
    """The moment a share link points at (:func:`moment`): the signed-in user's own video only."""
    return moment(user, video_id, seconds(at, "time"))


def moment(user: User, video_id: str, start_s: float = 0.0) -> MomentAt:
    """The moment at ``start_s`` of the video, as the Player opens it: the video, the scene playing then, signed
    links (play from there, its captions, the scene as a clip) and the people seen in the scene."""
    video = owned_video(user, video_id)
    start = min(max(0.0, seconds(start_s, "start")), video.duration_s)
    scene = scene_at(database(), user.id, video.id, start)
    if scene is None:
        raise BadInput(
            "not_indexed", "This video has no scenes yet; it can be opened once it is indexed.", Kind.CONFLICT
        )
    return {
        "video": video_status(user, str(video.id)),
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
        **open_moment(user, str(video.id), start, scene["start_s"], scene["end_s"], [scene["id"]]),
    }


def open_moment(
    user: User, video_id: str, start_s: float, scene_start_s: float, end_s: float, scene_ids: list[int]
) -> Player:
    """Everything the Player shows for one moment: where it plays, its captions, its clip, and the faces in its scenes
    (with pictures)."""
    video = owned_video(user, video_id)
    faces = scene_faces(user, scene_ids)
    return {
        "src": _play_link(user, video, start_s),
        "captions": _captions_link(user, video),
        "transcript_files": {kind: _captions_link(user, video, kind) for kind in ("srt", "vtt-file")},
        "language": video.spoken_language or "en",
        "duration_s": video.duration_s,
        "title": video.title,
        "clip": _clip_link(user, video, scene_start_s, end_s),
        "public": public_link(video, scene_start_s, end_s),
        "faces": [
            {**face, "picture": picture}
            for face, picture in zip(faces, face_pictures(user, [f["face_id"] for f in faces]))
        ],
    }
