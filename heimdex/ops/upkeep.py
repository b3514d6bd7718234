"""Upkeep of a running app or worker, now and every few seconds, in a thread of its own.

- jobs whose worker went silent, and queued jobs the queue forgot, go back in line
  (:mod:`heimdex.jobs.recovery`): a quick restart after a crash is noticed once the
  dead run's heartbeat is stale, not only at start;
- blobs whose deletion failed are deleted (:mod:`heimdex.library.orphans`);
- videos in the Trash for 30 days are deleted for good (:mod:`heimdex.library.trash`);
- expired session tokens, spent mailed links and rate limit counts past their window are forgotten;
- whatever else the process that runs the loop adds (the app: Gradio's folder swept of uploads and pictures
  past their time, :mod:`heimdex.app.handoff`);
- an embedded PostgreSQL of this process that stopped is started again (:func:`heimdex.db.embedded.keep_running`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

Chore = tuple[str, Callable[[], object]]  # a name for the log, and what to do

log = logging.getLogger(__name__)

EVERY_S = 5.0


def run_once(extra: Sequence[Chore] = ()) -> None:
    """One round of upkeep; each part fails alone (a database or Redis away is tried again next round)."""
    from heimdex.auth.onetime import forget_spent
    from heimdex.auth.sessions import forget_expired
    from heimdex.config import get_settings
    from heimdex.db import get_database
    from heimdex.db.embedded import keep_running
    from heimdex.jobs.queue import get_queue
    from heimdex.jobs.recovery import recover
    from heimdex.library.export import expire_exports
    from heimdex.library.orphans import sweep_orphans
    from heimdex.library.quotas import forget_counted
    from heimdex.library.trash import empty_trash
    from heimdex.storage import get_blob_store

    settings = get_settings()
    parts = [
        ("database server", keep_running),
        ("recovery", lambda: recover(get_database(), get_queue(), settings)),
        ("orphan blobs", lambda: sweep_orphans(get_database(), get_blob_store(settings))),
        ("trash", lambda: empty_trash(get_database(), get_blob_store(settings))),
        ("exports", lambda: expire_exports(get_database(), get_blob_store(settings))),
        ("session tokens", lambda: forget_expired(get_database())),
        ("mailed links", lambda: forget_spent(get_database())),
        ("rate limit counts", lambda: forget_counted(get_database())),
    ]
    parts.extend(extra)
    for name, part in parts:
        try:
            part()
        except Exception as exc:
            log.warning("upkeep of %s failed this round: %s", name, exc)


def start(extra: Sequence[Chore] = (), every_s: float = EVERY_S) -> threading.Event:
    """Run a round now, then every ``every_s`` seconds until the returned event is set; ``extra``: this process's
    own chores."""
    run_once(extra)
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            run_once(extra)

    threading.Thread(target=loop, name="upkeep", daemon=True).start()
    return stop
