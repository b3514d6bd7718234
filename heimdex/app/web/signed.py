"""What a signed link opens: ``/media``, ``/captions``, ``/still`` and ``/clip`` of a user's video, and ``/export``
(the user's data export).

A ``<video>`` element cannot send a session, so these trust only a link signed for that route
(:mod:`heimdex.app.links`) whose session is still live: tampered, expired, made for another route or
signed out is 403, not the signer's video 404. Local files are served with byte ranges (seeking
works). Cutting clips is rate limited per user. A refusal's status is its kind's (:data:`heimdex.errors.ANSWERS`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from heimdex.app.links import Grant, LinkRefused, Purpose, secret, verify
from heimdex.auth.sessions import session_live
from heimdex.config import get_settings
from heimdex.db import get_database
from heimdex.errors import BadInput, Kind, NotFound
from heimdex.library.clips import clip_range, cut_video
from heimdex.library.media import mime_type
from heimdex.library.quotas import hit
from heimdex.library.subtitles import lines, spoken_words, srt, webvtt
from heimdex.library.videos import Video, get_video, scene_picture, source_missing
from heimdex.storage import get_blob_store

MAX_PICTURE_BYTES = 8 << 20  # a keyframe is a JPEG of a few hundred kB


def refused(failure: BadInput) -> HTTPException:
    """The HTTP answer of a refusal: its kind's status, its sentence."""
    return HTTPException(status_code=failure.answer.http, detail=failure.message)


def _refuse(code: str, message: str, kind: Kind = Kind.INVALID) -> HTTPException:
    return refused(BadInput(code, message, kind))


def _granted(purpose: Purpose, video_id: str, link: dict[str, str], scope: str = "") -> tuple[Grant, Video]:
    """The grant and the video of a signed link for ``purpose`` (403 unless its signature holds and its session
    lives; 404 when the video is gone)."""
    try:
        grant = verify(secret(), purpose, video_id, link["u"], link["k"], link["e"], link["s"], scope)
    except LinkRefused as refusal:
        raise refused(refusal) from None
    if not session_live(get_database(), grant.session_id, grant.user_id):
        raise refused(LinkRefused("its session has ended"))
    try:
        return grant, get_video(get_database(), grant.user_id, grant.video_id)
    except NotFound:
        raise _refuse("video_not_found", "No such video.", Kind.NOT_FOUND) from None


def _cut(video: Video, start_s: float, end_s: float) -> Path:
    """A temporary file holding the clip (the caller sends it, then deletes it); nothing left behind on a refusal."""
    settings = get_settings()
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkstemp(dir=settings.tmp_dir, prefix="clip-", suffix=".mp4")[1])
    try:
        cut_video(get_blob_store(settings), settings.tmp_dir, video, start_s, end_s, target)
    except BadInput as refusal:
        target.unlink(missing_ok=True)
        raise refused(refusal) from None
    except FileNotFoundError:
        target.unlink(missing_ok=True)
        raise refused(source_missing(get_database(), video)) from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


router = APIRouter()  # the signed routes


@router.get("/media/{video_id}")
def media(video_id: str, u: str = "", k: str = "", e: str = "", s: str = ""):
    """The video (its browser-playable copy where it has one), with byte ranges."""
    _, video = _granted(Purpose.MEDIA, video_id, {"u": u, "k": k, "e": e, "s": s})
    store = get_blob_store(get_settings())
    key, kind = (video.proxy_key, "video/mp4") if video.proxy_key else (video.blob_key, mime_type(video.container))
    if not store.exists(key):
        raise refused(source_missing(get_database(), video))
    path = store.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=kind, headers={"Cache-Control": "private, max-age=600"})
    return StreamingResponse(store.open(key), media_type=kind)


@router.get("/captions/{video_id}")
def captions(video_id: str, u: str = "", k: str = "", e: str = "", s: str = "", as_: str = Query("vtt", alias="as")):
    """What was said, as the player's WebVTT track, or a .vtt / .srt file to keep."""
    if as_ not in ("vtt", "vtt-file", "srt"):
        raise _refuse("bad_format", "Transcripts come as vtt or srt.")
    grant, video = _granted(Purpose.CAPTIONS, video_id, {"u": u, "k": k, "e": e, "s": s}, as_)
    with get_database().transaction() as conn:
        found = lines(spoken_words(conn, grant.user_id, video.id))
    headers = {"Cache-Control": "private, max-age=600"}
    if as_ != "vtt":  # a file to keep, named after the video
        name = f"{Path(video.filename).stem}.{as_.removesuffix('-file')}"
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    text, kind = (srt(found), "application/x-subrip") if as_ == "srt" else (webvtt(found), "text/vtt")
    return PlainTextResponse(text, media_type=kind, headers=headers)


@router.get("/still/{video_id}")
def still(video_id: str, u: str = "", k: str = "", e: str = "", s: str = "", scene: str = ""):
    """A scene's picture (``scene``), or the video's poster; bounded in bytes."""
    if scene and (not scene.isdigit() or len(scene) > 18):
        raise _refuse("bad_scene", "The scene must be a number.")
    grant, video = _granted(Purpose.STILL, video_id, {"u": u, "k": k, "e": e, "s": s}, scene)
    key = scene_picture(get_database(), grant.user_id, video.id, int(scene) if scene else None)
    if key is None:
        raise _refuse("not_found", "No such picture.", Kind.NOT_FOUND)
    try:
        with get_blob_store(get_settings()).open(key) as blob:
            data = blob.read(MAX_PICTURE_BYTES + 1)
    except FileNotFoundError:
        raise _refuse("not_found", "No such picture.", Kind.NOT_FOUND) from None
    if len(data) > MAX_PICTURE_BYTES:
        raise _refuse("not_found", "No such picture.", Kind.NOT_FOUND)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=600"})


@router.get("/clip/{video_id}")
def clip(video_id: str, u: str = "", k: str = "", e: str = "", s: str = "", start: str = "0", end: str = "0"):
    """``start``..``end`` of the video as a file of its own, encoded anew; rate limited per user."""
    grant, video = _granted(Purpose.CLIP, video_id, {"u": u, "k": k, "e": e, "s": s}, f"{start}-{end}")
    try:
        start_s, end_s = float(start), float(end)
    except ValueError:
        raise _refuse("bad_range", "The clip's start and end must be numbers of seconds.") from None
    try:
        hit(get_database(), "clip", str(grant.user_id), grant.user_id)
    except BadInput as limited:
        raise refused(limited) from None
    target = _cut(video, start_s, end_s)
    start_s, end_s = clip_range(video, start_s, end_s)
    name = f"{Path(video.filename).stem}-{start_s:.0f}-{end_s:.0f}s.mp4"
    return FileResponse(
        target, media_type="video/mp4", filename=name, background=BackgroundTask(target.unlink, missing_ok=True)
    )


@router.get("/export/{export_id}")
def exported(export_id: str, u: str = "", k: str = "", e: str = "", s: str = ""):
    """A data export's zip: only through a link signed for it, while its session lives and the zip is kept."""
    from heimdex.auth.accounts import audit
    from heimdex.library.export import open_export

    try:
        grant = verify(secret(), Purpose.EXPORT, export_id, u, k, e, s)
    except LinkRefused as refusal:
        raise refused(refusal) from None
    if not session_live(get_database(), grant.session_id, grant.user_id):
        raise refused(LinkRefused("its session has ended"))
    try:
        stream, size = open_export(get_database(), get_blob_store(get_settings()), grant.user_id, grant.video_id)
    except BadInput as failure:
        raise refused(failure) from None
    audit(get_database(), grant.user_id, "export_downloaded")
    return StreamingResponse(
        iter(lambda: stream.read(1 << 20), b""),
        media_type="application/zip",
        headers={
            "Content-Disposition": 'attachment; filename="heimdex-my-data.zip"',
            "Content-Length": str(size),
            "Cache-Control": "private, no-store",
        },
        background=BackgroundTask(stream.close),
    )


def add(app: FastAPI) -> None:
    """Register ``/media/{id}``, ``/captions/{id}`` (WebVTT or a file), ``/still/{id}`` (a scene's picture, or the
    video's poster) and ``/clip/{id}`` on ``app``."""
    app.include_router(router)
