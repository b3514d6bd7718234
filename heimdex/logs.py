"""Logging: plain lines, or one JSON object per line (``HEIMDEX_LOG_FORMAT=json``, python-json-logger).

:func:`event` writes one structured line: a short name (``request``, ``action``, ``stage``)
and its fields (ids, duration, outcome), as JSON keys or as ``key=value`` after the text.
Fields never hold an e-mail or what was searched for; query words only with
``HEIMDEX_LOG_QUERIES=1``. A request's id travels with the work it starts in this thread
(:data:`request_id`).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from heimdex.config import Settings

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class TextFormatter(logging.Formatter):
    """The plain line, then the event's fields as ``key=value``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in record.__dict__.items() if k not in RESERVED_ATTRS and not k.startswith("_")}
        return line + "".join(f" {k}={v}" for k, v in fields.items()) if fields else line


def configure(settings: Settings) -> None:
    """The process's logging, as ``settings`` say (its level and format); replaces any earlier setup."""
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", rename_fields={"levelname": "level"})
        )
    else:
        handler.setFormatter(TextFormatter(TEXT))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)


def event(log: logging.Logger, name: str, level: int = logging.INFO, **fields: object) -> None:
    """One structured line: ``name`` and ``fields`` (``None`` fields left out; the request's id added)."""
    if not log.isEnabledFor(level):
        return
    asked = request_id.get()
    if asked and "request_id" not in fields:
        fields["request_id"] = asked
    log.log(level, name, extra={k: v for k, v in fields.items() if v is not None})
