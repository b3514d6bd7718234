"""Blobs whose rows are gone: deleted now, or remembered and deleted by the upkeep loop.

Rows go first (in their own transaction), so what a user deleted is unreachable at once:
no route serves a blob without its row. When the blob store then refuses (a read-only
disk, S3 away), the keys are kept in ``orphan_blobs`` and tried again later, and the
user's deletion still succeeds. While a backup copies blobs (:mod:`heimdex.ops.backup`, which
holds :data:`BACKUP_LOCK`), every deletion waits there too: the rows of its snapshot may
still name them.
"""

from __future__ import annotations

import logging

from heimdex.db import Database
from heimdex.storage import BlobStore

log = logging.getLogger(__name__)

BACKUP_LOCK = 481_733  # the PostgreSQL advisory lock a running backup holds


def backup_running(db: Database) -> bool:
    """Whether a backup holds :data:`BACKUP_LOCK` now (in any process)."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = %s"
            " AND objsubid = 1 AND granted) AS held",
            (BACKUP_LOCK,),
        ).fetchone()
    return bool(row and row["held"])


def _remember(db: Database, keys: list[str]) -> None:
    with db.transaction() as conn:
        for key in keys:
            conn.execute("INSERT INTO orphan_blobs (key) VALUES (%s) ON CONFLICT DO NOTHING", (key,))


def _delete(store: BlobStore, key: str) -> None:
    if key.endswith("/"):
        store.delete_prefix(key)
    else:
        store.delete(key)


def delete_blobs(db: Database, store: BlobStore, keys: list[str]) -> None:
    """Delete blobs and prefixes (ending in ``/``); any the store refuses, or all while a backup runs, are kept for
    :func:`sweep_orphans`."""
    if backup_running(db):
        _remember(db, keys)
        return
    for key in keys:
        try:
            _delete(store, key)
        except Exception as exc:
            log.warning("could not delete blob %s now (%s); it will be deleted later", key, exc)
            _remember(db, [key])


def sweep_orphans(db: Database, store: BlobStore, limit: int = 100) -> int:
    """Try again to delete remembered blobs (none while a backup runs); return how many went."""
    if backup_running(db):
        return 0
    with db.transaction() as conn:
        keys = [
            r["key"] for r in conn.execute("SELECT key FROM orphan_blobs ORDER BY since LIMIT %s", (limit,)).fetchall()
        ]
    done = 0
    for key in keys:
        try:
            _delete(store, key)
        except Exception:
            continue
        with db.transaction() as conn:
            conn.execute("DELETE FROM orphan_blobs WHERE key = %s", (key,))
        done += 1
    return done
