"""Backup and restore on real indexed media: taken while a video is being indexed, restored into a new data folder
through the CLI, the library comes back whole (the video in indexing queued again, never half) and searches alike."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from helpers import run_cli

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


def test_a_backup_taken_while_indexing_restores_whole(settings, db, store, media, tmp_path):
    from heimdex import states
    from heimdex.app import core
    from heimdex.auth.users import create_user
    from heimdex.jobs import latest_job
    from heimdex.jobs.runner import index_now
    from heimdex.library.ingest import ingest
    from heimdex.library.videos import load_video
    from heimdex.ops.backup import backup

    email = f"backup-{uuid.uuid4().hex[:8]}@example.com"
    user = create_user(db, email, PASSWORD)
    with (media / "goldeneye-vfr-drop3.mp4").open("rb") as source:
        done = ingest(db, store, settings, user.id, source, "goldeneye-vfr-drop3.mp4").video
    index_now(db, store, done.id)
    before = core.search(user, "initiate search program", 10)
    assert before["moments"] and before["total"] == len(before["moments"])
    with (media / "walkthrough_en.mp4").open("rb") as source:
        busy = ingest(db, store, settings, user.id, source, "walkthrough_en.mp4").video
    indexing = threading.Thread(target=index_now, args=(db, store, busy.id))
    indexing.start()
    deadline = time.monotonic() + 120
    while not ((job := latest_job(db, busy.id)) and job.state == states.JobState.RUNNING and job.progress > 0.05):
        assert time.monotonic() < deadline, "indexing did not start"
        time.sleep(0.1)
    try:
        manifest = backup(settings, tmp_path / "backup")
    finally:
        indexing.join()
    indexed_then = manifest["rows"]["scenes"]
    run = load_video(db, busy.id).index_run  # committed after the snapshot: none of its blobs are in the backup
    assert run and not [b for b in manifest["blobs"] if f"/r/{run}/" in b["key"]]
    assert (tmp_path / "backup" / "database.dump").is_file() and indexed_then > 0

    restored = {"HEIMDEX_DATA_DIR": str(tmp_path / "restored")}
    out = run_cli("restore", str(tmp_path / "backup"), "--json", env=restored)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rows"]["scenes"] == indexed_then
    shown = run_cli("videos", "show", str(busy.id), "--json", env=restored)
    again = json.loads(shown.stdout)
    if again["state"] == "indexed":  # the run had committed before the snapshot: all of it came back
        assert again["scene_count"] == core.video_status(user, busy.id)["scene_count"]
    else:  # it was mid-run: queued again, no scene of the unfinished run
        assert json.loads(out.stdout)["jobs_requeued"] == 1
        assert (again["state"], again["job_state"], again["scene_count"]) == ("queued", "queued", 0)
    found = run_cli("search", "--user", email, "initiate search program", "--limit", "10", "--json", env=restored)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == json.loads(json.dumps(before))  # the same moments, scores and snippets

    refused = run_cli("restore", str(tmp_path / "backup"), env=restored)
    assert refused.returncode == 2 and "already holds a library" in refused.stderr and "Traceback" not in refused.stderr
    blob = tmp_path / "backup" / "blobs" / manifest["blobs"][0]["key"]
    blob.write_bytes(blob.read_bytes() + b"x")
    damaged = run_cli("restore", str(tmp_path / "backup"), env={"HEIMDEX_DATA_DIR": str(tmp_path / "other")})
    assert damaged.returncode == 2 and "damaged" in damaged.stderr
    assert run_cli("backup", str(tmp_path / "backup")).returncode == 2  # never into a folder that holds something


def test_no_blob_is_deleted_while_a_backup_holds_its_lock(settings, db, store):
    """A deletion during a backup waits in orphan_blobs (the snapshot may name the blob); the sweep does it after."""
    import io

    import psycopg

    from heimdex.db import resolve_url
    from heimdex.library.orphans import BACKUP_LOCK, delete_blobs, sweep_orphans

    key = f"u/{uuid.uuid4()}/people/{uuid.uuid4().hex}.jpg"
    store.put(key, io.BytesIO(b"picture"))
    with psycopg.connect(resolve_url(settings), autocommit=True) as backup:
        backup.execute("SELECT pg_advisory_lock(%s)", (BACKUP_LOCK,))
        delete_blobs(db, store, [key])
        assert store.exists(key) and sweep_orphans(db, store) == 0
        backup.execute("SELECT pg_advisory_unlock(%s)", (BACKUP_LOCK,))
    sweep_orphans(db, store, limit=10_000)
    assert not store.exists(key)


def test_with_database_url_and_s3_the_same_commands_back_up_and_restore(settings, s3_server, media, tmp_path):
    """A library in a DATABASE_URL database with its blobs in S3, backed up and restored through the CLI into
    another database and another bucket: the same search, every blob back in the new bucket."""
    from heimdex.db.embedded import embedded_url

    def library(name: str) -> dict:
        return {
            **s3_server,
            "DATABASE_URL": embedded_url(settings.pg_dir, database=f"backup_{name}_{uuid.uuid4().hex[:6]}"),
            "HEIMDEX_BLOB_URL": f"s3://heimdex-{name}/library",
            "HEIMDEX_DATA_DIR": str(tmp_path / name),
        }

    source, target = library("source"), library("target")
    email = f"s3-{uuid.uuid4().hex[:8]}@example.com"
    assert run_cli("users", "add", email, "--password", PASSWORD, env=source).returncode == 0
    indexed = run_cli("index", str(media / "goldeneye-vfr-drop3.mp4"), "--user", email, env=source)
    assert indexed.returncode == 0, indexed.stderr
    before = run_cli("search", "--user", email, "initiate search program", "--json", env=source)
    assert json.loads(before.stdout)["moments"]

    made = run_cli("backup", str(tmp_path / "backup"), env=source)
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    done = run_cli("restore", str(tmp_path / "backup"), "--json", env=target)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["blobs"] == len(manifest["blobs"]) > 0
    after = run_cli("search", "--user", email, "initiate search program", "--json", env=target)
    assert json.loads(after.stdout) == json.loads(before.stdout)
    from heimdex.config import Settings
    from heimdex.storage import get_blob_store

    restored = [key for key in get_blob_store(Settings.from_env(target)).keys("") if not key.startswith("health/")]
    assert sorted(restored) == sorted(blob["key"] for blob in manifest["blobs"])  # in the other bucket
