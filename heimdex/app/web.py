"""HTTP around the Gradio app: a gate on Gradio's file routes, the video behind a signed link, a clip cut on request.

- :class:`FileGate` sits in front of Gradio. Its upload route takes files only from a
  signed-in request (session cookie ``heimdex_session`` or ``Authorization: Bearer``),
  no larger than the upload limit, and records them as that user's
  (:mod:`heimdex.app.handoff`); its file route never sends an upload back and sends a
  picture only to its owner while its source exists; Gradio's other routes that send
  files (:data:`CLOSED_ROUTES`) answer nothing. Every call to an event or an
  API endpoint may name only files the same request's user uploaded: Gradio would
  otherwise copy any path a client names (a blob, ``/dev/zero``) into its cache before
  the function, and so the session check, ever runs.
- ``/media``, ``/captions``, ``/still`` and ``/clip``: a ``<video>`` element cannot send a session, so these trust
  only a link signed for that route (:mod:`heimdex.app.links`) whose session is still live: tampered, expired, made
  for another route or signed out is 403, not the signer's video 404. Local files are served with byte ranges
  (seeking works). Cutting clips is rate limited per user.
- :class:`RequestLog`: a line per request (:mod:`heimdex.telemetry.logs`); never a query string (signatures) or a
  public link's token.
- ``/metrics`` (``HEIMDEX_METRICS=1``, :mod:`heimdex.telemetry.metrics`).
- ``/healthz`` (the process answers) and ``/readyz`` (what it needs answers, :func:`heimdex.ops.doctor.readiness`):
  JSON, 200 or 503, no detail beyond each check's name and state (the log has the rest).
- ``/p/<token>``: a clip its owner made public (:mod:`heimdex.library.public`), a page anyone with the
  link may open, and its ``clip.mp4``; a guessed, altered or turned-off link is the same 404.
"""

from __future__ import annotations

import html
import json
import logging
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote

from anyio import to_thread
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.responses import PlainTextResponse

from heimdex.app.handoff import UploadRefused, get_handoff
from heimdex.app.links import Grant, LinkRefused, Purpose, secret, verify
from heimdex.app.uploads import UploadStopped, receive_upload
from heimdex.config import get_settings
from heimdex.db import DatabaseUnavailable, get_database
from heimdex.errors import BadInput, NotFound
from heimdex.library.clips import clip_range, cut_video
from heimdex.library.media import mime_type
from heimdex.library.public import PublicClip, opened
from heimdex.library.quotas import hit
from heimdex.library.subtitles import lines, spoken_words, srt, webvtt
from heimdex.library.videos import Video, get_video, scene_picture, source_missing
from heimdex.ops.doctor import Check, readiness
from heimdex.storage import get_blob_store
from heimdex.telemetry import metrics
from heimdex.telemetry.logs import event, request_id

log = logging.getLogger(__name__)

SESSION_COOKIE = "heimdex_session"
MAX_CALL_BYTES = 4 << 20  # a call's JSON: arguments, never file contents
UPLOAD_ROUTE = "/gradio_api/upload"
FILE_ROUTE = "/gradio_api/file="
# Gradio's other routes that send files or fetch them for a client: Heimdex uses none of them, so none answers
# (``file/`` is ``file=`` under another name; ``proxy=`` fetches URLs; ``stream/`` serves recorded media).
# ``upload_progress`` tracks Gradio's own upload route, which Heimdex answers instead.
CLOSED_ROUTES = (
    "/gradio_api/file/",
    "/gradio_api/proxy=",
    "/gradio_api/stream/",
    "/gradio_api/run-history/",
    "/gradio_api/upload_progress",
)
MAX_PICTURE_BYTES = 8 << 20  # a keyframe is a JPEG of a few hundred kB
CLIP_REFUSED = {"not_indexed": 409, "clip_failed": 422}  # the HTTP status of a refused clip (else 400)


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


REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MASKED = [
    (re.compile(r"^/p/.*"), "/p/<token>"),  # a public link's token is its credential
    (re.compile(r"^/gradio_api/file[=/].*"), "/gradio_api/file=<path>"),  # a file name is the user's
]


def _shown_path(path: str) -> str:
    for pattern, shown in MASKED:
        path = pattern.sub(shown, path)
    return path[:200]


class RequestLog:
    """ASGI middleware: one line per HTTP request (method, path without its query, status, duration, request
    id), the id taken from ``X-Request-ID`` when it looks like one, else made, and sent back."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        asked = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = asked if REQUEST_ID.match(asked) else uuid.uuid4().hex[:16]
        token = request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            request_id.reset(token)
            event(
                log,
                "request",
                method=scope["method"],
                path=_shown_path(scope["path"]),
                status=status,
                duration_ms=round(1000 * (time.perf_counter() - started), 1),
                request_id=rid,
            )


class NoFraming:
    """ASGI middleware: no page of the app may be framed by another site (``X-Frame-Options: DENY``, and
    ``frame-ancestors 'none'`` where a response has no Content-Security-Policy of its own)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.append((b"x-frame-options", b"DENY"))
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", b"frame-ancestors 'none'"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


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


CALL_ROUTES = re.compile(r"^/gradio_api/(?:call/v2|call|run|api)/([^/]+)/?$")


class FileGate:
    """ASGI middleware over Gradio's upload and file routes (see the module docstring).

    ``arity`` (endpoint name or ``fn_index`` → how many values it takes): a call that sends fewer is refused with a
    sentence before Gradio, which would log every value it received (a live token among them) as it fails.
    """

    def __init__(self, app, arity: dict[str | int, int] | None = None):
        self.app, self.arity = app, arity or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/gradio_api/"):
            return await self.app(scope, receive, send)
        if scope["path"].startswith(CLOSED_ROUTES):
            return await PlainTextResponse("Not found.", status_code=404)(scope, receive, send)
        if scope["path"].rstrip("/") == UPLOAD_ROUTE:
            scope = {**scope, "path": UPLOAD_ROUTE}
        is_call = scope["method"] == "POST" and scope["path"] != UPLOAD_ROUTE
        if not is_call and not scope["path"].startswith((UPLOAD_ROUTE, FILE_ROUTE)):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if is_call:
                return await self._call(scope, receive, send, headers)
            user_id = await to_thread.run_sync(_user_id, request_token(headers))
        except DatabaseUnavailable as away:
            return await PlainTextResponse(away.message, status_code=503)(scope, receive, send)
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
            sent_json = json.loads(body) if body else None
        except ValueError:
            sent_json = None  # not JSON: Gradio answers it
        named = list(_named_files(sent_json)) if sent_json is not None else []
        handoff = get_handoff()
        user_id = await to_thread.run_sync(_user_id, request_token(headers)) if named else None
        if not all(handoff.may_name(path, user_id) for path in named):
            return await PlainTextResponse(UploadRefused().message, status_code=400)(scope, receive, send)
        short = self._short(scope["path"], sent_json)
        if short:
            return await PlainTextResponse(short, status_code=400)(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _short(self, path: str, sent: object) -> str | None:
        """The sentence for a call that sends fewer values than its endpoint takes; ``None`` when it sends enough."""
        if not isinstance(sent, dict) or not isinstance(sent.get("data", []), list):
            return None
        named = CALL_ROUTES.match(path)
        key = named.group(1) if named else sent.get("fn_index") if path == "/gradio_api/queue/join" else None
        wanted = self.arity.get(key) if isinstance(key, (str, int)) else None
        given = len(sent.get("data", []))
        if wanted is None or given >= wanted:
            return None
        return f"This call takes {wanted} values and {given} were sent; send every value, in order."

    async def _upload(self, scope, receive, send, headers, user_id):
        """Heimdex answers the upload route itself (:mod:`heimdex.app.uploads`): bytes counted as they stream."""
        if user_id is None:
            return await PlainTextResponse("Sign in to upload files.", status_code=401)(scope, receive, send)
        if scope["method"] != "POST":
            return await PlainTextResponse("Not found.", status_code=404)(scope, receive, send)
        try:
            paths = await receive_upload(receive, headers, user_id, get_settings(), get_handoff())
        except UploadStopped as stopped:
            log.info("upload refused: %s", stopped.code)
            return await PlainTextResponse(stopped.message, status_code=stopped.status)(scope, receive, send)
        except Exception as exc:
            log.error("an upload failed", exc_info=exc)
            sentence = "The upload failed on the server; try again."
            return await PlainTextResponse(sentence, status_code=500)(scope, receive, send)
        return await JSONResponse(paths)(scope, receive, send)


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


def _granted(purpose: Purpose, video_id: str, link: dict[str, str], scope: str = "") -> tuple[Grant, Video]:
    """The grant and the video of a signed link for ``purpose`` (403 unless its signature holds and its session
    lives; 404 when the video is gone)."""
    from heimdex.auth.sessions import session_live

    try:
        grant = verify(secret(), purpose, video_id, link["u"], link["k"], link["e"], link["s"], scope)
    except LinkRefused as refused:
        raise HTTPException(status_code=403, detail=refused.message) from None
    if not session_live(get_database(), grant.session_id, grant.user_id):
        raise HTTPException(status_code=403, detail=LinkRefused("its session has ended").message)
    try:
        return grant, get_video(get_database(), grant.user_id, grant.video_id)
    except NotFound:
        raise HTTPException(status_code=404, detail="No such video.") from None


PUBLIC_HEADERS = {
    "Cache-Control": "no-store",  # a link turned off shows nothing, even from a cache
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",  # the link never leaks to another site
    "X-Content-Type-Options": "nosniff",
}
PAGE_POLICY = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
PUBLIC_TEXT = {
    "en": {
        "shared": "Shared with Heimdex. Only this clip can be watched here; its owner can turn the link off at any time.",
        "gone": "This link is off, or it never existed.",
    },
    "ko": {
        "shared": "Heimdex로 공유된 클립입니다. 여기서는 이 클립만 볼 수 있으며, 소유자가 언제든 링크를 끌 수 있습니다.",
        "gone": "이 링크는 꺼졌거나 존재하지 않습니다.",
    },
}
PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{title}</title><style>
body{{margin:0;font:16px/1.5 system-ui,sans-serif;background:#111318;color:#e8e8ee}}
main{{max-width:960px;margin:0 auto;padding:16px}}video{{width:100%;max-height:75vh;background:#000;border-radius:8px}}
h1{{font-size:1.3rem;margin:.6em 0 .2em}}p{{margin:.2em 0;color:#a8a8b8}}
</style></head><body><main>{body}</main></body></html>"""


def _language(headers: dict[str, str] | None) -> str:
    accepted = (headers or {}).get("accept-language", "")
    return "ko" if accepted.lower().lstrip().startswith("ko") else "en"


def _clock(s: float) -> str:
    return f"{int(s // 60)}:{int(s % 60):02d}"


def public_page(clip: PublicClip | None, token: str, lang: str) -> HTMLResponse:
    """The page of a public clip (its video, title and times), or the one sentence every unknown link gets."""
    text = PUBLIC_TEXT[lang]
    headers = {**PUBLIC_HEADERS, "Content-Security-Policy": PAGE_POLICY}
    if clip is None:
        page = PAGE.format(lang=lang, title="Heimdex", body=f"<h1>{text['gone']}</h1>")
        return HTMLResponse(page, status_code=404, headers=headers)
    title = html.escape(clip.title)
    body = (
        f"<video src='/p/{token}/clip.mp4' controls playsinline preload='metadata'></video>"
        f"<h1>{title}</h1><p>{_clock(clip.start_s)}–{_clock(clip.end_s)}</p><p>{text['shared']}</p>"
    )
    return HTMLResponse(PAGE.format(lang=lang, title=f"{title} · Heimdex", body=body), headers=headers)


READY_FOR_S = 2.0  # probes within this long of the last share its answer: a flood of /readyz costs one check
_ready_lock = threading.Lock()
_ready: tuple[float, list[Check]] = (0.0, [])


def _readiness() -> list[Check]:
    """The readiness checks, run at most once every :data:`READY_FOR_S` (callers meanwhile share the answer)."""
    global _ready
    with _ready_lock:
        checked_at, checks = _ready
        if time.monotonic() - checked_at >= READY_FOR_S:
            checks = readiness(get_settings())
            for check in checks:
                if not check.ok:
                    log.warning("not ready: %s: %s", check.name, check.detail)
            _ready = (time.monotonic(), checks)
        return checks


def add_routes(app: FastAPI) -> FastAPI:
    """Register ``/media/{id}``, ``/captions/{id}`` (WebVTT), ``/still/{id}`` (a scene's picture, or the video's poster),
    ``/clip/{id}`` and the public clips' ``/p/{token}`` on ``app``."""

    @app.exception_handler(DatabaseUnavailable)
    async def database_away(request: Request, away: DatabaseUnavailable):
        return PlainTextResponse(
            away.message, status_code=503, headers={"Cache-Control": "no-store", "Retry-After": "5"}
        )

    @app.get("/healthz")
    def healthz():
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @app.get("/readyz")
    async def readyz():
        checks = await to_thread.run_sync(_readiness)
        ready = all(check.ok for check in checks)
        return JSONResponse(
            {
                "status": "ready" if ready else "not ready",
                "checks": {c.name: "ok" if c.ok else "failing" for c in checks},
            },
            status_code=200 if ready else 503,
            headers={"Cache-Control": "no-store"},
        )

    if get_settings().metrics:

        @app.get("/metrics")
        def prometheus():
            body, kind = metrics.exposition()
            return Response(body, media_type=kind, headers={"Cache-Control": "no-store"})

    @app.get("/p/{token}")
    def public_clip_page(token: str, request: Request):
        return public_page(opened(get_database(), secret(), token), token, _language(dict(request.headers)))

    @app.get("/p/{token}/clip.mp4")
    def public_clip(token: str):
        clip = opened(get_database(), secret(), token)
        store = get_blob_store(get_settings())
        if clip is None or not store.exists(clip.blob_key):
            return PlainTextResponse(PUBLIC_TEXT["en"]["gone"], status_code=404, headers=PUBLIC_HEADERS)
        path = store.local_path(clip.blob_key)
        if path is not None:
            return FileResponse(path, media_type="video/mp4", headers=PUBLIC_HEADERS)
        return StreamingResponse(store.open(clip.blob_key), media_type="video/mp4", headers=PUBLIC_HEADERS)

    @app.get("/media/{video_id}")
    def media(video_id: str, u: str = "", k: str = "", e: str = "", s: str = ""):
        _, video = _granted(Purpose.MEDIA, video_id, {"u": u, "k": k, "e": e, "s": s})
        store = get_blob_store(get_settings())
        key, kind = (video.proxy_key, "video/mp4") if video.proxy_key else (video.blob_key, mime_type(video.container))
        if not store.exists(key):
            raise HTTPException(status_code=410, detail=source_missing(get_database(), video).message)
        path = store.local_path(key)
        if path is not None:
            return FileResponse(path, media_type=kind, headers={"Cache-Control": "private, max-age=600"})
        return StreamingResponse(store.open(key), media_type=kind)

    @app.get("/captions/{video_id}")
    def captions(
        video_id: str, u: str = "", k: str = "", e: str = "", s: str = "", as_: str = Query("vtt", alias="as")
    ):
        if as_ not in ("vtt", "vtt-file", "srt"):
            raise HTTPException(status_code=400, detail="Transcripts come as vtt or srt.")
        grant, video = _granted(Purpose.CAPTIONS, video_id, {"u": u, "k": k, "e": e, "s": s}, as_)
        with get_database().transaction() as conn:
            found = lines(spoken_words(conn, grant.user_id, video.id))
        headers = {"Cache-Control": "private, max-age=600"}
        if as_ != "vtt":  # a file to keep, named after the video
            name = f"{Path(video.filename).stem}.{as_.removesuffix('-file')}"
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        text, kind = (srt(found), "application/x-subrip") if as_ == "srt" else (webvtt(found), "text/vtt")
        return PlainTextResponse(text, media_type=kind, headers=headers)

    @app.get("/still/{video_id}")
    def still(video_id: str, u: str = "", k: str = "", e: str = "", s: str = "", scene: str = ""):
        if scene and (not scene.isdigit() or len(scene) > 18):
            raise HTTPException(status_code=400, detail="The scene must be a number.")
        grant, video = _granted(Purpose.STILL, video_id, {"u": u, "k": k, "e": e, "s": s}, scene)
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
    def clip(video_id: str, u: str = "", k: str = "", e: str = "", s: str = "", start: str = "0", end: str = "0"):
        grant, video = _granted(Purpose.CLIP, video_id, {"u": u, "k": k, "e": e, "s": s}, f"{start}-{end}")
        try:
            start_s, end_s = float(start), float(end)
        except ValueError:
            raise HTTPException(
                status_code=400, detail="The clip's start and end must be numbers of seconds."
            ) from None
        try:
            hit(get_database(), "clip", str(grant.user_id), grant.user_id)
        except BadInput as limited:
            raise HTTPException(status_code=429, detail=limited.message) from None
        settings = get_settings()
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkstemp(dir=settings.tmp_dir, prefix="clip-", suffix=".mp4")[1])
        try:
            cut_video(get_blob_store(settings), settings.tmp_dir, video, start_s, end_s, target)
        except BadInput as refused:
            target.unlink(missing_ok=True)
            raise HTTPException(status_code=CLIP_REFUSED.get(refused.code, 400), detail=refused.message) from None
        except FileNotFoundError:
            target.unlink(missing_ok=True)
            raise HTTPException(status_code=410, detail=source_missing(get_database(), video).message) from None
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        start_s, end_s = clip_range(video, start_s, end_s)
        name = f"{Path(video.filename).stem}-{start_s:.0f}-{end_s:.0f}s.mp4"
        return FileResponse(
            target, media_type="video/mp4", filename=name, background=BackgroundTask(target.unlink, missing_ok=True)
        )

    return app
