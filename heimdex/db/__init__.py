"""Database access: one connection pool per process, migrated at open.

``get_database()`` returns the process-wide :class:`Database`. Without
``DATABASE_URL`` it starts (or joins) the embedded PostgreSQL in
``$HEIMDEX_DATA_DIR/pg``. Connections come with pgvector's adapter and dict rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from heimdex.config import Settings, get_settings
from heimdex.db.embedded import embedded_url
from heimdex.db.migrate import migrate, update_extensions
from heimdex.db.vectors import ensure_vector_indexes
from heimdex.errors import BadInput, Kind

Conn = psycopg.Connection[DictRow]  # what every query gets: a connection whose rows are dicts


def one(row: DictRow | None) -> DictRow:
    """The row a statement always returns (a count, an INSERT ... RETURNING); ``LookupError`` if it returned none."""
    if row is None:
        raise LookupError("the statement returned no row")
    return row


WAIT_S = 3.0  # the longest a request waits for the database before it is told, in a sentence, that it is away


class DatabaseUnavailable(BadInput):
    def __init__(self) -> None:
        super().__init__(
            "database_unavailable", "The database cannot be reached right now; try again in a moment.", Kind.UNAVAILABLE
        )


class Database:
    """A pool of connections to a migrated Heimdex database. While the server is away, taking a connection fails
    within :data:`WAIT_S` as :class:`DatabaseUnavailable` (its cause kept: jobs see a transient failure)."""

    def __init__(self, url: str, max_size: int = 4):
        self.url = url
        self.pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            connection_class=Conn,
            min_size=1,
            max_size=max_size,
            timeout=WAIT_S,
            kwargs={"row_factory": dict_row, "connect_timeout": int(WAIT_S)},
            configure=register_vector,
            check=ConnectionPool.check_connection,  # pyright: ignore[reportArgumentType] (typed for tuple rows; works on any)
            open=True,
            name="heimdex",
        )

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            raise DatabaseUnavailable() from exc
        except psycopg.OperationalError as exc:
            if exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P")):  # the connection, or the server, went
                raise DatabaseUnavailable() from exc
            raise

    def close(self) -> None:
        self.pool.close()


def resolve_url(settings: Settings) -> str:
    """``DATABASE_URL`` if set, else the embedded server's URL (starting it if needed)."""
    return settings.database_url or embedded_url(settings.pg_dir, shared_buffers=settings.db_shared_buffers)


def open_database(settings: Settings) -> Database:
    """Connect, apply pending migrations, and return a pooled :class:`Database`."""
    url = resolve_url(settings)
    with psycopg.connect(url) as conn:
        migrate(conn)
        update_extensions(conn)
        ensure_vector_indexes(conn)
    return Database(url, max_size=settings.db_pool_size)


_database: Database | None = None
_database_lock = threading.Lock()


def get_database() -> Database:
    """The process-wide database, opened on first use."""
    global _database
    with _database_lock:
        if _database is None:
            _database = open_database(get_settings())
        return _database


def close_database() -> None:
    """Close the process-wide pool (tests, shutdown)."""
    global _database
    with _database_lock:
        if _database is not None:
            _database.close()
            _database = None
