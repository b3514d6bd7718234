"""Helpers shared by tests: run the CLI, snapshot the database and blob store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m heimdex ARGS`` in a child process with the test data folder."""
    return subprocess.run(
        [sys.executable, "-m", "heimdex", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


TABLES = (
    "users", "sessions", "videos", "shots", "scenes", "embedding_models", "scene_vectors", "jobs",
    "people", "faces", "scene_people", "audit_events", "rate_limits",
)


def snapshot(db, store) -> dict:
    """Row counts of every table and the set of blob keys: 'unchanged' means equal snapshots."""
    with db.transaction() as conn:
        counts = {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in TABLES}
    return {"rows": counts, "blobs": set(store.keys())}





def free_port() -> int:
    """A TCP port nobody listens on, on loopback."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
