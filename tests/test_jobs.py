"""Jobs on a real redis-server with real worker processes: crashes, restarts, races, cancellation, S3."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from helpers import ROOT, free_port, run_cli
from helpers import restart_embedded_postgres as _restart_embedded_postgres

pytestmark = pytest.mark.e2e

STALE_S = "3"


def _wait(condition, timeout: float = 300.0, every: float = 0.2, what: str = "condition"):
    """Wait for ``condition`` (generously: a shared CI machine may be busy with other work)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


class RedisServer:
    """A redis-server on a free loopback port, without persistence: a restart forgets everything."""

    def __init__(self, folder: Path):
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is not installed (scripts/install-system-packages.sh --test installs it)")
        self.port, self.folder, self.process = free_port(), folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        from redis import Redis

        _wait(lambda: _pings(Redis.from_url(self.url)), 10, what="redis-server")

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def worker_env(redis_server, settings, db):
    from heimdex.db import resolve_url

    return {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": resolve_url(settings),
        "HEIMDEX_JOB_STALE_S": STALE_S,
        "HEIMDEX_JOB_RETRIES": "6",
        "HEIMDEX_LOG_LEVEL": "INFO",
    }


class Workers:
    """Worker processes started for a test and stopped after it."""

    def __init__(self, env: dict, logs: Path):
        self.env, self.logs, self.processes = env, logs, []

    def start(self, **env) -> subprocess.Popen:
        log = (self.logs / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=log
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def workers(worker_env, tmp_path):
    pool = Workers(worker_env, tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def queue(redis_server):
    from heimdex.jobs.queue import RqQueue

    return RqQueue(redis_server.url)


def _stored(db, store, settings, media, name: str):
    from heimdex.auth.users import create_user
    from heimdex.library.ingest import ingest

    user = create_user(db, f"jobs-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery")
    with (media / name).open("rb") as source:
        return ingest(db, store, settings, user.id, source, name).video


def _job(db, job_id: int) -> dict:
    with db.transaction() as conn:
        return conn.execute("SELECT * FROM jobs WHERE id = %s", (job_id,)).fetchone()


def _video(db, video_id) -> dict | None:
    with db.transaction() as conn:
        return conn.execute("SELECT * FROM videos WHERE id = %s", (video_id,)).fetchone()


def _scene_count(db, video_id) -> int:
    with db.transaction() as conn:
        return conn.execute("SELECT count(*) AS n FROM scenes WHERE video_id = %s", (video_id,)).fetchone()["n"]


def _runs(store, video) -> set[str]:
    from heimdex.storage import video_prefix

    return {key.split("/r/")[1].split("/")[0] for key in store.keys(video_prefix(video.user_id, video.id))}


def test_cli_enqueues_at_once_and_a_worker_indexes(workers, worker_env, db, media, make_user):
    user = make_user("enqueue")
    port = free_port()
    workers.start(HEIMDEX_METRICS="1", HEIMDEX_METRICS_PORT=str(port))
    started = time.monotonic()
    queued = run_cli("index", str(media / "goldeneye-vfr-drop3.mp4"), "--user", user.email, "--enqueue", env=worker_env)
    assert queued.returncode == 0, queued.stderr
    assert time.monotonic() - started < 30  # validated, stored, queued; nothing indexed by the CLI
    video_id = queued.stdout.strip().splitlines()[-1]

    def shown():
        out = run_cli("videos", "show", video_id, "--json", env=worker_env)
        return json.loads(out.stdout)

    first = shown()
    assert first["state"] in ("queued", "processing", "indexed") and {
        "stage",
        "progress",
        "error",
        "scene_count",
    } <= set(first)
    done = _wait(lambda: (s := shown())["state"] == "indexed" and s, what="indexed")
    assert done["scene_count"] == 2 and done["progress"] == 1.0 and done["error"] is None
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:  # the worker's own port
        scraped = answer.read().decode()
    assert 'heimdex_jobs_ended_total{outcome="succeeded"} 1.0' in scraped
    assert 'heimdex_model_load_seconds_count{role="asr"} 1.0' in scraped and "heimdex_queue_depth" in scraped


def test_a_worker_killed_mid_job_is_recovered_every_time(workers, queue, db, store, settings, media):
    from heimdex.jobs.queue import enqueue

    video = _stored(db, store, settings, media, "car-detection.mp4")
    job_id = enqueue(db, video.id, queue=queue)
    current = workers.start()
    for kill in range(3):
        _wait(lambda attempt=kill + 1: _running(db, job_id, attempt=attempt), what=f"attempt {kill + 1} running")
        spare = workers.start()  # ready to take over; its recovery notices the silence
        current.send_signal(signal.SIGKILL)
        current.wait()
        assert _video(db, video.id)["state"] in ("processing", "queued")
        current = spare
    _wait(lambda: _video(db, video.id)["state"] == "indexed", what="indexed after the kills")
    job = _job(db, job_id)
    assert job["state"] == "succeeded" and job["attempts"] == 4
    with db.transaction() as conn:
        idx = [r["idx"] for r in conn.execute("SELECT idx FROM scenes WHERE video_id = %s ORDER BY idx", (video.id,))]
    assert idx == list(range(len(idx))) and idx  # one index, no duplicates
    assert _runs(store, video) == {_video(db, video.id)["index_run"]}  # the killed runs' blobs were swept


def _running(db, job_id: int, attempt: int) -> bool:
    job = _job(db, job_id)
    return job["state"] == "running" and job["attempts"] == attempt and job["progress"] > 0.05


def test_two_workers_racing_for_one_video_index_it_once(workers, queue, db, store, settings, media):
    from heimdex import states
    from heimdex.jobs.queue import submit

    video = _stored(db, store, settings, media, "bottle-detection.mp4")
    with db.transaction() as conn:  # the same video delivered twice: a second row beside the queued one
        jobs = [states.queue(conn, video.id)]
        jobs.append(conn.execute("INSERT INTO jobs (video_id) VALUES (%s) RETURNING id", (video.id,)).fetchone()["id"])
    from rq import Worker

    workers.start()
    workers.start()
    _wait(lambda: len(Worker.all(connection=queue.redis)) == 2, timeout=300, what="both workers up and idle")
    for job_id in jobs:
        submit(db, job_id, video.duration_s, queue=queue)
    _wait(lambda: all(_job(db, j)["state"] in ("succeeded", "cancelled") for j in jobs), what="both jobs ended")
    assert sorted(_job(db, j)["state"] for j in jobs) == ["cancelled", "succeeded"]
    assert _video(db, video.id)["state"] == "indexed" and len(_runs(store, video)) == 1


def test_cancelling_queued_and_running_jobs(workers, queue, worker_env, db, store, settings, media):
    from heimdex import states
    from heimdex.jobs.queue import enqueue

    waiting = _stored(db, store, settings, media, "classroom.mp4")
    waiting_job = enqueue(db, waiting.id, queue=queue)
    with db.transaction() as conn:
        assert states.request_cancel(conn, waiting_job) == "cancelled"
    assert _video(db, waiting.id)["state"] == "uploaded"

    video = _stored(db, store, settings, media, "car-detection.mp4")
    job_id = enqueue(db, video.id, queue=queue)
    workers.start()
    _wait(lambda: _job(db, job_id)["state"] == "running", what="running")
    cancelled = run_cli("videos", "cancel", str(video.id), env=worker_env)
    assert cancelled.returncode == 0, cancelled.stderr
    _wait(lambda: _job(db, job_id)["state"] == "cancelled", what="cancelled")
    assert _video(db, video.id)["state"] == "uploaded" and _scene_count(db, video.id) == 0
    assert _runs(store, video) == set()
    assert _job(db, waiting_job)["state"] == "cancelled" and _scene_count(db, waiting.id) == 0  # the worker skipped it


def test_deleting_a_video_while_it_is_indexed_stops_its_job(workers, queue, db, store, settings, media):
    from heimdex.jobs.queue import enqueue
    from heimdex.library.videos import delete_video
    from heimdex.storage import video_prefix

    video = _stored(db, store, settings, media, "car-detection.mp4")
    job_id = enqueue(db, video.id, queue=queue)
    workers.start()
    _wait(lambda: _job(db, job_id)["state"] == "running", what="running")
    from rq.job import Job

    queued_as = _job(db, job_id)["queue_id"]
    delete_video(db, store, video.user_id, video.id)
    finished = _wait(
        lambda: (
            Job.fetch(queued_as, connection=queue.redis).get_status(refresh=True) == "finished"
            and Job.fetch(queued_as, connection=queue.redis)
        ),
        what="the run to stop",
    )
    assert finished.return_value() == "cancelled"  # it stopped at a heartbeat, not at the end of its work
    assert _video(db, video.id) is None
    assert list(store.keys(video_prefix(video.user_id, video.id))) == []
    with db.transaction() as conn:
        assert conn.execute("SELECT count(*) AS n FROM scenes WHERE video_id = %s", (video.id,)).fetchone()["n"] == 0


def test_a_permanent_failure_is_not_retried(workers, queue, db, store, settings, media):
    from heimdex.jobs.queue import enqueue

    video = _stored(db, store, settings, media, "classroom.mp4")
    path = store.local_path(video.blob_key)
    path.write_bytes(path.read_bytes()[:2000])  # the stored file is damaged after upload
    job_id = enqueue(db, video.id, queue=queue)
    workers.start()
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    queued_as = _job(db, job_id)["queue_id"]
    _wait(
        lambda: Job.fetch(queued_as, connection=queue.redis).get_status(refresh=True) == "finished",
        what="the run to end",
    )
    assert Job.fetch(queued_as, connection=queue.redis).return_value() == "failed"  # not "retrying"
    assert (
        queue.queue.count == 0 and ScheduledJobRegistry(queue=queue.queue).count == 0
    )  # and nothing waits for a retry
    job, row = _job(db, job_id), _video(db, video.id)
    assert job["attempts"] == 1 and job["state"] == "failed"
    assert row["state"] == "failed" and row["error_stage"] and row["error_message"]


def test_redis_restart_during_a_job(workers, queue, redis_server, db, store, settings, media):
    from heimdex.jobs.queue import enqueue

    video = _stored(db, store, settings, media, "car-detection.mp4")
    job_id = enqueue(db, video.id, queue=queue)
    workers.start()
    _wait(lambda: _job(db, job_id)["state"] == "running", what="running")
    redis_server.stop()
    _wait(lambda: _job(db, job_id)["state"] in ("succeeded", "failed"), what="job ended without Redis")
    redis_server.start()  # empty: it forgot every queue
    assert _job(db, job_id)["state"] == "succeeded" and _scene_count(db, video.id) > 0
    later = _stored(db, store, settings, media, "classroom.mp4")
    later_job = enqueue(db, later.id, queue=queue)
    _wait(lambda: _job(db, later_job)["state"] == "succeeded", what="the same worker, reconnected, indexes the next")


def test_postgres_restart_during_a_job(workers, queue, db, store, settings, media):
    from heimdex.jobs.queue import enqueue

    video = _stored(db, store, settings, media, "car-detection.mp4")
    job_id = enqueue(db, video.id, queue=queue)
    workers.start()
    _wait(lambda: _job(db, job_id)["state"] == "running" and _job(db, job_id)["progress"] > 0.05, what="running")
    _restart_embedded_postgres(settings.pg_dir)
    _wait(
        lambda: _reachable(lambda: _video(db, video.id)["state"] == "indexed"),
        timeout=180,
        what="indexed after restart",
    )
    with db.transaction() as conn:
        idx = [r["idx"] for r in conn.execute("SELECT idx FROM scenes WHERE video_id = %s ORDER BY idx", (video.id,))]
    assert idx == list(range(len(idx))) and idx
    assert _runs(store, video) == {_video(db, video.id)["index_run"]}


def _reachable(check) -> bool:
    try:
        return check()
    except Exception:
        return False


def test_in_process_mode_runs_the_same_job(db, store, settings, media):
    from heimdex.jobs.queue import LocalQueue, enqueue

    video = _stored(db, store, settings, media, "goldeneye-vfr-drop3.mp4")
    job_id = enqueue(db, video.id, queue=LocalQueue(nice=settings.job_nice))  # the suite's priority (conftest)
    _wait(lambda: _job(db, job_id)["state"] == "succeeded", what="in-process job")
    assert _scene_count(db, video.id) == 2


def _s3_store(s3_env: dict, blob_url: str):
    from heimdex.config import Settings
    from heimdex.storage import get_blob_store

    return get_blob_store(Settings.from_env({**s3_env, "HEIMDEX_BLOB_URL": blob_url}))


def test_s3_store_streams_and_keeps_the_key_rules(s3_server, media):
    import io

    from heimdex.storage import S3BlobStore, source_key

    store = _s3_store(s3_server, "s3://store-test/lib")
    assert isinstance(store, S3BlobStore) and store.local_path("u/x") is None
    user = uuid.uuid4()
    key = source_key(user, "a" * 64)
    with (media / "bottle-detection.mp4").open("rb") as source:
        size = store.put(key, source)
    assert size == (media / "bottle-detection.mp4").stat().st_size and store.exists(key)
    with store.open(key) as blob:
        assert blob.read() == (media / "bottle-detection.mp4").read_bytes()
    store.put(f"u/{user}/v/{uuid.uuid4()}/r/run1/kf/0000-0.jpg", io.BytesIO(b"jpeg"))
    assert len(list(store.keys(f"u/{user}/"))) == 2
    assert store.delete_prefix(f"u/{user}/v/") == 1 and list(store.keys(f"u/{user}/")) == [key]
    store.delete(key)
    assert not store.exists(key)
    for bad in ("../etc/passwd", "u/../x", "U/Upper", "/abs"):
        with pytest.raises(ValueError):
            store.put(bad, io.BytesIO(b"x"))


def test_a_worker_on_another_machine_reads_the_video_only_through_s3(
    s3_server, worker_env, workers, tmp_path, media, make_user, db
):
    user = make_user("s3")
    shared = {"HEIMDEX_BLOB_URL": "s3://heimdex-shared/videos", **s3_server}
    app_env = {**worker_env, **shared}
    queued = run_cli("index", str(media / "subtitles_ko.mp4"), "--user", user.email, "--enqueue", env=app_env)
    assert queued.returncode == 0, queued.stderr
    video_id = uuid.UUID(queued.stdout.strip().splitlines()[-1])
    elsewhere = tmp_path / "other-machine"  # no blobs here: the worker has only S3
    workers.start(HEIMDEX_DATA_DIR=str(elsewhere), **shared)
    _wait(lambda: (_video(db, video_id) or {}).get("state") == "indexed", what="indexed via S3")
    store = _s3_store(s3_server, shared["HEIMDEX_BLOB_URL"])
    video = _video(db, video_id)
    keys = list(store.keys(f"u/{video['user_id']}/"))
    assert any(k.endswith("index.json") for k in keys) and any(k.endswith(".jpg") for k in keys)
    assert not (elsewhere / "blobs").exists() or not any((elsewhere / "blobs").rglob("*.jpg"))
    shown = json.loads(run_cli("videos", "show", str(video_id), "--json", env=app_env).stdout)
    assert shown["scene_count"] == 2


def test_jobs_queued_without_a_queue_run_when_the_app_starts(db, store, settings, media, make_user):
    from heimdex.jobs import resume
    from heimdex.jobs.queue import DeferredQueue, enqueue, reset_queue

    video = _stored(db, store, settings, media, "goldeneye-vfr-drop3.mp4")
    job_id = enqueue(db, video.id, queue=DeferredQueue())  # the CLI without Redis: the row waits
    assert _job(db, job_id)["state"] == "queued" and _video(db, video.id)["state"] == "queued"
    reset_queue()
    try:
        assert job_id in resume()  # what app.py does at start (in-process executor, no REDIS_URL)
        _wait(lambda: _job(db, job_id)["state"] == "succeeded", what="resumed job")
    finally:
        reset_queue()
    assert _scene_count(db, video.id) == 2


def test_cancelling_a_job_whose_worker_died_ends_it(db, store, settings, media):
    """Issue 13, defect 7: a job orphaned mid-run and then cancelled ends as cancelled; its video is not left queued."""
    from heimdex import states
    from heimdex.jobs.queue import DeferredQueue, enqueue
    from heimdex.jobs.recovery import recover

    video = _stored(db, store, settings, media, "goldeneye-vfr-drop3.mp4")
    job_id = enqueue(db, video.id, queue=DeferredQueue())
    with db.transaction() as conn:  # a worker claimed it, then died: its heartbeat is long silent
        conn.execute(
            "UPDATE jobs SET state = 'running', heartbeat_at = now() - interval '1 hour' WHERE id = %s", (job_id,)
        )
        conn.execute("UPDATE videos SET state = 'processing' WHERE id = %s", (video.id,))
    with db.transaction() as conn:
        assert states.request_cancel(conn, job_id) == "running"  # the request waits for a heartbeat that never comes
    assert job_id in recover(db, DeferredQueue(), settings)
    assert _job(db, job_id)["state"] == "cancelled" and _video(db, video.id)["state"] == "uploaded"
    assert recover(db, DeferredQueue(), settings) == []  # and nothing is queued again


def test_a_queued_job_cancelled_between_tries_is_not_skipped_forever(db, store, settings, media):
    from heimdex.jobs.queue import DeferredQueue, enqueue
    from heimdex.jobs.runner import run_job

    video = _stored(db, store, settings, media, "goldeneye-vfr-drop3.mp4")
    job_id = enqueue(db, video.id, queue=DeferredQueue())
    with db.transaction() as conn:  # requeued for a retry, with a cancel request that arrived meanwhile
        conn.execute("UPDATE jobs SET cancel_requested = true WHERE id = %s", (job_id,))
    assert run_job(job_id) == "cancelled"
    assert _job(db, job_id)["state"] == "cancelled" and _video(db, video.id)["state"] == "uploaded"
