"""Health checks behind ``python -m heimdex doctor`` and the app's ``/readyz``: each says ok or what is wrong.

Every check is bounded in time (a database or Redis that does not answer fails in seconds),
and :func:`readiness` runs them side by side under one deadline. Details may name hosts and
folders: the doctor prints them to the operator, ``/readyz`` keeps them to the log.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from urllib.parse import urlsplit

from heimdex.config import Settings
from heimdex.db import one

TIMEOUT_S = 3.0  # a database, Redis or blob store that takes longer than this is not ready


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def check_data_dir(settings: Settings) -> Check:
    """The data folder exists (or can be made) and takes a write."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.data_dir / f".doctor-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check("data dir", False, f"{settings.data_dir}: {exc.strerror or exc}")
    return Check("data dir", True, f"{settings.data_dir} is writable")


def shown_url(url: str) -> str:
    """A URL without its password, to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def check_database(settings: Settings) -> Check:
    """PostgreSQL answers (on a connection of its own, within seconds), has pgvector, and the schema is migrated."""
    from psycopg.rows import dict_row

    from heimdex.db import Conn, get_database, resolve_url
    from heimdex.db.migrate import applied

    where = "DATABASE_URL" if settings.database_url else f"embedded in {settings.pg_dir}"
    try:
        if not settings.database_url:
            get_database()  # the embedded server: started (and the schema migrated) by the first use
        options = f"-c statement_timeout={int(TIMEOUT_S * 1000)}"
        url = resolve_url(settings)
        with Conn.connect(url, connect_timeout=int(TIMEOUT_S), options=options, row_factory=dict_row) as conn:
            version = one(conn.execute("SHOW server_version").fetchone())["server_version"]
            vector = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
            migrations = applied(conn)
    except Exception as exc:  # doctor reports every failure instead of raising it
        return Check("database", False, f"{where}: {exc}")
    return Check(
        "database",
        True,
        f"PostgreSQL {version}, pgvector {vector['extversion'] if vector else 'missing'}, {len(migrations)} migrations ({where})",
    )


def check_vector_graph(settings: Settings) -> Check:
    """The HNSW indexes were built with today's settings (not required: an older build answers, with its recall)."""
    from psycopg.rows import dict_row

    from heimdex.db import Conn, resolve_url
    from heimdex.db.vectors import HNSW_EF_CONSTRUCTION, HNSW_M, stale_indexes

    options = f"-c statement_timeout={int(TIMEOUT_S * 1000)}"
    try:
        url = resolve_url(settings)
        with Conn.connect(url, connect_timeout=int(TIMEOUT_S), options=options, row_factory=dict_row) as conn:
            stale = stale_indexes(conn)
    except Exception as exc:  # doctor reports every failure instead of raising it
        return Check("vector indexes", False, str(exc), required=False)
    if stale:
        return Check(
            "vector indexes",
            False,
            f"{len(stale)} built with other settings than m={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION} "
            f"or left unfinished ({', '.join(stale)}): run `python -m heimdex db rebuild-graph`",
            required=False,
        )
    return Check(
        "vector indexes", True, f"built with m={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION}", required=False
    )


def check_read_replica(settings: Settings) -> Check:
    """The read replica answers, is a standby, and how far behind it is (search reads the primary meanwhile when
    it is away or too far behind: not required)."""
    from psycopg.rows import dict_row

    from heimdex.db import REPLICA_LAG, Conn

    if not settings.database_read_url:
        return Check("read replica", True, "not configured: search reads the primary", required=False)
    where = shown_url(settings.database_read_url)
    options = f"-c statement_timeout={int(TIMEOUT_S * 1000)}"
    try:
        url = settings.database_read_url
        with Conn.connect(url, connect_timeout=int(TIMEOUT_S), options=options, row_factory=dict_row) as conn:
            standby = one(conn.execute("SELECT pg_is_in_recovery() AS standby").fetchone())["standby"]
            lag = one(conn.execute(REPLICA_LAG).fetchone())["lag"]
    except Exception as exc:  # doctor reports every failure instead of raising it
        return Check("read replica", False, f"{where}: {exc}; search reads the primary", required=False)
    if not standby:
        return Check("read replica", False, f"{where} is not a standby (a primary?)", required=False)
    behind = "not yet streaming" if lag is None else f"{float(lag):.1f} s behind"
    usable = lag is not None and float(lag) <= settings.replica_max_lag_s
    return Check("read replica", usable, f"{where}: a standby, {behind}", required=False)


def check_redis(settings: Settings) -> Check:
    """Redis answers when REDIS_URL is set; without it jobs run in-process."""
    if not settings.redis_url:
        return Check("redis", True, "not configured: jobs run in-process", required=False)
    import redis

    where = shown_url(settings.redis_url)
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S).ping()
    except redis.RedisError as exc:
        return Check("redis", False, f"{where}: {exc}")
    return Check("redis", True, f"{where} answers")


def check_blob_store(settings: Settings) -> Check:
    """The blob store takes a write, gives it back and deletes it."""
    from heimdex.storage import get_blob_store

    key = f"health/probe-{uuid.uuid4().hex}"
    where = shown_url(settings.blob_url) if settings.blob_url else str(settings.blob_dir)
    try:
        store = get_blob_store(settings)
        store.put(key, io.BytesIO(b"ok"))
        with store.open(key) as blob:
            back = blob.read(3)
        store.delete(key)
    except Exception as exc:  # reported, not raised
        return Check("blob store", False, f"{where}: {exc}")
    if back != b"ok":
        return Check("blob store", False, f"{where}: a probe came back changed")
    return Check("blob store", True, f"{where} takes writes")


def check_models(settings: Settings) -> list[Check]:
    """Each model of the profile: identity, and whether its weights are present and intact."""
    from heimdex.models.registry import get_registry

    checks = []
    for status in get_registry().status():
        info = status.info
        dim = f", {info.dim}-d" if info.dim else ""
        state = "loaded" if status.loaded else "ready"
        if info.source.startswith("hub:") and status.problem is None:
            state = "fetched from the hub on first use"
        detail = f"{info.name} {info.version}{dim}, {info.license}, {info.source}: {status.problem or state}"
        checks.append(Check(f"model {info.role}", status.problem is None, detail))
    return checks


_models_ready = threading.Event()  # weights, once verified in this process, stay verified (they are read-only)


def check_models_ready(settings: Settings) -> Check:
    """Every model of the profile is loaded or loadable (its weights present and intact; verified once)."""
    if not _models_ready.is_set():
        failing = [c for c in check_models(settings) if not c.ok]
        if failing:
            return Check("models", False, "; ".join(c.detail for c in failing))
        _models_ready.set()
    return Check("models", True, f"the {settings.models} profile's models are loaded or loadable")


CHECKS: list[Callable[[Settings], Check | list[Check]]] = [
    check_data_dir,
    check_database,
    check_vector_graph,
    check_read_replica,
    check_redis,
    check_blob_store,
    check_models,
]
READY: list[Callable[[Settings], Check]] = [check_database, check_redis, check_blob_store, check_models_ready]


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in order."""
    results: list[Check] = []
    for check in CHECKS:
        outcome = check(settings)
        results += outcome if isinstance(outcome, list) else [outcome]
    return results


def readiness(settings: Settings, deadline_s: float = 2 * TIMEOUT_S) -> list[Check]:
    """The checks a ready app passes (database, Redis when configured, blob store, models), side by side; one
    still running at the deadline fails as too slow."""
    pool = ThreadPoolExecutor(max_workers=len(READY), thread_name_prefix="readyz")
    futures = {pool.submit(check, settings): check for check in READY}
    wait(futures, timeout=deadline_s)
    pool.shutdown(wait=False, cancel_futures=True)
    results = []
    for future, check in futures.items():
        name = check.__name__.removeprefix("check_").removesuffix("_ready").replace("_", " ")
        if future.done() and future.exception() is None:
            results.append(future.result())
        else:
            results.append(Check(name, False, f"no answer within {deadline_s:.0f} s"))
    return results
