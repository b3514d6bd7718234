"""Database access: one connection pool per process, migrated at open.

``get_database()`` returns the process-wide :class:`Database`. Without
``DATABASE_URL`` it starts (or joins) the embedded PostgreSQL in
``$HEIMDEX_DATA_DIR/pg``. Connections come with pgvector's adapter and dict rows.
With ``HEIMDEX_DATABASE_READ_URL`` (a streaming replica), ``Database.read`` runs
read-only work there while it answers and is close enough behind; everything
else, and anything that must read its own writes, stays on the primary.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

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
T = TypeVar("T")
log = logging.getLogger(__name__)


def one(row: DictRow | None) -> DictRow:
    """The row a statement always returns (a count, an INSERT ... RETURNING); ``LookupError`` if it returned none."""
    if row is None:
        raise LookupError("the statement returned no row")
    return row


WAIT_S = 3.0  # the longest a request waits for the database before it is told, in a sentence, that it is away
READ_WAIT_S = 0.5  # the longest a read waits for the replica before it goes to the primary ...
REPLICA_RETRY_S = 10.0  # ... and, after that, how long the replica is left alone
REPLICA_LAG = """SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
                             WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                             ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END AS lag"""
# how far behind the replica is, in seconds: 0 when it has applied all it received (an idle primary sends nothing);
# otherwise the age of the last change it applied (NULL: none yet)


class DatabaseUnavailable(BadInput):
    def __init__(self) -> None:
        super().__init__(
            "database_unavailable", "The database cannot be reached right now; try again in a moment.", Kind.UNAVAILABLE
        )


class Database:
    """A pool of connections to a migrated Heimdex database. While the server is away, taking a connection fails
    within :data:`WAIT_S` as :class:`DatabaseUnavailable` (its cause kept: jobs see a transient failure)."""

    def __init__(self, url: str, max_size: int = 4, read_url: str | None = None, max_lag_s: float = 5.0):
        self.url = url
        self.pool = _pool(url, "heimdex", 1, max_size, WAIT_S)
        self.reader = _pool(read_url, "heimdex-read", 0, max_size, READ_WAIT_S) if read_url else None
        self.max_lag_s = max_lag_s
        self._reader_down_until = 0.0  # while the replica is taken to be away (time.monotonic)

    def read(self, work: Callable[[Conn], T]) -> T:
        """``work(conn)`` in one transaction on the read replica when one is set, answers within
        :data:`READ_WAIT_S` and is at most ``max_lag_s`` behind; on the primary otherwise, and when the replica
        fails midway (a dropped connection, a query cancelled by replay). ``work`` only reads."""
        if self.reader is not None and time.monotonic() >= self._reader_down_until:
            try:
                with self.reader.connection() as conn:
                    lag = one(conn.execute(REPLICA_LAG).fetchone())["lag"]
                    if lag is not None and float(lag) <= self.max_lag_s:
                        return work(conn)
                    log.info("the read replica is %s s behind; reading from the primary", lag)
            except (PoolTimeout, psycopg.OperationalError) as exc:
                if not isinstance(exc, psycopg.errors.TransactionRollback):  # away, not a cancelled query
                    self._reader_down_until = time.monotonic() + REPLICA_RETRY_S
                log.warning("the read replica failed (%s); reading from the primary", exc)
        with self.transaction() as conn:
            return work(conn)

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
        if self.reader is not None:
            self.reader.close()


def _pool(url: str, name: str, min_size: int, max_size: int, wait_s: float) -> ConnectionPool[Conn]:
    return ConnectionPool(
        url,
        connection_class=Conn,
        min_size=min_size,
        max_size=max_size,
        timeout=wait_s,
        kwargs={"row_factory": dict_row, "connect_timeout": max(1, int(wait_s))},
        configure=register_vector,
        check=ConnectionPool.check_connection,  # pyright: ignore[reportArgumentType] (typed for tuple rows; works on any)
        open=True,
        name=name,
    )


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
    return Database(
        url, settings.db_pool_size, read_url=settings.database_read_url, max_lag_s=settings.replica_max_lag_s
    )


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
