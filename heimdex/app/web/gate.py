"""The gate in front of Gradio's upload and file routes, and of every call to an event or API endpoint.

Its upload route takes files only from a signed-in request (session cookie ``heimdex_session`` or
``Authorization: Bearer``), no larger than the upload limit, and records them as that user's
(:mod:`heimdex.app.handoff`); its file route never sends an upload back and sends a picture only to its
owner while its source exists; Gradio's other routes that send files (:data:`CLOSED_ROUTES`) answer
nothing. Every call may name only files the same request's user uploaded: Gradio would otherwise copy
any path a client names (a blob, ``/dev/zero``) into its cache before the function, and so the session
check, ever runs.

Gradio's upload progress stream (``GET /gradio_api/upload_progress?upload_id=``, which Gradio's file box
opens to show how far an upload has come) is answered here too, from the bytes the upload route counts
(:mod:`heimdex.app.upload_progress`): the session first (none: 401), then the id, looked up among that
user's uploads only: a bad id answers "Upload not found" (404) at once; an id this user has no upload
under, another user's included, the same 404 after Gradio's 3-second wait; a user holding too many
streams, 429.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from urllib.parse import parse_qs

from anyio import to_thread
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse

from heimdex.app.handoff import UploadRefused, get_handoff
from heimdex.app.upload_progress import get_upload_progress, valid_upload_id
from heimdex.app.uploads import UploadStopped, receive_upload
from heimdex.app.web.middleware import request_token, session_user_id
from heimdex.config import get_settings
from heimdex.db import DatabaseUnavailable
from heimdex.storage import get_blob_store

log = logging.getLogger("heimdex.app.web")

MAX_CALL_BYTES = 4 << 20  # a call's JSON: arguments, never file contents
UPLOAD_ROUTE = "/gradio_api/upload"
PROGRESS_ROUTE = "/gradio_api/upload_progress"  # Gradio's, answered here from Heimdex's own upload route
FILE_ROUTE = "/gradio_api/file="
# Gradio's other routes that send files or fetch them for a client: Heimdex uses none of them, so none answers
# (``file/`` is ``file=`` under another name; ``proxy=`` fetches URLs; ``stream/`` serves recorded media).
CLOSED_ROUTES = (
    "/gradio_api/file/",
    "/gradio_api/proxy=",
    "/gradio_api/stream/",
    "/gradio_api/run-history/",
)
NOT_FOUND = "Upload not found"  # Gradio's words for an upload it does not track


CALL_ROUTES = re.compile(r"^/gradio_api/(?:call/v2|call|run|api)/([^/]+)/?$")


class FileGate:
    """ASGI middleware over Gradio's upload and file routes, and its calls (see the module docstring).

    ``arity`` (endpoint name or ``fn_index`` → how many values it takes): a call that sends fewer is refused with a
    sentence before Gradio, which would log every value it received (a live token among them) as it fails.
    """

    def __init__(self, app, arity: dict[str | int, int] | None = None):
        self.app, self.arity = app, arity or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/gradio_api/"):
            return await self.app(scope, receive, send)
        if scope["path"].startswith(CLOSED_ROUTES) or (
            scope["path"].startswith(PROGRESS_ROUTE) and scope["path"].rstrip("/") != PROGRESS_ROUTE
        ):
            return await PlainTextResponse("Not found.", status_code=404)(scope, receive, send)
        if scope["path"].rstrip("/") in (UPLOAD_ROUTE, PROGRESS_ROUTE):
            scope = {**scope, "path": scope["path"].rstrip("/")}
        is_call = scope["method"] == "POST" and scope["path"] not in (UPLOAD_ROUTE, PROGRESS_ROUTE)
        if not is_call and not scope["path"].startswith((UPLOAD_ROUTE, FILE_ROUTE)):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            if is_call:
                return await self._call(scope, receive, send, headers)
            user_id = await to_thread.run_sync(session_user_id, request_token(headers))
        except DatabaseUnavailable as away:
            return await PlainTextResponse(away.message, status_code=away.answer.http)(scope, receive, send)
        if scope["path"] == UPLOAD_ROUTE:
            return await self._upload(scope, receive, send, headers, user_id)
        if scope["path"] == PROGRESS_ROUTE:
            return await self._progress(scope, receive, send, user_id)
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
        user_id = await to_thread.run_sync(session_user_id, request_token(headers)) if named else None
        if not all(handoff.may_name(path, user_id) for path in named):
            refused = UploadRefused()
            return await PlainTextResponse(refused.message, status_code=refused.answer.http)(scope, receive, send)
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
        progress = get_upload_progress().start(user_id, _upload_id(scope))
        try:
            paths = await receive_upload(receive, headers, user_id, get_settings(), get_handoff(), progress)
        except UploadStopped as stopped:
            log.info("upload refused: %s", stopped.code)
            return await PlainTextResponse(stopped.message, status_code=stopped.answer.http)(scope, receive, send)
        except Exception as exc:
            log.error("an upload failed", exc_info=exc)
            sentence = "The upload failed on the server; try again."
            return await PlainTextResponse(sentence, status_code=500)(scope, receive, send)
        finally:
            if progress is not None:
                progress.finish()
        return await JSONResponse(paths)(scope, receive, send)

    async def _progress(self, scope, receive, send, user_id):
        """Gradio's upload progress stream, for the request's own user's upload only (see the module docstring)."""
        if user_id is None:
            return await PlainTextResponse("Sign in to follow an upload.", status_code=401)(scope, receive, send)
        upload_id = _upload_id(scope)
        if scope["method"] != "GET" or upload_id is None:
            return await PlainTextResponse(NOT_FOUND, status_code=404)(scope, receive, send)
        progress = get_upload_progress()
        if not progress.open_stream(user_id):
            sentence = "Too many upload progress streams are open; close one and try again."
            return await PlainTextResponse(sentence, status_code=429)(scope, receive, send)
        try:
            upload = await progress.wait_for(user_id, upload_id)
            if upload is None:
                return await PlainTextResponse(NOT_FOUND, status_code=404)(scope, receive, send)
            stream = StreamingResponse(
                progress.events(user_id, upload_id, upload),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )
            await stream(scope, receive, send)
        finally:
            progress.close_stream(user_id)


def _upload_id(scope) -> str | None:
    """The one ``upload_id`` a request's query names, when it is a valid id; else ``None``."""
    named = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True).get("upload_id", [])
    return named[0] if len(named) == 1 and valid_upload_id(named[0]) else None


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
