"""Heimdex indexing worker (RQ). The job queue arrives with the jobs feature; until then
indexing runs in-process and this entry point only says so."""

import sys

if __name__ == "__main__":
    print("worker.py: the RQ worker is not built yet; nothing to run.", file=sys.stderr)
    sys.exit(2)
