"""Who a request is, and what it leaves behind: its session token, its request id and log line, and headers every
page gets (no framing; the chosen language's script first in the page)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from http.cookies import SimpleCookie

from heimdex.auth.sessions import Unauthorized, session_user
from heimdex.db import get_database
from heimdex.telemetry.logs import event, request_id

log = logging.getLogger("heimdex.app.web")

SESSION_COOKIE = "heimdex_session"


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


def session_user_id(token: str | None) -> uuid.UUID | None:
    """The signed-in user a token belongs to; ``None`` for no token or an ended session."""
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
