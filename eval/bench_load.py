"""Load: N people searching at once while two videos index, against an app this launches on loopback.

    python -m eval.bench_load [--searchers 50] [--seconds 60] [--data DIR] [--json]

It starts ``python app.py`` on a free loopback port with its own data folder (no
Redis: jobs run in the app's low-priority child process), signs up one user,
indexes three shared clips as the library, times 40 searches one after another
(idle), then uploads two more videos and, while they index, runs ``--searchers``
threads that each search again as soon as an answer arrives (no pause: a closed
loop, harsher than people) for ``--seconds``. Searches go through the public API as
plain HTTP (``POST /gradio_api/run/search``, answered directly). It prints throughput, p50/p95/p99,
errors and whether both jobs finished; ``--json`` prints one JSON object last:
``{"searches", "errors", "p50_ms", "p95_ms", "p99_ms", "idle_p95_ms", "jobs_done"}``.
The app is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("HEIMDEX_TEST_MEDIA", ROOT.parent / "shared" / "media"))
LIBRARY = ("walkthrough_en.mp4", "subtitles_ko.mp4", "goldeneye-vfr-drop3.mp4")
INDEXED_DURING = ("car-detection.mp4", "person-bicycle-car-detection.mp4")
QUERIES = (
    "ask not what your country",
    "red car",
    "비상구",
    "Initiate Search Program",
    "a person walking",
    "bottle on a table",
    "keyboard and screen",
    "at night",
    "사람",
    "computer",
)
PASSWORD = "correct horse battery staple"


def _http(url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 120.0) -> bytes:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return answer.read()


def call(base: str, name: str, *args, headers: dict | None = None) -> object:
    """One API call as any HTTP client makes it; raises RuntimeError with the message for an error event."""
    posted = _http(
        f"{base}/gradio_api/call/{name}",
        json.dumps({"data": list(args)}).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )
    stream = _http(f"{base}/gradio_api/call/{name}/{json.loads(posted)['event_id']}", headers=headers).decode()
    event = data = None
    for line in stream.splitlines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
    if event != "complete":
        raise RuntimeError(data)
    return json.loads(data)[0]


class Searcher:
    """One person's client: a kept-alive connection (as browsers keep one) and a session (``session_hash``, which
    gradio_client and browsers always send); each search is one POST, answered directly (the endpoint skips the queue)."""

    def __init__(self, base: str, token: str):
        import http.client
        from urllib.parse import urlsplit

        address = urlsplit(base)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
        self.token, self.session = token, uuid.uuid4().hex

    def search(self, query: str) -> dict:
        body = json.dumps({"data": [self.token, query, 10, ""], "session_hash": self.session})
        self.connection.request("POST", "/gradio_api/run/search", body, {"Content-Type": "application/json"})
        answer = self.connection.getresponse()
        data = answer.read()
        if answer.status != 200:
            raise RuntimeError(data[:200].decode(errors="replace"))
        return json.loads(data)["data"][0]

    def close(self) -> None:
        self.connection.close()


def upload(base: str, token: str, path: Path) -> str:
    boundary = uuid.uuid4().hex
    body = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n\r\n').encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    auth = {"Authorization": f"Bearer {token}"}
    staged = json.loads(
        _http(f"{base}/gradio_api/upload", body, {"Content-Type": f"multipart/form-data; boundary={boundary}", **auth})
    )
    return call(
        base, "upload", token, {"path": staged[0], "meta": {"_type": "gradio.FileData"}}, "", "auto", headers=auth
    )


def start_app(data_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "HEIMDEX_DATA_DIR": str(data_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "HEIMDEX_SEARCH_LIMIT": "100000",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            _http(base + "/", timeout=2)
            return process, base
        except Exception:
            if process.poll() is not None:
                raise SystemExit(f"the app exited at start; see {log}") from None
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the app did not start in time")


def states(base: str, token: str) -> dict[str, str]:
    return {v["video_id"]: v["state"] for v in call(base, "videos", token)}


def wait_indexed(base: str, token: str, ids: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = states(base, token)
        if all(now.get(i) in ("indexed", "failed") for i in ids):
            return all(now.get(i) == "indexed" for i in ids)
        time.sleep(1.0)
    return False


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--searchers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: a new temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    data_dir = args.data or Path(tempfile.mkdtemp(prefix="heimdex-load-"))
    log = data_dir.parent / f"{data_dir.name}-app.log"
    process, base = start_app(data_dir, log)
    try:
        token = call(base, "register", f"load-{uuid.uuid4().hex[:8]}@example.com", PASSWORD)
        library = [upload(base, token, MEDIA / name) for name in LIBRARY]
        if not wait_indexed(base, token, library, 600):
            raise SystemExit("the library did not index")
        idle, alone = [], Searcher(base, token)
        for query in QUERIES * 4:
            started = time.perf_counter()
            alone.search(query)
            idle.append(time.perf_counter() - started)
        alone.close()

        busy = [upload(base, token, MEDIA / name) for name in INDEXED_DURING]
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def searcher(seed: int) -> None:
            rng, person = random.Random(seed), Searcher(base, token)
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    person.search(rng.choice(QUERIES))
                    with lock:
                        latencies.append(time.perf_counter() - started)
                except (RuntimeError, OSError) as exc:
                    with lock:
                        errors.append(str(exc)[:200])
                    person.close()
                    person = Searcher(base, token)
            person.close()

        threads = [threading.Thread(target=searcher, args=(n,)) for n in range(args.searchers)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        busy_during = {states(base, token).get(i) for i in busy}
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        jobs_done = wait_indexed(base, token, busy, 900)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    result = {
        "searches": len(latencies),
        "errors": len(errors),
        "p50_ms": round(1000 * statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1) if latencies else None,
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1) if latencies else None,
        "idle_p95_ms": round(1000 * percentile(idle, 0.95), 1),
        "jobs_done": jobs_done,
    }
    print(
        f"{args.searchers} searchers for {elapsed:.0f} s while {len(busy)} videos indexed "
        f"(states when the load began: {', '.join(sorted(s or '?' for s in busy_during))})"
    )
    print(f"  searches {result['searches']} ({result['searches'] / elapsed:.1f}/s), errors {result['errors']}")
    print(f"  latency p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms")
    print(f"  idle (one at a time): p50 {1000 * statistics.median(idle):.1f} ms, p95 {result['idle_p95_ms']} ms")
    print(f"  both jobs finished: {jobs_done}")
    if errors:
        print("  first errors:", *sorted(set(errors))[:3], sep="\n    ")
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
