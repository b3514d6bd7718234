"""Prometheus metrics (``prometheus_client``), kept only when ``HEIMDEX_METRICS=1``.

The app serves them at ``/metrics``, a worker on ``HEIMDEX_METRICS_PORT``. Labels never carry
user data (no ids, e-mails, titles, file names or query words): a search is labeled by the
channels it was narrowed to (``all`` when it was not), an upload refusal by its error code.
The app's indexing children count into a folder the app reads (the library's multiprocess
mode), so the jobs they run show on the app's ``/metrics``. Jobs by state and the queue's depth
are read from the database when scraped.

Each ``record`` function is a no-op while metrics are off.
"""

from __future__ import annotations

import os
import shutil
from functools import lru_cache
from typing import Any

from heimdex.config import Settings, get_settings
from heimdex.db import get_database
from heimdex.states import JobState

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when it is first imported
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_SECONDS = (5, 15, 30, 60, 120, 300, 600, 1200, 3600)
RATIO = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)  # seconds of compute per second of video
RESULTS = (0, 1, 5, 10, 25, 50, 100)


def on() -> bool:
    return get_settings().metrics


def setup(settings: Settings, shared_dir: bool) -> None:
    """Before anything is counted: with ``shared_dir`` (the app and its indexing children), a fresh folder the
    children inherit through the environment, so their counts reach the app's ``/metrics``."""
    if not settings.metrics or not shared_dir:
        return
    import psutil

    folders = settings.data_dir / "metrics"
    for earlier in folders.glob("*"):  # counts of apps no longer running (another app on this folder keeps its own)
        if not earlier.name.isdigit() or not psutil.pid_exists(int(earlier.name)):
            shutil.rmtree(earlier, ignore_errors=True)
    folder = folders / str(os.getpid())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)


@lru_cache(maxsize=1)
def _metrics() -> dict[str, Any]:
    from prometheus_client import Counter, Histogram

    return {
        "search": Histogram("heimdex_search_seconds", "Search latency", ["channels"], buckets=SECONDS),
        "results": Histogram("heimdex_search_results", "Moments a search returned", ["channels"], buckets=RESULTS),
        "empty": Counter("heimdex_search_empty", "Searches that found nothing", ["channels"]),
        "uploads": Counter("heimdex_uploads", "Uploads by outcome and error code", ["outcome", "code"]),
        "jobs": Counter("heimdex_jobs_ended", "Indexing jobs by how they ended", ["outcome"]),
        "job_seconds": Histogram("heimdex_job_seconds", "Indexing job duration", ["outcome"], buckets=JOB_SECONDS),
        "stage": Histogram(
            "heimdex_stage_seconds_per_video_second",
            "Seconds of compute per second of video, by indexing stage",
            ["stage"],
            buckets=RATIO,
        ),
        "stage_seconds": Counter("heimdex_stage_seconds", "Seconds spent in each indexing stage", ["stage"]),
        "video_seconds": Counter("heimdex_indexed_video_seconds", "Seconds of video indexed"),
        "retries": Counter("heimdex_job_retries", "Jobs queued again after a transient failure"),
        "lost": Counter("heimdex_lost_workers", "Jobs whose worker stopped answering (queued again)"),
        "model_load": Histogram("heimdex_model_load_seconds", "Model load time", ["role"], buckets=JOB_SECONDS),
    }


def searched(channels: tuple[str, ...], seconds: float, results: int) -> None:
    if not on():
        return
    mix = "+".join(sorted(channels)) or "all"
    found = _metrics()
    found["search"].labels(mix).observe(seconds)
    found["results"].labels(mix).observe(results)
    if not results:
        found["empty"].labels(mix).inc()


def uploaded(code: str | None) -> None:
    """An upload accepted (``code`` None) or refused with ``code``."""
    if on():
        _metrics()["uploads"].labels("refused" if code else "accepted", code or "").inc()


def job_ended(outcome: str, seconds: float) -> None:
    if on():
        _metrics()["jobs"].labels(outcome).inc()
        _metrics()["job_seconds"].labels(outcome).observe(seconds)
        if outcome == "retrying":
            _metrics()["retries"].inc()


def indexed(timings_s: dict[str, float], video_s: float) -> None:
    """One video indexed: each stage's seconds, and per second of the video."""
    if not on() or video_s <= 0:
        return
    found = _metrics()
    found["video_seconds"].inc(video_s)
    for stage, seconds in timings_s.items():
        if stage != "total":
            found["stage"].labels(stage).observe(seconds / video_s)
            found["stage_seconds"].labels(stage).inc(seconds)


def worker_lost() -> None:
    if on():
        _metrics()["lost"].inc()


def model_loaded(role: str, seconds: float) -> None:
    if on():
        _metrics()["model_load"].labels(role).observe(seconds)


class _Library:
    """Jobs by state and the queue's depth, read from the database at each scrape."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        by_state = GaugeMetricFamily("heimdex_jobs", "Indexing jobs by state", labels=["state"])
        depth = GaugeMetricFamily("heimdex_queue_depth", "Jobs waiting for a worker")
        with get_database().transaction() as conn:
            rows = conn.execute("SELECT state, count(*) AS n FROM jobs GROUP BY state").fetchall()
        counts = {row["state"]: row["n"] for row in rows}
        for state in JobState:
            by_state.add_metric([state.value], counts.get(state.value, 0))
        depth.add_metric([], counts.get("queued", 0))
        yield by_state
        yield depth


@lru_cache(maxsize=1)
def _registry():
    """What a scrape reads: every process's counts (multiprocess mode) or this process's, and the library's jobs."""
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

    _metrics()  # the families exist before the first event
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    registry.register(_Library())
    return registry


def exposition() -> tuple[bytes, str]:
    """Every metric, as Prometheus scrapes it (the body and its content type)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(_registry()), CONTENT_TYPE_LATEST


def serve(port: int) -> None:
    """A worker's metrics on ``port`` (a thread of its own)."""
    from prometheus_client import start_http_server

    start_http_server(port, registry=_registry())
