"""HTTP around the Gradio app: a gate on Gradio's file routes, the video behind a signed link, a clip cut on request.

- :class:`FileGate` sits in front of Gradio. Its upload route takes files only from a
  signed-in request (session cookie ``heimdex_session`` or ``Authorization: Bearer``),
  no larger than the upload limit, and records them as that user's
  (:mod:`heimdex.handoff`); its file route never sends an upload back and sends a
  picture only to its owner while its source exists. Every call to an event or an
  API endpoint may name only files the same request's user uploaded: Gradio would
  otherwise copy any path a client names (a blob, ``/dev/zero``) into its cache before
  the function, and so the session check, ever runs.
- ``/media``, ``/captions``, ``/still`` and ``/clip``: a ``<video>`` element cannot send a session, so these trust
  only the link's signature (:mod:`heimdex.links`): tampered or expired is 403, not the
  signer's video 404. Local files are served with byte ranges (seeking works).
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

from anyio import to_thread
from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse

from heimdex.clips import ClipFailed, cut
from heimdex.config import get_settings
from heimdex.db import get_database
from heimdex.errors import NotFound
from heimdex.handoff import UploadRefused, get_handoff
from heimdex.links import Grant, LinkRefused, secret, verify
from heimdex.media import mime_type
from heimdex.storage import get_blob_store, local_copy
from heimdex.subtitles import lines, spoken_words, srt, webvtt
from heimdex.videos import Video, get_video, scene_picture

log = logging.getLogger(__name__)

SESSION_COOKIE = "heimdex_session"
MAX_CALL_BYTES = 4 << 20  # a call's JSON: arguments, never file contents
UPLOAD_ROUTE = "/gradio_api/upload"
FILE_ROUTE = "/gradio_api/file="
MULTIPART_SLACK = 1 << 20  # form fields and boundaries around the file
MAX_PICTURE_BYTES = 8 << 20  # a keyframe is a JPEG of a few hundred kB


def request_token(headers: dict[str, str]) -> str | None:
    """The session token a request carries: ``Authorization: Bearer`` first, else the session cookie."""
    bearer = headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        return bearer[7:].strip() or None
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header carries no session
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def _user_id(token: str | None) -> uuid.UUID | None:
    from heimdex.auth.sessions import Unauthorized, session_user

    if not token:
        return None
    try:
        return session_user(get_database(), token).id
    except Unauthorized:
        return None


class FirstScript:
    """ASGI middleware: ``script`` goes first into the ``<head>`` of the app's page, so it runs before Gradio's own
    code (Gradio's ``head`` option is added later, by that code)."""

    def __init__(self, app, script: str):
        self.app, self.script = app, script.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] != "/":
            return await self.app(scope, receive, send)
        start: dict = {}
        body = b""

        async def capture(message):
            nonlocal body
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body += message.get("body", b"")
            if message.get("more_body"):
                return
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            if any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                body = body.replace(b"<head>", b"<head>" + self.script, 1)
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


class FileGate:
    """ASGI middleware over Gradio's upload and file routes (see the module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/gradio_api/"):
            return await self.app(scope, receive, send)
        is_call = scope["method"] == "POST" and scope["path"] != UPLOAD_ROUTE
        if not is_call and not scope["path"].startswith((UPLOAD_ROUTE, FILE_ROUTE)):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if is_call:
            return await self._call(scope, receive, send, headers)
        user_id = await to_thread.run_sync(_user_id, request_token(headers))
        if scope["path"] == UPLOAD_ROUTE:
            return await self._upload(scope, receive, send, headers, user_id)
        if scope["path"].startswith(FILE_ROUTE):
            path = scope["path"][len(FILE_ROUTE) :]
            store = get_blob_store(get_settings())
            allowed = await to_thread.run_sync(get_handoff().may_serve, user_id, path, store.exists)
            if not allowed:
                return await PlainTextResponse("Not found.", status_code=404)(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _call(self, scope, receive, send, headers):
        """Pass a call on only if every file it names is this request's user's: an upload, or a picture it was shown.

        Most calls name none (a search): then no session is looked up here."""
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_CALL_BYTES:
                return await PlainTextResponse("The request is too large.", status_code=413)(scope, receive, send)
        try:
            named = list(_named_files(json.loads(body))) if body else []
        except ValueError:
            named = []  # not JSON: Gradio answers it
        handoff = get_handoff()
        user_id = await to_thread.run_sync(_user_id, request_token(headers)) if named else None
        if not all(handoff.may_name(path, user_id) for path in named):
            return await PlainTextResponse(UploadRefused().message, status_code=400)(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _upload(self, scope, receive, send, headers, user_id):
        if user_id is None:
            return await PlainTextResponse("Sign in to upload files.", status_code=401)(scope, receive, send)
        limit = get_settings().max_upload_bytes + MULTIPART_SLACK
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            length = limit + 1
        if length > limit:
            return await PlainTextResponse("The file is larger than the upload limit.", status_code=413)(
                scope, receive, send
            )
        answer = {"status": 0, "body": b""}

        async def capture(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body" and answer["status"] == 200:
                answer["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    try:
                        paths = json.loads(answer["body"])
                    except ValueError:
                        paths = []
                    get_handoff().record_upload(user_id, [p for p in paths if isinstance(p, str)])
            await send(message)

        await self.app(scope, receive, capture)


def _named_files(value) -> Iterator[object]:
    """The path of every file object (Gradio's FileData shape) anywhere in a call's JSON."""
    if isinstance(value, dict):
        if "path" in value and isinstance(value.get("meta"), dict) and value["meta"].get("_type") == "gradio.FileData":
            yield value["path"]
        for item in value.values():
            yield from _named_files(item)
    elif isinstance(value, list):
        for item in value:
            yield from _named_files(item)


def _granted(video_id: str, u: str, e: str, s: str) -> tuple[Grant, Video]:
    try:
        grant = verify(secret(), video_id, u, e, s)
    except LinkRefused as refused:
        raise HTTPException(status_code=403, detail=refused.message) from None
    try:
        return grant, get_video(get_database(), grant.user_id, grant.video_id)
    except NotFound:
        raise HTTPException(status_code=404, detail="No such video.") from None


def add_routes(app: FastAPI) -> FastAPI:
    """Register ``/media/{id}``, ``/captions/{id}`` (WebVTT), ``/still/{id}`` (a scene's picture, or the video's poster) and
    ``/clip/{id}`` on ``app``."""

    @app.get("/media/{video_id}")
    def media(video_id: str, u: str = "", e: str = "", s: str = ""):
        _, video = _granted(video_id, u, e, s)
        store = get_blob_store(get_settings())
        key, kind = (video.proxy_key, "video/mp4") if video.proxy_key else (video.blob_key, mime_type(video.container))
        path = store.local_path(key)
        if path is not None:
            return FileResponse(path, media_type=kind, headers={"Cache-Control": "private, max-age=600"})
        return StreamingResponse(store.open(key), media_type=kind)

    @app.get("/captions/{video_id}")
    def captions(video_id: str, u: str = "", e: str = "", s: str = "", as_: str = Query("vtt", alias="as")):
        grant, video = _granted(video_id, u, e, s)
        if as_ not in ("vtt", "vtt-file", "srt"):
            raise HTTPException(status_code=400, detail="Transcripts come as vtt or srt.")
        with get_database().transaction() as conn:
            found = lines(spoken_words(conn, grant.user_id, video.id))
        headers = {"Cache-Control": "private, max-age=600"}
        if as_ != "vtt":  # a file to keep, named after the video
            name = f"{Path(video.filename).stem}.{as_.removesuffix('-file')}"
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        text, kind = (srt(found), "application/x-subrip") if as_ == "srt" else (webvtt(found), "text/vtt")
        return PlainTextResponse(text, media_type=kind, headers=headers)

    @app.get("/still/{video_id}")
    def still(video_id: str, u: str = "", e: str = "", s: str = "", scene: str = ""):
        grant, video = _granted(video_id, u, e, s)
        if scene and (not scene.isdigit() or len(scene) > 18):
            raise HTTPException(status_code=400, detail="The scene must be a number.")
        key = scene_picture(get_database(), grant.user_id, video.id, int(scene) if scene else None)
        if key is None:
            raise HTTPException(status_code=404, detail="No such picture.")
        try:
            with get_blob_store(get_settings()).open(key) as blob:
                data = blob.read(MAX_PICTURE_BYTES + 1)
        except FileNotFoundError:
            raise HTTPException(status_code=404, detail="No such picture.") from None
        if len(data) > MAX_PICTURE_BYTES:
            raise HTTPException(status_code=404, detail="No such picture.")
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=600"})

    @app.get("/clip/{video_id}")
    def clip(video_id: str, u: str = "", e: str = "", s: str = "", start: str = "0", end: str = "0"):
        _, video = _granted(video_id, u, e, s)
        try:
            start_s, end_s = float(start), float(end)
        except ValueError:
            raise HTTPException(
                status_code=400, detail="The clip's start and end must be numbers of seconds."
            ) from None
        if not (math.isfinite(start_s) and math.isfinite(end_s)) or not 0 <= start_s < end_s:
            raise HTTPException(status_code=400, detail="The clip needs a start before its end.")
        if start_s >= video.duration_s:
            raise HTTPException(status_code=400, detail=f"The video is only {video.duration_s:.1f} s long.")
        end_s = min(end_s, video.duration_s)
        if not video.proxy_key and mime_type(video.container) != "video/mp4":
            raise HTTPException(status_code=409, detail="Clips of this video can be downloaded once it is indexed.")
        settings = get_settings()
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkstemp(dir=settings.tmp_dir, prefix="clip-", suffix=".mp4")[1])
        try:
            with local_copy(get_blob_store(settings), video.proxy_key or video.blob_key, settings.tmp_dir) as source:
                cut(source, start_s, end_s, target)
        except ClipFailed as failed:
            target.unlink(missing_ok=True)
            raise HTTPException(status_code=422, detail=failed.message) from None
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        name = f"{Path(video.filename).stem}-{start_s:.0f}-{end_s:.0f}s.mp4"
        return FileResponse(
            target, media_type="video/mp4", filename=name, background=BackgroundTask(target.unlink, missing_ok=True)
        )

    return app
