"""The embedded PostgreSQL 16 + pgvector server (the ``pgserver`` package).

Used when no ``DATABASE_URL`` is set. pgserver keeps one server per data folder
and lists the processes that use it (app, CLI, workers, job children), stopping it
when the last one exits. A process killed without running its exit handlers would
stay on that list and keep the server up forever, and a server restarted meanwhile
would not be the one pgserver stops; so every process, as it exits, first strikes
the processes that are no longer alive and points pgserver at the running server.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

DATABASE_NAME = "heimdex"

_servers: dict[Path, Any] = {}  # pgserver.PostgresServer handles (the package ships no types)
_lock = threading.Lock()


def embedded_url(pg_dir: Path, database: str = DATABASE_NAME) -> str:
    """Start or join the server in ``pg_dir``; return a URL to ``database``, created if missing."""
    with warnings.catch_warnings():  # pgserver's platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver  # imported here: only the embedded mode needs it

    pg_dir = pg_dir.expanduser().resolve()
    with _lock:
        server = _servers.get(pg_dir)
        if server is None:
            pg_dir.parent.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded PostgreSQL in %s", pg_dir)
            server = _servers[pg_dir] = pgserver.get_server(pg_dir, cleanup_mode="stop")  # pyright: ignore[reportPrivateImportUsage]
            atexit.register(_forget_dead_handles, server)  # runs before pgserver's own exit handler
    create_database(server.get_uri(), database)
    return server.get_uri(database)


def _forget_dead_handles(server) -> None:
    """Before pgserver's exit handler: strike users that died without exiting cleanly from its list, and
    point it at the server running now (it remembers the one it started, gone after a restart)."""
    import psutil
    from pgserver.utils import PostmasterInfo

    try:
        handles = server.global_process_id_list  # pgserver's DiskList of pids
        handles.put([pid for pid in handles.get() if pid == os.getpid() or psutil.pid_exists(pid)])
        server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata) or server._postmaster_info
    except Exception as exc:  # never stop an exit for this
        log.warning("could not tidy the embedded server's process list: %s", exc)


def release() -> None:
    """Give up this process's use of every embedded server now (a process about to ``os._exit``)."""
    with _lock:
        for server in list(_servers.values()):
            _forget_dead_handles(server)
            server.cleanup()  # pgserver: stops the server when this was its last user
        _servers.clear()


def create_database(admin_url: str, database: str) -> None:
    """Create ``database`` on the server at ``admin_url`` unless it exists (safe under races)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if exists:
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            pass  # another process created it first
