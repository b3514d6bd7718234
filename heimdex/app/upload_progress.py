"""How far each upload has come, for Gradio's progress stream (``GET /gradio_api/upload_progress?upload_id=``).

Gradio's file box names each upload with a random id, opens this stream, then sends the files to the upload
route with the same id; :mod:`heimdex.app.uploads` feeds the record from the file bytes it reads, and
:class:`heimdex.app.web.FileGate` answers the stream. The stream speaks Gradio's messages (``data:`` lines of
JSON): ``{"msg": "update", "orig_name": <the file's name as the client sent it>, "chunk_size": <its bytes
received since the last update>}``, then ``{"msg": "done"}`` once the upload has ended, stored or refused.
The frontend adds each ``chunk_size`` to the file of that name and shows ``bytes / size`` of each.

Nothing in it is the client's word but the id and the names it sent itself:

- an upload is recorded under its user and its id together, so one user's id names nothing for another
  (the same "not found", after the same wait, as an id nobody uses);
- an id is a short opaque string (:data:`UPLOAD_ID`); any other is never recorded;
- at most :data:`PER_USER` uploads of one user and :data:`TRACKED_MAX` in all are recorded: past that the
  oldest ended one makes room, and when none has ended the new upload goes on unrecorded;
- a record is dropped :data:`DONE_KEPT_S` after its upload ended, once its ``done`` was sent, or when its
  upload received nothing for :data:`STALLED_S`; a stream ends with its upload, with its record, when the
  client goes, or after :data:`STREAM_MAX_S`; one user holds at most :data:`STREAMS_PER_USER` streams;
- a record holds names and byte counts only: no path, nothing of another request.

Records live in the app process and are touched from its event loop (the multipart parser's callbacks and
the streams); the lock guards the tables all the same.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from functools import cache
from typing import TypeGuard

import anyio

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # Gradio's: 13 or fewer random base-36 letters
PER_USER = 4  # uploads recorded for one user at once
TRACKED_MAX = 256  # uploads recorded at once, of everyone
STREAMS_PER_USER = 8  # progress streams one user holds open at once
NAME_CHARS = 255  # of a file's name, kept (a longer name's progress is not matched by the frontend: harmless)
FOUND_WITHIN_S = 3.0  # how long a stream waits for its upload to begin (Gradio's: the page opens it first)
DONE_KEPT_S = 10.0  # a record after its upload ended, for a stream that comes late
STALLED_S = 120.0  # an upload that received nothing this long is no longer followed
STREAM_MAX_S = 3600.0  # the longest one stream lasts
HEARTBEAT_S = 15.0  # an SSE comment when nothing else was sent this long
POLL_S = 0.1  # how often a stream looks at its record


def valid_upload_id(upload_id: object) -> TypeGuard[str]:
    """Whether ``upload_id`` is an id this module ever records (see :data:`UPLOAD_ID`)."""
    return isinstance(upload_id, str) and UPLOAD_ID.fullmatch(upload_id) is not None


class _File:
    __slots__ = ("name", "received", "reported")

    def __init__(self, name: str):
        self.name, self.received, self.reported = name, 0, 0


class Upload:
    """One upload's record, fed by the upload route: its files' names and the bytes of each received so far."""

    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self.files: list[_File] = []
        self.touched = clock()
        self.ended_at: float | None = None

    def file(self, name: str) -> None:
        """A file part began; ``name`` as the client sent it."""
        self.files.append(_File(name[:NAME_CHARS]))
        self.touched = self._clock()

    def add(self, count: int) -> None:
        """``count`` more bytes of the current file were received."""
        if self.files and count > 0:
            self.files[-1].received += count
            self.touched = self._clock()

    def finish(self) -> None:
        """The upload ended (stored, refused or broken off): its stream sends what is left, then ``done``."""
        if self.ended_at is None:
            self.ended_at = self._clock()

    def take_updates(self) -> list[dict]:
        """Gradio's update messages for the bytes received since the last call."""
        found = []
        for part in self.files:
            if part.received > part.reported:
                found.append({"msg": "update", "orig_name": part.name, "chunk_size": part.received - part.reported})
                part.reported = part.received
        return found


class UploadProgress:
    """The records of the uploads in flight (and just ended), per user and id; see the module docstring."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._uploads: dict[tuple[uuid.UUID, str], Upload] = {}
        self._streams: dict[uuid.UUID, int] = {}

    def start(self, user_id: uuid.UUID, upload_id: str | None) -> Upload | None:
        """A new record for ``user_id``'s upload ``upload_id``; ``None`` (the upload goes on unrecorded) for no id
        or a bad one, an id of this user's upload still in flight, or no room."""
        if not valid_upload_id(upload_id):
            return None
        key = (user_id, upload_id)
        with self._lock:
            self._expire()
            earlier = self._uploads.get(key)
            if earlier is not None and earlier.ended_at is None:
                return None
            self._uploads.pop(key, None)
            if not self._room([k for k in self._uploads if k[0] == user_id], PER_USER):
                return None
            if not self._room(list(self._uploads), TRACKED_MAX):
                return None
            upload = self._uploads[key] = Upload(self._clock)
            return upload

    def find(self, user_id: uuid.UUID, upload_id: str) -> Upload | None:
        """``user_id``'s record for ``upload_id``, if it has one (never another user's)."""
        with self._lock:
            self._expire()
            return self._uploads.get((user_id, upload_id))

    def forget(self, user_id: uuid.UUID, upload_id: str, upload: Upload) -> None:
        with self._lock:
            if self._uploads.get((user_id, upload_id)) is upload:
                del self._uploads[(user_id, upload_id)]

    def open_stream(self, user_id: uuid.UUID) -> bool:
        """Count one more stream of ``user_id``'s; ``False`` (nothing counted) when it already holds its most."""
        with self._lock:
            held = self._streams.get(user_id, 0)
            if held >= STREAMS_PER_USER:
                return False
            self._streams[user_id] = held + 1
            return True

    def close_stream(self, user_id: uuid.UUID) -> None:
        with self._lock:
            held = self._streams.pop(user_id, 0) - 1
            if held > 0:
                self._streams[user_id] = held

    async def wait_for(self, user_id: uuid.UUID, upload_id: str) -> Upload | None:
        """``user_id``'s record for ``upload_id`` once its upload began, waiting up to :data:`FOUND_WITHIN_S`;
        ``None`` after that wait for an id it has no record of (its own unknown or another user's alike)."""
        deadline = time.monotonic() + FOUND_WITHIN_S
        while True:
            upload = self.find(user_id, upload_id) if valid_upload_id(upload_id) else None
            if upload is not None or time.monotonic() >= deadline:
                return upload
            await anyio.sleep(POLL_S)

    async def events(self, user_id: uuid.UUID, upload_id: str, upload: Upload) -> AsyncIterator[str]:
        """The stream's text: updates as bytes arrive, ``done`` when the upload ended (then the record goes); it
        stops without ``done`` when the record went (expired, replaced) or after :data:`STREAM_MAX_S`."""
        started = beat = time.monotonic()
        while True:
            with self._lock:
                self._expire()
                if self._uploads.get((user_id, upload_id)) is not upload:
                    return
                ended = upload.ended_at is not None
                messages = upload.take_updates()
            now = time.monotonic()
            if ended:
                messages.append({"msg": "done"})
            if messages:
                yield "".join(f"data: {json.dumps(message)}\n\n" for message in messages)
                beat = now
            elif now - beat >= HEARTBEAT_S:
                yield ": heartbeat\n\n"  # an SSE comment: Gradio's frontend ignores it (a message would reset the bar)
                beat = now
            if ended:
                self.forget(user_id, upload_id, upload)
                return
            if now - started >= STREAM_MAX_S:
                return
            await anyio.sleep(POLL_S)

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._uploads)

    def _room(self, keys: list[tuple[uuid.UUID, str]], most: int) -> bool:
        """Make room for one more among ``keys`` (at most ``most``) by dropping the oldest ended; whether there is."""
        if len(keys) < most:
            return True
        ended = [k for k in keys if self._uploads[k].ended_at is not None]
        if not ended:
            return False
        del self._uploads[min(ended, key=lambda k: self._uploads[k].ended_at or 0.0)]
        return True

    def _expire(self) -> None:
        now = self._clock()
        gone = [
            key
            for key, upload in self._uploads.items()
            if (upload.ended_at is not None and now - upload.ended_at >= DONE_KEPT_S)
            or (upload.ended_at is None and now - upload.touched >= STALLED_S)
        ]
        for key in gone:
            del self._uploads[key]


@cache
def get_upload_progress() -> UploadProgress:
    """The process-wide :class:`UploadProgress`."""
    return UploadProgress()
