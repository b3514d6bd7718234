"""Health checks behind ``python -m heimdex doctor``: each says ok or what is wrong."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from heimdex.config import Settings
from heimdex.db import one


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


def check_database(settings: Settings) -> Check:
    """PostgreSQL answers, has pgvector, and the schema is migrated."""
    from heimdex.db import get_database
    from heimdex.db.migrate import applied

    where = "DATABASE_URL" if settings.database_url else f"embedded in {settings.pg_dir}"
    try:
        with get_database().transaction() as conn:
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


def check_redis(settings: Settings) -> Check:
    """Redis answers when REDIS_URL is set; without it jobs run in-process."""
    if not settings.redis_url:
        return Check("redis", True, "not configured: jobs run in-process", required=False)
    import redis

    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return Check("redis", False, f"{settings.redis_url}: {exc}")
    return Check("redis", True, f"{settings.redis_url} answers")


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


CHECKS: list[Callable[[Settings], Check | list[Check]]] = [check_data_dir, check_database, check_redis, check_models]


def run_checks(settings: Settings) -> list[Check]:
    """Every check, in order."""
    results: list[Check] = []
    for check in CHECKS:
        outcome = check(settings)
        results += outcome if isinstance(outcome, list) else [outcome]
    return results
