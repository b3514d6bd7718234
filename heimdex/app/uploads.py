"""Gradio's upload route, answered by Heimdex (:class:`heimdex.app.web.FileGate` hands it here).

The body is read as it streams and its bytes are counted, whatever ``Content-Length`` says
(a chunked body has none). A request stops, with a sentence, as soon as it passes the upload
limit, the user's room or everyone's room for uploads not added yet, or the free space the
data folder's disk keeps in reserve. Files are written into a folder of the request's own,
removed whole on any failure (a limit, a full disk, a client gone, a broken body). The paths
answered, in Gradio's shape (a JSON list), are recorded as the user's (:mod:`heimdex.app.handoff`).
Each file part's name (as the client sent it) and bytes, as the parser reads them, feed the upload's
progress record when it has one (:mod:`heimdex.app.upload_progress`); the route ends that record.
"""

from __future__ import annotations

import shutil
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from anyio import to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from heimdex.app.handoff import Handoff
from heimdex.app.upload_progress import Upload
from heimdex.config import Settings
from heimdex.errors import BadInput, Kind
from heimdex.library.media import format_bytes

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MULTIPART_SLACK = 1 << 20  # form fields and boundaries around the files
FILES_PER_REQUEST = 100
SPACE_CHECKED_EVERY = 8 << 20  # bytes received between two looks at the disk's free space


class UploadStopped(BadInput):
    """An upload refused or stopped."""

    kind = Kind.INVALID


def _too_large(limit: int) -> UploadStopped:
    return UploadStopped(
        "too_large", f"The files are larger than the upload limit of {format_bytes(limit)}.", Kind.TOO_LARGE
    )


def _no_room(settings: Settings, handoff: Handoff, user_id: uuid.UUID) -> tuple[int, UploadStopped]:
    """How many bytes this request may send, and what to say when it sends more."""
    limit = settings.max_upload_bytes + MULTIPART_SLACK
    mine = settings.pending_user_bytes - handoff.pending_bytes(user_id)
    everyone = settings.pending_total_bytes - handoff.pending_bytes()
    if mine < min(limit, everyone):
        return max(0, mine), UploadStopped(
            "too_many_pending",
            "Your earlier uploads are still waiting to be added; add or cancel them, then upload again.",
            Kind.RATE_LIMITED,
        )
    if everyone < limit:
        return max(0, everyone), UploadStopped(
            "busy", "Too many uploads are waiting right now; try again soon.", Kind.UNAVAILABLE
        )
    return limit, _too_large(settings.max_upload_bytes)


def _no_space() -> UploadStopped:
    return UploadStopped("no_space", "The server has no room for this file right now; try again later.", Kind.NO_ROOM)


def safe_name(name: str) -> str:
    """A file name a client sent, as a plain name in one folder (no path, no control characters, 200 at most)."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return name[-200:] or "upload"


class _Parts:
    """The multipart callbacks: each file part is written to its own folder under ``folder``, its bytes counted
    into ``progress`` when the upload has a progress record."""

    def __init__(self, folder: Path, progress: Upload | None = None):
        self.folder, self.progress = folder, progress
        self.paths: list[Path] = []
        self.writes: list[tuple[IO[bytes], bytes]] = []
        self._field, self._value = b"", b""
        self._headers: dict[bytes, bytes] = {}
        self._file: IO[bytes] | None = None
        self._open: list[IO[bytes]] = []

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self._file = {}, None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if options.get(b"name") != b"files" or b"filename" not in options:
            return  # not a file: ignored
        if len(self.paths) >= FILES_PER_REQUEST:
            raise UploadStopped("too_many_files", f"Upload at most {FILES_PER_REQUEST} files at once.", Kind.TOO_LARGE)
        sent_name = options[b"filename"].decode("utf-8", "replace")
        path = self.folder / str(len(self.paths)) / safe_name(sent_name)
        path.parent.mkdir()
        self._file = path.open("wb")
        self._open.append(self._file)
        self.paths.append(path)
        if self.progress is not None:
            self.progress.file(sent_name)  # the frontend matches its progress by the name it sent

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self.writes.append((self._file, bytes(data[start:end])))
            if self.progress is not None:
                self.progress.add(end - start)

    def _end(self) -> None:
        if self._file is not None:
            self.writes.append((self._file, b""))  # closed after its last write

    def flush(self) -> None:
        """Write what the parser gave so far (in a worker thread: the disk may be slow)."""
        writes, self.writes = self.writes, []
        for file, data in writes:
            if data:
                file.write(data)
            else:
                file.close()

    def close(self) -> None:
        for file in self._open:
            file.close()


async def receive_upload(
    receive: Callable[[], Awaitable[dict]],
    headers: dict[str, str],
    user_id: uuid.UUID,
    settings: Settings,
    handoff: Handoff,
    progress: Upload | None = None,
) -> list[str]:
    """The paths of the files a multipart upload request carries, written as they arrive and recorded as the
    user's; :class:`UploadStopped` (nothing left behind) when it breaks a limit or cannot be read. Each file's
    bytes are counted into ``progress`` as they are parsed (the caller ends it)."""
    kind, options = parse_options_header(headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise UploadStopped("not_multipart", "Send the files as a multipart form.")
    allowed, stopped = _no_room(settings, handoff, user_id)
    stated = headers.get("content-length")
    if stated is not None and (not stated.isdigit() or int(stated) > allowed):
        raise stopped
    handoff.root.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(handoff.root).free < settings.free_space_reserve_bytes:
        raise _no_space()
    folder = handoff.root / f"upload-{uuid.uuid4().hex}"
    folder.mkdir()
    parts = _Parts(folder, progress)
    parser = MultipartParser(options[b"boundary"], parts.callbacks())
    received, checked = 0, 0
    try:
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise UploadStopped("upload_stopped", "The upload stopped before its end; send it again.")
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            received += len(chunk)
            if received > allowed:
                raise stopped
            if received - checked >= SPACE_CHECKED_EVERY:
                checked = received
                if shutil.disk_usage(folder).free < settings.free_space_reserve_bytes:
                    raise _no_space()
            parser.write(chunk)
            await to_thread.run_sync(parts.flush)
        parser.finalize()
        await to_thread.run_sync(parts.flush)
    except MultipartParseError:
        _discard(parts, folder)
        raise UploadStopped("bad_upload", "The upload could not be read; send it again.") from None
    except OSError as exc:
        _discard(parts, folder)
        if exc.errno in (28, 122):  # ENOSPC, EDQUOT
            raise _no_space() from None
        raise
    except BaseException:
        _discard(parts, folder)
        raise
    parts.close()
    if not parts.paths:
        _discard(parts, folder)
        raise UploadStopped("no_file", "Choose a file to upload.")
    paths = [str(path) for path in parts.paths]
    handoff.record_upload(user_id, paths)
    return paths


def _discard(parts: _Parts, folder: Path) -> None:
    parts.close()
    shutil.rmtree(folder, ignore_errors=True)
