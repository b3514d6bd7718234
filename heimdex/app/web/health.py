"""Health: ``/healthz`` (the process answers), ``/readyz`` (what it needs answers, :func:`heimdex.ops.doctor.readiness`:
JSON, 200 or 503, no detail beyond each check's name and state; the log has the rest) and ``/metrics``
(``HEIMDEX_METRICS=1``, :mod:`heimdex.telemetry.metrics`); and the answer of any route while the database is away."""

from __future__ import annotations

import logging
import threading
import time

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.responses import PlainTextResponse

from heimdex.config import get_settings
from heimdex.db import DatabaseUnavailable
from heimdex.ops.doctor import Check, readiness
from heimdex.telemetry import metrics

log = logging.getLogger("heimdex.app.web")

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


def add(app: FastAPI) -> None:
    """Register the health routes, and the database-away answer, on ``app``."""

    @app.exception_handler(DatabaseUnavailable)
    async def database_away(request: Request, away: DatabaseUnavailable):
        return PlainTextResponse(
            away.message, status_code=away.answer.http, headers={"Cache-Control": "no-store", "Retry-After": "5"}
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
