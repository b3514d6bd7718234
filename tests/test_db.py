import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from heimdex.auth.users import delete_user
from heimdex.db.embedded import create_database
from heimdex.db.migrate import applied, available, migrate
from heimdex.errors import HeimdexError
from heimdex.library.ingest import ingest
from heimdex.library.videos import delete_video
from heimdex.storage import video_prefix
from helpers import ROOT, snapshot

pytestmark = pytest.mark.integration


def fresh_database_url(db) -> str:
    """A new, empty database on the same server."""
    params = conninfo_to_dict(db.url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    create_database(make_conninfo(**{**params, "dbname": "postgres"}), name)
    return make_conninfo(**{**params, "dbname": name})


def test_migrations_apply_once(db):
    url = fresh_database_url(db)
    with psycopg.connect(url) as conn:
        first = migrate(conn)
        second = migrate(conn)
        assert first == [f"{m.version:03d}_{m.name}" for m in available()]
        assert second == []
        assert applied(conn) == first


def test_parallel_migrations_are_safe(db):
    url = fresh_database_url(db)
    code = (
        "import sys, psycopg; from heimdex.db.migrate import migrate; print(len(migrate(psycopg.connect(sys.argv[1]))))"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code, url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    counts = [int(w.communicate(timeout=60)[0]) for w in workers]
    assert all(w.returncode == 0 for w in workers)
    assert sorted(counts) == [0, 0, 0, len(available())]
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] == len(available())


def test_an_edited_migration_is_refused(db, tmp_path: Path):
    url = fresh_database_url(db)
    (tmp_path / "001_first.sql").write_text("CREATE TABLE t (x int);")
    with psycopg.connect(url) as conn:
        migrate(conn, tmp_path)
        (tmp_path / "001_first.sql").write_text("CREATE TABLE t (x bigint);")
        with pytest.raises(HeimdexError, match="changed after it was applied"):
            migrate(conn, tmp_path)


def _fill_derived_rows(db, store, user, video):
    """Everything indexing and faces will hang off a video and a user, one row each."""
    with db.transaction() as conn:
        scene = conn.execute(
            "INSERT INTO scenes (video_id, user_id, idx, start_s, end_s, transcript) VALUES (%s, %s, 0, 0, 2, 'hi') RETURNING id",
            (video.id, user.id),
        ).fetchone()["id"]
        model = conn.execute(
            """INSERT INTO embedding_models (name, version, dim) VALUES ('test-model', '1', 3)
               ON CONFLICT (name, version) DO UPDATE SET dim = 3 RETURNING id"""
        ).fetchone()["id"]
        conn.execute(
            "INSERT INTO scene_vectors (scene_id, user_id, model_id, channel, embedding) VALUES (%s, %s, %s, 'transcript', %s)",
            (scene, user.id, model, np.array([0.1, 0.2, 0.3], dtype=np.float32)),
        )
        conn.execute("INSERT INTO jobs (video_id) VALUES (%s)", (video.id,))
        person = conn.execute(
            "INSERT INTO people (user_id, name) VALUES (%s, %s) RETURNING id",
            (user.id, f"Minji {video.id}"),  # names are unique
        ).fetchone()["id"]
        conn.execute(
            """INSERT INTO faces (user_id, scene_id, person_id, box, descriptor, quality)
               VALUES (%s, %s, %s, '{1,2,3,4}', %s, 0.9)""",
            (user.id, scene, person, np.zeros(128, dtype=np.float32)),
        )
        conn.execute("INSERT INTO scene_people (scene_id, person_id, distance) VALUES (%s, %s, 0.3)", (scene, person))
        conn.execute("INSERT INTO audit_events (user_id, event) VALUES (%s, 'upload')", (user.id,))
        conn.execute(
            "INSERT INTO rate_limits (bucket, at, user_id) VALUES (%s, now(), %s)",
            (f"search:{user.id}", user.id),
        )
        conn.execute(
            "INSERT INTO sessions (user_id, token_hash, expires_at) VALUES (%s, %s, now() + interval '1 day')",
            (user.id, uuid.uuid4().bytes),
        )
    store.put(video_prefix(user.id, video.id) + "keyframes/0.jpg", io.BytesIO(b"jpeg"))


def _without_global(snap: dict) -> dict:
    snap["rows"].pop("embedding_models")
    return snap


def test_deleting_a_user_removes_every_row_and_blob(db, store, settings, make_user, media):
    bystander = make_user("bystander")
    with (media / "classroom.mp4").open("rb") as f:
        ingest(db, store, settings, bystander.id, f, "classroom.mp4")
    before = _without_global(snapshot(db, store))

    user = make_user("leaving")
    for name in ("classroom.mp4", "people-detection.mp4"):
        with (media / name).open("rb") as f:
            video = ingest(db, store, settings, user.id, f, name).video
        _fill_derived_rows(db, store, user, video)
    assert _without_global(snapshot(db, store)) != before

    delete_user(db, store, user.id)
    assert _without_global(snapshot(db, store)) == before


def test_deleting_a_video_removes_its_rows_and_blobs_only(db, store, settings, make_user, media):
    user = make_user()
    with (media / "classroom.mp4").open("rb") as f:
        keep = ingest(db, store, settings, user.id, f, "classroom.mp4").video
    before = snapshot(db, store)
    with (media / "people-detection.mp4").open("rb") as f:
        gone = ingest(db, store, settings, user.id, f, "people-detection.mp4").video
    _fill_derived_rows(db, store, user, gone)

    delete_video(db, store, user.id, gone.id)
    after = snapshot(db, store)
    assert after["blobs"] == before["blobs"]
    for table in ("videos", "scenes", "scene_vectors", "jobs", "faces", "scene_people"):
        assert after["rows"][table] == before["rows"][table], table
    assert store.exists(keep.blob_key)


def test_embedded_server_keeps_data_across_restarts(tmp_path):
    """Each child process starts the server, and it stops when the process ends; the data stays."""
    env_dir = tmp_path / "data"
    code_write = "from heimdex.db import get_database; from heimdex.auth.users import create_user; create_user(get_database(), 'keep@example.com', 'correct horse')"
    code_read = "from heimdex.db import get_database; from heimdex.auth.users import get_user_by_email; print(get_user_by_email(get_database(), 'keep@example.com').email)"
    env = {**os.environ, "HEIMDEX_DATA_DIR": str(env_dir)}
    subprocess.run([sys.executable, "-c", code_write], cwd=ROOT, env=env, check=True, timeout=120)
    read = subprocess.run(
        [sys.executable, "-c", code_read], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == "keep@example.com"
    assert (env_dir / "pg" / "PG_VERSION").is_file()
