"""The indexing worker: ``python worker.py`` (the GPU machine in production).

One process loads every model once, then takes jobs from the RQ queue ``heimdex``
one at a time, in the same process (RQ's SimpleWorker: no fork, so the loaded models
serve every job). Beside it, the upkeep thread runs recovery every few seconds. Any number of
workers on any number of machines can share one Redis, one Postgres and one S3 store.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from heimdex.config import get_settings
from heimdex.jobs.queue import RqQueue, get_queue
from heimdex.models.registry import get_registry
from heimdex.ops import upkeep
from heimdex.telemetry import logs, metrics

log = logging.getLogger("heimdex.ops.worker")


def main(burst: bool = False) -> int:
    """Run a worker until it is stopped; exit 2 without ``REDIS_URL``."""
    settings = get_settings()
    logs.configure(settings)
    if settings.metrics:
        metrics.serve(settings.metrics_port)
    if not settings.redis_url:
        log.error("REDIS_URL is not set: without Redis the app indexes in-process and needs no worker")
        return 2
    from rq import SimpleWorker

    started = time.perf_counter()
    registry = get_registry()
    for role in registry.specs:
        registry.get(role)
    log.info("models loaded in %.1f s", time.perf_counter() - started)
    queue = get_queue()
    assert isinstance(queue, RqQueue)  # REDIS_URL is set (checked above)
    stop = upkeep.start()  # recovery and orphaned blobs, now and every few seconds
    try:
        while True:  # RQ's worker gives up when Redis vanishes mid-job; this process keeps its models and starts again
            worker = SimpleWorker(
                [queue.queue],
                connection=queue.redis,
                name=f"heimdex-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
            )
            try:
                worker.work(burst=burst, with_scheduler=True, logging_level=settings.log_level)
                return 0
            except (RedisConnectionError, RedisTimeoutError) as exc:
                log.warning("lost Redis (%s); waiting for it to come back", exc)
                _wait_for_redis(queue.redis)
    finally:
        stop.set()


def _wait_for_redis(redis, longest_s: float = 30.0) -> None:
    pause = 1.0
    while True:
        try:
            if redis.ping():
                log.info("Redis is back")
                return
        except (RedisConnectionError, RedisTimeoutError):
            pass
        time.sleep(pause)
        pause = min(longest_s, pause * 2)
