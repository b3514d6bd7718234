"""The command line, run as a user would: a child process, real database, real files."""

import json
import uuid

import pytest

from helpers import run_cli

pytestmark = pytest.mark.e2e


def test_users_ingest_list_delete(data_dir, db, media):
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    added = run_cli("users", "add", email, "--password", "correct horse")
    assert added.returncode == 0, added.stderr
    uuid.UUID(added.stdout.strip())

    again = run_cli("users", "add", email.upper(), "--password", "correct horse")
    assert again.returncode == 2 and "could not be made" in again.stderr  # the same words as any refusal

    ingested = run_cli("ingest", str(media / "counter.mp4"), "--user", email, "--title", "Counter")
    assert ingested.returncode == 0, ingested.stderr
    video_id = ingested.stdout.strip()

    listed = run_cli("videos", "list", "--user", email, "--json")
    assert listed.returncode == 0, listed.stderr
    [video] = json.loads(listed.stdout)
    assert (video["video_id"], video["title"], video["state"]) == (video_id, "Counter", "uploaded")

    trashed = run_cli("videos", "delete", video_id)
    assert trashed.returncode == 0 and "Trash" in trashed.stdout
    assert json.loads(run_cli("videos", "list", "--user", email, "--json").stdout) == []
    missing = run_cli("videos", "delete", video_id)  # in the Trash: no such video in the library
    assert missing.returncode == 2 and "No video" in missing.stderr
    assert run_cli("videos", "delete", video_id, "--forever").returncode == 0
    gone = run_cli("videos", "delete", video_id, "--forever")
    assert gone.returncode == 2 and "No video" in gone.stderr


def test_bad_input_exits_2_with_a_message(data_dir, db, media, tmp_path):
    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    assert run_cli("users", "add", email, "--password", "correct horse").returncode == 0
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    cases = [
        (("ingest", str(notes), "--user", email), "not a video file"),
        (("ingest", str(media / "jfk.flac"), "--user", email), "no video track"),
        (("ingest", str(tmp_path / "absent.mp4"), "--user", email), "No such file"),
        (("ingest", str(media / "classroom.mp4"), "--user", "nobody@example.com"), "No user"),
        (("users", "add", "not-an-email", "--password", "correct horse"), "valid email"),
        (("users", "add", "x@example.com", "--password", "short"), "at least 8"),
        (("videos", "delete", "not-an-id"), "No video"),
    ]
    for args, message in cases:
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
    limited = run_cli(
        "ingest", str(media / "walkthrough_en.mp4"), "--user", email, env={"HEIMDEX_MAX_DURATION_S": "30"}
    )
    assert limited.returncode == 2 and "1:12 long" in limited.stderr


def test_doctor_reports_the_database_up(data_dir, db):
    done = run_cli("doctor", "--json")
    assert done.returncode == 0, done.stderr
    checks = {check["name"]: check for check in json.loads(done.stdout)}
    assert checks["database"]["ok"] and "pgvector 0.8.5" in checks["database"]["detail"]
    assert checks["database"]["detail"].startswith("PostgreSQL 16.14")
    assert checks["data dir"]["ok"]
    assert checks["redis"]["detail"].startswith("not configured")


def test_doctor_fails_when_the_database_is_unreachable(data_dir):
    done = run_cli("doctor", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"})
    assert done.returncode == 1
    assert "[FAIL] database" in done.stdout


def test_an_older_releases_graph_is_reported_and_rebuilt(data_dir, db):
    """An index built with pgvector's defaults (an older release's) is named by the doctor, and ``db rebuild-graph``
    builds it again with today's settings beside it, then drops the old one."""
    from heimdex.db.vectors import HNSW_EF_CONSTRUCTION, ensure_vector_index, index_names, stale_indexes

    with db.transaction() as conn:
        model = conn.execute(
            "INSERT INTO embedding_models (name, version, dim) VALUES ('graph-test', '1', 8) RETURNING id"
        ).fetchone()["id"]
        ensure_vector_index(conn, model, 8)
        name = index_names(model)[0]
        conn.execute(f"DROP INDEX {name}")
        conn.execute(
            f"CREATE INDEX {name} ON scene_vectors USING hnsw ((embedding::halfvec(8)) halfvec_cosine_ops) "
            f"WITH (m = 16, ef_construction = 64) WHERE model_id = {model} AND channel = 'transcript'"
        )
        assert stale_indexes(conn) == [name]
    try:
        doctor = {c["name"]: c for c in json.loads(run_cli("doctor", "--json").stdout)}["vector indexes"]
        assert not doctor["ok"] and name in doctor["detail"] and "db rebuild-graph" in doctor["detail"]

        wrong = run_cli("db", "rebuild-graph", "--memory", "lots")
        assert wrong.returncode == 2 and "not a size" in wrong.stderr and "Traceback" not in wrong.stderr
        done = run_cli("db", "rebuild-graph", "--memory", "256MB")
        assert done.returncode == 0, done.stderr
        assert name in done.stdout
        with db.transaction() as conn:
            assert stale_indexes(conn) == []
            options = conn.execute("SELECT reloptions FROM pg_class WHERE relname = %s", (name,)).fetchone()
            assert f"ef_construction={HNSW_EF_CONSTRUCTION}" in options["reloptions"]
            left = conn.execute("SELECT count(*) AS n FROM pg_class WHERE relname LIKE %s", (f"{name}%",)).fetchone()
            assert left["n"] == 1  # no old copy left behind
        with db.transaction() as conn:  # a rebuild cut short after its new index was built: the old copy stayed
            conn.execute(
                f"CREATE INDEX {name}_old ON scene_vectors USING hnsw ((embedding::halfvec(8)) halfvec_cosine_ops) "
                f"WITH (m = 16, ef_construction = 64) WHERE model_id = {model} AND channel = 'transcript'"
            )
            assert stale_indexes(conn) == [f"{name}_old"]
        assert run_cli("db", "rebuild-graph").stdout.startswith("every vector index")
        with db.transaction() as conn:
            assert stale_indexes(conn) == []  # the old copy dropped, the new index kept
        doctor = {c["name"]: c for c in json.loads(run_cli("doctor", "--json").stdout)}["vector indexes"]
        assert doctor["ok"], doctor
    finally:
        with db.transaction() as conn:
            for index in index_names(model):
                conn.execute(f"DROP INDEX IF EXISTS {index}, {index}_old")
            conn.execute("DELETE FROM embedding_models WHERE id = %s", (model,))
