"""Blob storage: original videos, keyframes and sidecars, behind one small interface.

Keys are built here from ids and content hashes only, never from text a user
typed, and every key is checked against :data:`KEY_PATTERN` before use. The
layout puts everything of a user under ``u/<user id>/`` so deleting a user or a
video removes its blobs by prefix:

    u/<user id>/src/<sha256>            the uploaded file (one per content per user)
    u/<user id>/v/<video id>/proxy.mp4  a copy browsers play, for a video they cannot play as uploaded
    u/<user id>/v/<video id>/r/<run>/   what one indexing run derived (keyframes, sidecar)
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from heimdex.config import Settings

KEY_PATTERN = re.compile(r"^[a-z0-9]+(/[a-z0-9][a-z0-9._-]*)*/?$")
CHUNK = 1024 * 1024


def source_key(user_id: uuid.UUID, sha256: str) -> str:
    """Key of an uploaded file: derived from its owner and its content hash."""
    return _checked(f"u/{user_id}/src/{sha256}")


def video_prefix(user_id: uuid.UUID, video_id: uuid.UUID) -> str:
    """Prefix of every blob derived from one video."""
    return _checked(f"u/{user_id}/v/{video_id}/")


def proxy_key(user_id: uuid.UUID, video_id: uuid.UUID) -> str:
    """Key of a video's browser-playable copy (made once, kept beside the original until the video goes)."""
    return _checked(f"{video_prefix(user_id, video_id)}proxy.mp4")


def run_prefix(user_id: uuid.UUID, video_id: uuid.UUID, run: str) -> str:
    """Prefix of the blobs of one indexing run of a video."""
    return _checked(f"{video_prefix(user_id, video_id)}r/{run}/")


def user_prefix(user_id: uuid.UUID) -> str:
    """Prefix of every blob of one user."""
    return _checked(f"u/{user_id}/")


def _checked(key: str) -> str:
    if not KEY_PATTERN.match(key) or ".." in key:
        raise ValueError(f"invalid blob key: {key!r}")
    return key


class BlobStore(Protocol):
    """Where blobs live. Writes are atomic: a reader sees the whole blob or none."""

    def put(self, key: str, stream: BinaryIO) -> int:
        """Store the stream's bytes under ``key`` (replacing any); return the size."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open a blob for reading; ``FileNotFoundError`` if absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a blob."""
        ...

    def delete(self, key: str) -> None:
        """Remove one blob; absent keys are ignored."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every blob under ``prefix``; return how many."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix``."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The blob as a file on this machine, if the store keeps it as one."""
        ...


class LocalBlobStore:
    """Blobs as files under one folder; the default store."""

    def __init__(self, root: Path):
        self.root = root
        self._staging = root / ".staging"
        self._staging.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, stream: BinaryIO) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = self._staging / uuid.uuid4().hex
        try:
            with staging.open("wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
                out.flush()
                os.fsync(out.fileno())
                size = out.tell()
            os.replace(staging, path)
        finally:
            staging.unlink(missing_ok=True)
        return size

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        self._prune(path.parent)

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.endswith("/"):
            raise ValueError("delete_prefix takes a folder prefix ending in '/'")
        removed = sum(1 for _ in self.keys(prefix))
        folder = self._path(prefix)
        shutil.rmtree(folder, ignore_errors=True)
        self._prune(folder.parent)
        return removed

    def _prune(self, folder: Path) -> None:
        """Remove empty folders from ``folder`` up to (not including) the root."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone
                return
            folder = folder.parent

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and self._staging not in path.parents:
                yield path.relative_to(self.root).as_posix()

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None


@contextmanager
def local_copy(store: BlobStore, key: str, tmp_dir: Path) -> Iterator[Path]:
    """A file holding the blob: the store's own file when it has one, else a temporary copy."""
    path = store.local_path(key)
    if path is not None:
        yield path
        return
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="blob-") as copy, store.open(key) as blob:
        shutil.copyfileobj(blob, copy, CHUNK)
        copy.flush()
        yield Path(copy.name)


class _Counted:
    """A read-only stream that counts the bytes read through it."""

    def __init__(self, stream: BinaryIO):
        self._stream, self.size = stream, 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.size += len(chunk)
        return chunk


class S3BlobStore:
    """Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Supabase Storage), under an optional prefix.

    Uploads stream in parts and appear whole or not at all; reads stream too. The
    keys are the same as in the local store, so either store serves any video.
    """

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket, self.prefix, self.client = bucket, prefix, client

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        import boto3
        from botocore.config import Config

        bucket, _, prefix = (settings.blob_url or "").removeprefix("s3://").partition("/")
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint or None,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}),
        )
        store = cls(bucket, prefix.strip("/") + "/" if prefix.strip("/") else "", client)
        store._ensure_bucket()
        return store

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def _object(self, key: str) -> str:
        return self.prefix + _checked(key)

    def put(self, key: str, stream: BinaryIO) -> int:
        counted = _Counted(stream)
        self.client.upload_fileobj(counted, self.bucket, self._object(key))
        return counted.size

    def open(self, key: str) -> BinaryIO:
        return self.client.get_object(Bucket=self.bucket, Key=self._object(key))["Body"]

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object(key))
            return True
        except ClientError:
            return False

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.endswith("/"):
            raise ValueError("delete_prefix takes a folder prefix ending in '/'")
        keys = [self._object(key) for key in self.keys(prefix)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        return len(keys)

    def keys(self, prefix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + (_checked(prefix) if prefix else "")):
            for item in page.get("Contents", []):
                yield item["Key"][len(self.prefix) :]

    def local_path(self, key: str) -> Path | None:
        return None


def get_blob_store(settings: Settings) -> BlobStore:
    """The configured store: an S3 bucket when ``HEIMDEX_BLOB_URL`` is set, else ``$HEIMDEX_DATA_DIR/blobs``."""
    if settings.blob_url:
        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.blob_dir)
