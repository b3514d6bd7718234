"""HTTP around the Gradio app, one module per concern:

- :mod:`.middleware`: who a request is (its session token), its request id and log line (never a query string,
  which carries signatures, or a public link's token), no framing, the page's first scripts (language, autofill);
- :mod:`.gate`: the gate on Gradio's upload, upload-progress, file and call routes;
- :mod:`.signed`: the video, captions, pictures and clips behind a signed link;
- :mod:`.public`: a public clip's page;
- :mod:`.health`: ``/healthz``, ``/readyz``, ``/metrics``, and the answer while the database is away.
"""

from __future__ import annotations

from fastapi import FastAPI

from heimdex.app.web import health, public, signed
from heimdex.app.web.gate import CLOSED_ROUTES, FileGate
from heimdex.app.web.middleware import SESSION_COOKIE, FirstScript, NoFraming, RequestLog, request_token

__all__ = [
    "CLOSED_ROUTES",
    "SESSION_COOKIE",
    "FileGate",
    "FirstScript",
    "NoFraming",
    "RequestLog",
    "add_routes",
    "request_token",
]


def add_routes(app: FastAPI) -> FastAPI:
    """Register the health routes, the signed media routes and the public clips' ``/p/{token}`` on ``app``."""
    health.add(app)
    public.add(app)
    signed.add(app)
    return app
