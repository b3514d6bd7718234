"""Fixtures: a real embedded PostgreSQL in a throwaway data folder, the real blob store, the shared media."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("HEIMDEX_TEST_MEDIA", ROOT.parent / "shared" / "media"))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """One data folder (and so one embedded server) for the whole run."""
    path = tmp_path_factory.mktemp("heimdex-data")
    os.environ["HEIMDEX_DATA_DIR"] = str(path)
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    return path


@pytest.fixture(scope="session")
def settings(data_dir):
    from heimdex.config import get_settings

    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def db(settings):
    from heimdex.db import close_database, get_database

    database = get_database()
    yield database
    close_database()


@pytest.fixture(scope="session")
def store(settings):
    from heimdex.storage import get_blob_store

    return get_blob_store(settings)


@pytest.fixture
def make_user(db):
    """Create a fresh local user with a unique email."""
    from heimdex.auth.users import create_user

    def make(prefix: str = "user"):
        return create_user(db, f"{prefix}-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery")

    return make


@pytest.fixture(scope="session")
def media() -> Path:
    if not MEDIA.is_dir():
        pytest.fail(f"shared test media not found at {MEDIA} (set HEIMDEX_TEST_MEDIA)")
    return MEDIA


@pytest.fixture(scope="session")
def registry(settings):
    """The offline model registry (one per test run, like one per process in production)."""
    from heimdex.models.registry import get_registry

    return get_registry()


APP_SECRET = "test-secret-key-for-signed-links"


@pytest.fixture(scope="module")
def server(settings, db, tmp_path_factory):
    """``python app.py`` on a free port, sharing the test database and blobs; jobs run in-process."""
    from heimdex.db import resolve_url

    port = free_port()
    log = (tmp_path_factory.mktemp("app") / "app.log").open("w")
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": resolve_url(settings),
           "HEIMDEX_SECRET_KEY": APP_SECRET, "HEIMDEX_QUOTA_FREE_VIDEOS": "2", "GRADIO_ANALYTICS_ENABLED": "False"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            break
        except Exception:
            if process.poll() is not None:
                pytest.fail("the app exited at start; see its log")
            time.sleep(0.5)
    yield base
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # an in-process job still running: it is a test server
        process.kill()
        process.wait()
