"""Files that cross the web boundary, each owned by one signed-in user.

- **Uploads.** The web layer lets only a signed-in request upload (see :mod:`heimdex.app.web`)
  and records the paths Gradio wrote for it. A service call can :meth:`Handoff.claim` a
  path only if that same user uploaded it and it is still waiting: a path typed by a
  client (another user's blob, ``/dev/zero``, a folder) is refused before anything is
  opened. A claimed file is removed once it is ingested or refused.
- **Pictures.** Thumbnails and face pictures shown in the app are written into Gradio's
  folder and served only to their owner, and only while the blob they were made from
  still exists: nothing a user deleted can be fetched again.
- Each app process keeps its files in a folder of its own (``app-<pid>``), which is Gradio's
  folder for that process: what a process recorded dies with it, so the folders of processes
  no longer running are swept whole (pending uploads do not outlive a restart).
- Everything in the folder older than its time to live is swept.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from heimdex.errors import BadInput, Kind

log = logging.getLogger(__name__)

PICTURES = "pictures"


class UploadRefused(BadInput):
    def __init__(self) -> None:
        super().__init__(
            "no_file", "Upload the file again: Heimdex only reads files you uploaded with this request.", Kind.INVALID
        )


@dataclass(frozen=True)
class _Owned:
    user_id: uuid.UUID
    since: float
    source: str | None = None  # blob key a picture was made from
    size: int = 0  # an upload's bytes


class Handoff:
    """The owner of every file in Gradio's folder (``root``) that belongs to a user."""

    def __init__(self, root: Path, ttl_s: float):
        self.root = Path(os.path.abspath(root))
        self.ttl_s = ttl_s
        self._uploads: dict[str, _Owned] = {}
        self._pictures: dict[str, _Owned] = {}
        self._lock = threading.Lock()

    def _key(self, path: str | os.PathLike) -> str | None:
        """The normalised absolute path if it lies inside the folder (no file system access)."""
        text = os.path.normpath(os.path.abspath(os.fspath(path)))
        return text if text.startswith(str(self.root) + os.sep) else None

    # ---- uploads ----
    def record_upload(self, user_id: uuid.UUID, paths: list[str]) -> None:
        """Remember that ``user_id`` uploaded ``paths`` (what the upload route answered, :mod:`heimdex.app.uploads`)."""
        now = time.time()
        for path in paths:
            key = self._key(path)
            if key is not None:
                size = os.path.getsize(key) if os.path.isfile(key) else 0
                with self._lock:
                    self._uploads[key] = _Owned(user_id, now, size=size)

    def pending_bytes(self, user_id: uuid.UUID | None = None) -> int:
        """The bytes of uploads not added yet: the user's, or (``None``) everyone's."""
        with self._lock:
            return sum(o.size for o in self._uploads.values() if user_id is None or o.user_id == user_id)

    def claim(self, user_id: uuid.UUID, path: object) -> Path:
        """The file ``user_id`` uploaded at ``path``, checked to be a regular file; :class:`UploadRefused` otherwise.

        The check is a lookup in what this process recorded, so a path a client invented
        is refused before the file system is touched.
        """
        key = self._key(path) if isinstance(path, (str, os.PathLike)) else None
        with self._lock:
            owned = self._uploads.get(key) if key else None
        if key is None or owned is None or owned.user_id != user_id:
            raise UploadRefused()
        try:
            info = os.lstat(key)
        except OSError:
            raise UploadRefused() from None
        if not stat.S_ISREG(info.st_mode):
            raise UploadRefused()
        return Path(key)

    def release(self, path: Path | str) -> None:
        """Forget an upload and delete its file (after it was ingested or refused)."""
        key = self._key(path)
        if key is None:
            return
        with self._lock:
            self._uploads.pop(key, None)
        _remove(Path(key), self.root)

    def may_name(self, path: object, user_id: uuid.UUID | None) -> bool:
        """Whether a request of ``user_id`` may name ``path``: its own waiting upload, or a picture it was shown
        (a gallery's selection carries it back). No file system access."""
        key = self._key(path) if isinstance(path, (str, os.PathLike)) else None
        with self._lock:
            owned = (self._uploads.get(key) or self._pictures.get(key)) if key else None
        return owned is not None and user_id is not None and owned.user_id == user_id

    # ---- pictures ----
    def picture(self, user_id: uuid.UUID, source: str, data: bytes) -> str:
        """A file holding ``data`` (a JPEG made from blob ``source``) that only ``user_id`` may fetch."""
        digest = hashlib.sha256(f"{user_id}:{source}".encode() + data).hexdigest()[:40]
        path = self.root / PICTURES / f"{digest}.jpg"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{uuid.uuid4().hex}.part")
            partial.write_bytes(data)
            partial.replace(path)
        else:
            os.utime(path)
        with self._lock:
            self._pictures[str(path)] = _Owned(user_id, time.time(), source)
        return str(path)

    def may_serve(self, user_id: uuid.UUID | None, path: str, exists: Callable[[str], bool]) -> bool:
        """Whether Gradio may send the file at ``path`` to ``user_id``.

        Uploads are never sent back; pictures go to their owner while ``exists(source)``;
        anything else in the folder needs a signed-in user (Gradio's own files).
        """
        key = self._key(path)
        if key is None:
            return True  # not ours: Gradio's own static files, judged by Gradio
        with self._lock:
            upload, picture = self._uploads.get(key), self._pictures.get(key)
        if upload is not None or user_id is None:
            return False
        if picture is not None:
            return picture.user_id == user_id and picture.source is not None and exists(picture.source)
        return not key.startswith(str(self.root / PICTURES) + os.sep)

    def forget_user(self, user_id: uuid.UUID) -> None:
        """Drop every file of a deleted user."""
        with self._lock:
            gone = [k for table in (self._uploads, self._pictures) for k, v in table.items() if v.user_id == user_id]
            for key in gone:
                self._uploads.pop(key, None)
                self._pictures.pop(key, None)
        for key in gone:
            _remove(Path(key), self.root)

    # ---- sweeping ----
    def sweep(self, now: float | None = None) -> int:
        """Delete files in the folder untouched for longer than the time to live, and the folders of app processes
        no longer running; return how many files."""
        cutoff = (now or time.time()) - self.ttl_s
        removed = 0
        for other in self.root.parent.glob("app-*") if self.root.parent.is_dir() else []:
            if other != self.root and not _running(other.name.removeprefix("app-")):
                removed += sum(1 for _, _, names in os.walk(other) for _ in names)
                shutil.rmtree(other, ignore_errors=True)
        if not self.root.is_dir():
            return removed
        for folder, _, names in os.walk(self.root, topdown=False):
            for name in names:
                path = Path(folder) / name
                try:
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except OSError:
                    continue
            if folder != str(self.root):
                try:
                    os.rmdir(folder)
                except OSError:
                    pass
        with self._lock:
            for table in (self._uploads, self._pictures):
                for key in [k for k in table if not os.path.lexists(k)]:
                    table.pop(key)
        return removed


def _running(pid: str) -> bool:
    """Whether a process ``pid`` runs (one of another user counts: it is not ours to sweep)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path, root: Path) -> None:
    """Delete a file and the folder Gradio made for it, if now empty."""
    try:
        path.unlink(missing_ok=True)
        if path.parent != root:
            path.parent.rmdir()
    except OSError:
        pass


_handoff: Handoff | None = None
_handoff_lock = threading.Lock()


def file_path(file: object) -> object:
    """What a client sent for a file (``{"path": ...}``, as ``gradio_client.handle_file`` sends it, or the path
    itself): only the path it names, which :meth:`Handoff.claim` checks against the caller's own uploads."""
    return file.get("path") if isinstance(file, dict) else getattr(file, "path", file)


def get_handoff() -> Handoff:
    """The process-wide :class:`Handoff` over ``$HEIMDEX_DATA_DIR/gradio/app-<pid>``."""
    global _handoff
    from heimdex.config import get_settings

    with _handoff_lock:
        if _handoff is None:
            settings = get_settings()
            _handoff = Handoff(settings.gradio_dir / f"app-{os.getpid()}", settings.upload_ttl_s)
        return _handoff
