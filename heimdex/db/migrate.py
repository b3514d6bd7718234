"""Schema migrations: ordered SQL files, each applied once, tracked in a table.

Two processes migrating at once serialise on an advisory lock, so each file runs
exactly once. An applied file must never change; its checksum is recorded and a
mismatch stops start-up instead of leaving the schema in doubt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, LiteralString, cast

import psycopg
from psycopg.rows import tuple_row

from heimdex.errors import HeimdexError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 0x4845494D  # "HEIM": the advisory lock every migrating process takes


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Migration files named ``NNN_name.sql``, in version order."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        migrations.append(Migration(int(number), name, path.read_text()))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise HeimdexError(f"duplicate migration numbers in {directory}")
    return migrations


def migrate(conn: psycopg.Connection[Any], directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply every pending migration in one transaction; return the names applied."""
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = dict(conn.cursor(row_factory=tuple_row).execute("SELECT version, checksum FROM schema_migrations"))
        for migration in available(directory):
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise HeimdexError(
                        f"migration {migration.version:03d}_{migration.name} changed after it was applied; "
                        "add a new migration instead of editing an old one"
                    )
                continue
            conn.execute(cast(LiteralString, migration.sql))  # a file of this package, never user text
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            applied_now.append(f"{migration.version:03d}_{migration.name}")
    return applied_now


def applied(conn: psycopg.Connection[Any]) -> list[str]:
    """Names of the migrations recorded in the database."""
    rows = conn.cursor(row_factory=tuple_row).execute("SELECT version, name FROM schema_migrations ORDER BY version")
    return [f"{version:03d}_{name}" for version, name in rows]


def update_extensions(conn: psycopg.Connection[Any]) -> str | None:
    """Bring the ``vector`` extension up to the version the server ships (a data folder of an older
    pgvector keeps its old version until asked); return the version in use. A managed server where
    this role may not update it (Supabase updates it itself) keeps what it has."""
    import logging

    try:
        with conn.transaction():
            conn.execute("ALTER EXTENSION vector UPDATE")
    except psycopg.errors.InsufficientPrivilege as exc:
        logging.getLogger(__name__).info("pgvector not updated here: %s", exc)
    row = conn.cursor(row_factory=tuple_row).execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    found = row.fetchone()
    return found[0] if found else None
