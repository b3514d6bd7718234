"""Running it for real: health and readiness, metrics, structured logs (a launched app on a database of its own)."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid

import pytest

from helpers import launched_app, pg_ctl

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@pytest.fixture(scope="module")
def app(settings, own_database, tmp_path_factory):
    log = tmp_path_factory.mktemp("ops-app") / "app.log"
    env = {"DATABASE_URL": own_database["url"], "HEIMDEX_METRICS": "1", "HEIMDEX_LOG_FORMAT": "json"}
    with launched_app(settings, log, **env) as base:
        yield {"base": base, "log": log}


def _scrape(base: str) -> dict[str, float]:
    status, headers, body = _get(base + "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    found = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def test_metrics_move_after_an_upload_an_index_and_a_search(app, media, tmp_path):
    """Counters move with real work (an upload refused, one accepted and indexed, a search), the indexing child's
    included; nothing in them names a user, a file or a query."""
    from gradio_client import Client, handle_file

    base = app["base"]
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    token = Client(base + "/", verbose=False).predict(email, PASSWORD, api_name="/register")["access_token"]
    client = Client(base + "/", verbose=False, headers={"Authorization": f"Bearer {token}"})
    before = _scrape(base)
    notes = tmp_path / "notes.mp4"
    notes.write_text("only words\n" * 50)
    with pytest.raises(Exception, match="not a video"):
        client.predict(token, handle_file(str(notes)), "", "auto", api_name="/upload")
    video_id = client.predict(
        token, handle_file(str(media / "goldeneye-vfr-drop3.mp4")), "", "auto", api_name="/upload"
    )
    deadline = time.monotonic() + 180
    while client.predict(token, api_name="/videos")[0]["state"] != "indexed":
        assert time.monotonic() < deadline, "not indexed in time"
        time.sleep(0.5)
    client.predict(token, "zeppelin over the harbour", 5, api_name="/search")  # nothing matches: empty
    client.predict(token, "car", 5, api_name="/search")
    after = _scrape(base)

    def moved(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    assert moved('heimdex_uploads_total{code="",outcome="accepted"}') == 1
    assert moved('heimdex_uploads_total{code="not_media",outcome="refused"}') == 1
    assert moved('heimdex_search_seconds_count{channels="all"}') == 2
    assert moved('heimdex_search_results_count{channels="all"}') == 2
    assert moved('heimdex_jobs_ended_total{outcome="succeeded"}') == 1  # counted in the indexing child
    assert moved('heimdex_job_seconds_count{outcome="succeeded"}') == 1
    assert moved('heimdex_stage_seconds_per_video_second_count{stage="ocr"}') == 1
    assert moved("heimdex_indexed_video_seconds_total") == pytest.approx(10.0, abs=0.5)
    assert after['heimdex_jobs{state="succeeded"}'] >= 1 and "heimdex_queue_depth" in after
    assert any(name.startswith("heimdex_model_load_seconds_count") for name in after)
    shown = _get(base + "/metrics")[2].decode()
    for private in (email, token, video_id, "zeppelin", "goldeneye", "notes"):
        assert private not in shown


def test_logs_are_one_json_line_per_request_action_and_stage(app):
    """JSON lines with a request id, the user's id, duration and outcome; never an e-mail, a query's words, a
    signature or a public link's token."""
    status, headers, _ = _get(app["base"] + "/healthz", {"X-Request-ID": "probe-42"})
    assert status == 200 and headers["x-request-id"] == "probe-42"
    assert re.fullmatch(r"[0-9a-f]{16}", _get(app["base"] + "/healthz", {"X-Request-ID": "bad id!"})[1]["x-request-id"])
    _get(app["base"] + "/p/" + "ab" * 32)
    time.sleep(1)
    lines = [json.loads(line) for line in app["log"].read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["message"] == "request"]
    assert {"method": "GET", "path": "/healthz", "status": 200, "request_id": "probe-42"}.items() <= next(
        line for line in requests if line.get("request_id") == "probe-42"
    ).items()
    assert any(line["path"] == "/p/<token>" and line["status"] == 404 for line in requests)
    searches = [line for line in lines if line["message"] == "action" and line["action"] == "search"]
    assert searches and all(
        line["outcome"] == "ok" and "duration_ms" in line and "user_id" in line for line in searches
    )
    stages = [line for line in lines if line["message"] == "stage"]
    assert {line["stage"] for line in stages} >= {"frames", "ocr", "commit"}
    assert all(isinstance(line["job_id"], int) and line["outcome"] == "ok" for line in stages)
    jobs = [line for line in lines if line["message"] == "job"]
    assert any(line["outcome"] == "succeeded" for line in jobs)
    text = app["log"].read_text()
    for private in ("@example.com", "zeppelin", "ab" * 32, "&s=", "?u="):
        assert private not in text


def _probe_until(base: str, status: int) -> dict:
    """/readyz until it answers ``status`` (its answer is shared for 2 s, so a change shows within seconds)."""
    deadline = time.monotonic() + 20
    while True:
        answered, _, body = _get(base + "/readyz")
        if answered == status:
            return json.loads(body)
        assert time.monotonic() < deadline, f"/readyz stayed {answered}"
        time.sleep(0.5)


def test_readiness_follows_the_database(app, own_database):
    """Ready with everything up; the database stopped: not ready (503, the database failing) while the process
    still answers /healthz; started again: ready. A burst of probes shares one answer."""
    base = app["base"]
    status, headers, body = _get(base + "/readyz")
    assert status == 200 and headers["cache-control"] == "no-store"
    assert json.loads(body) == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "blob store": "ok", "models": "ok"},
    }
    assert {_get(base + "/readyz")[0] for _ in range(20)} == {200}
    pg_ctl(own_database["dir"], "stop", "-m", "fast", "-w")
    try:
        down = _probe_until(base, 503)
        assert down["checks"]["database"] == "failing" and down["status"] == "not ready"
        assert "postgres" not in json.dumps(down).lower()
        assert _get(base + "/healthz")[0] == 200
    finally:
        pg_ctl(own_database["dir"], "start", "-w", "-o", f"-k {own_database['dir']} -h ''")  # as pgserver starts it
    assert _probe_until(base, 200)["status"] == "ready"
