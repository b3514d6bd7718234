"""Blobs whose rows are gone: deleted now, or remembered and deleted by the upkeep loop.

Rows go first (in their own transaction), so what a user deleted is unreachable at once:
no route serves a blob without its row. When the blob store then refuses (a read-only
disk, S3 away), the keys are kept in ``orphan_blobs`` and tried again later, and the
user's deletion still succeeds.
"""

from __future__ import annotations

import logging

from heimdex.db import Database
from heimdex.storage import BlobStore

log = logging.getLogger(__name__)


def _delete(store: BlobStore, key: str) -> None:
    if key.endswith("/"):
        store.delete_prefix(key)
    else:
        store.delete(key)


def delete_blobs(db: Database, store: BlobStore, keys: list[str]) -> None:
    """Delete blobs and prefixes (ending in ``/``); any the store refuses are kept for :func:`sweep_orphans`."""
    for key in keys:
        try:
            _delete(store, key)
        except Exception as exc:
            log.warning("could not delete blob %s now (%s); it will be deleted later", key, exc)
            with db.transaction() as conn:
                conn.execute("INSERT INTO orphan_blobs (key) VALUES (%s) ON CONFLICT DO NOTHING", (key,))


def sweep_orphans(db: Database, store: BlobStore, limit: int = 100) -> int:
    """Try again to delete remembered blobs; return how many went."""
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
