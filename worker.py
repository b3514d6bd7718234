"""Indexing worker entry point: ``python worker.py`` (needs REDIS_URL; see docs/operations.md, "Jobs and workers")."""

from heimdex.ops.worker import main

if __name__ == "__main__":
    raise SystemExit(main())
