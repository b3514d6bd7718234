"""What an indexed minute and a thousand searches cost, from measured work, at stated list prices.

    python -m eval.cost [--minutes 10] [--video PATH] [--searches 200] [--json]

One child process, in a throwaway data folder, loads the models (untimed), then ingests and
indexes the benchmark video of :mod:`eval.bench_index` (``--minutes`` of 1080p30 with speech;
``--video`` for another file) and runs ``--searches`` searches over it (the labeled queries of
``eval/sets/queries.jsonl``, round robin). It counts CPU-seconds (its own, its children's and
the database server's), peak memory, wall time, the bytes stored per kind (video, proxy,
keyframes, face pictures, sidecar; the database's tables with their indexes) and the rows.

The prices are list prices with their sources in docs/benchmarks.md (``--cpu-price`` and the others
override them). CPU: the CPU-seconds billed at a vCPU-hour price (a worker kept busy); the
wall-clock figure (one 2-vCPU machine held for the whole run) is printed beside it. GPU: an
ESTIMATE until measured on a GPU: the model stages (speech, screen text, vision, faces, text)
run ``--gpu-speedup`` times faster, every other stage as measured here, the stages summed as if
one ran after another (speech runs beside frame decoding, so this errs high), on the card's
hourly price.
Storage is per month, apart from the one-off compute.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from eval.bench_index import MEDIA, build_video, child_json

QUERIES = Path(__file__).resolve().parent / "sets" / "queries.jsonl"

# List prices (USD), with the page each comes from (docs/benchmarks.md: Cost per indexed minute).
CPU_USD_PER_VCPU_HOUR = 0.0335  # Hugging Face Inference Endpoints, aws intel-spr x2: $0.067/h for 2 vCPU, 4 GB
GPU_USD_PER_HOUR = {  # Hugging Face Spaces hardware (docs/hub/spaces-gpus)
    "Nvidia T4 small": 0.40,
    "Nvidia L4 x1": 0.80,
    "Nvidia A10G small": 1.00,
    "Nvidia L40S x1": 1.80,
}
BLOB_USD_PER_GB_MONTH = 0.023  # Amazon S3 Standard, us-east-1, first 50 TB (aws.amazon.com/s3/pricing)
DB_USD_PER_GB_MONTH = 0.125  # Supabase disk beyond the plan's (supabase.com/pricing)
GPU_SPEEDUP = 10.0  # assumed for the model stages until measured on a GPU
MODEL_STAGES = ("transcribe", "embed", "visual", "faces", "ocr")


def _cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _server_cpu_s(pg_dir: Path) -> float:
    """CPU-seconds of the embedded PostgreSQL server and its backends so far."""
    import psutil

    try:
        pid = int((pg_dir / "postmaster.pid").read_text().split()[0])
        server = psutil.Process(pid)
        total = 0.0
        for process in [server, *server.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
            except psutil.NoSuchProcess:
                continue
        return total
    except (OSError, ValueError, psutil.Error):
        return 0.0


def _kind(key: str) -> str:
    if "/src/" in key:
        return "video"
    if key.endswith("proxy.mp4"):
        return "proxy"
    if "/kf/" in key:
        return "keyframes"
    if "/faces/" in key:
        return "face pictures"
    if key.endswith((".json", ".json.gz")):
        return "sidecar"
    return "other"


def measure(video: Path, searches: int, data: Path) -> dict:
    """In the empty data folder ``data``: index ``video``, run ``searches`` searches; the work and what it left."""
    os.environ["HEIMDEX_DATA_DIR"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    from heimdex.app import core
    from heimdex.auth.users import create_user
    from heimdex.config import get_settings
    from heimdex.db import close_database, get_database
    from heimdex.jobs.runner import index_now
    from heimdex.library.ingest import ingest
    from heimdex.models.registry import get_registry
    from heimdex.storage import get_blob_store

    registry = get_registry()
    for role in registry.specs:
        registry.get(role)
    settings = get_settings()
    db, store = get_database(), get_blob_store(settings)
    user = create_user(db, "cost@example.com", "correct horse battery")

    cpu, server, wall = _cpu_s(), _server_cpu_s(settings.pg_dir), time.perf_counter()
    with video.open("rb") as source:
        stored = ingest(db, store, settings, user.id, source, video.name).video
    report = index_now(db, store, stored.id)
    indexing = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": _cpu_s() - cpu,
        "db_cpu_s": _server_cpu_s(settings.pg_dir) - server,
        "stages_s": report.timings_s,
    }

    queries = [json.loads(line)["query"] for line in QUERIES.read_text().splitlines() if line.strip()]
    cpu, server, wall = _cpu_s(), _server_cpu_s(settings.pg_dir), time.perf_counter()
    for i in range(searches):
        core.search(user, queries[i % len(queries)], 10)
    searching = {
        "searches": searches,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": _cpu_s() - cpu,
        "db_cpu_s": _server_cpu_s(settings.pg_dir) - server,
    }

    blobs: dict[str, int] = {}
    for key in store.keys(""):
        path = store.local_path(key)
        blobs[_kind(key)] = blobs.get(_kind(key), 0) + (path.stat().st_size if path else 0)
    with db.transaction() as conn:
        tables = conn.execute(
            "SELECT relname AS name, n_live_tup AS rows, pg_total_relation_size(relid) AS bytes"
            " FROM pg_stat_user_tables ORDER BY bytes DESC"
        ).fetchall()
    close_database()
    return {
        "video_s": stored.duration_s,
        "indexing": indexing,
        "searching": searching,
        "blob_bytes": blobs,
        "db_tables": {t["name"]: {"rows": t["rows"], "bytes": t["bytes"]} for t in tables},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def price(measured: dict, cpu_price: float, gpu_prices: dict[str, float], speedup: float) -> dict:
    """Dollars from the measured work: per indexed minute (compute, and storage per month) and per 1,000 searches."""
    minutes = measured["video_s"] / 60
    index = measured["indexing"]
    cpu_s = index["cpu_s"] + index["db_cpu_s"]
    blob_gb = sum(measured["blob_bytes"].values()) / 1e9
    db_gb = sum(t["bytes"] for t in measured["db_tables"].values()) / 1e9
    storage = (blob_gb * BLOB_USD_PER_GB_MONTH + db_gb * DB_USD_PER_GB_MONTH) / minutes
    search = measured["searching"]
    search_cpu_s = (search["cpu_s"] + search["db_cpu_s"]) / max(search["searches"], 1)
    per_1000 = 1000 * search_cpu_s / 3600 * cpu_price
    cpu = {
        "usd_per_indexed_minute": cpu_s / 3600 * cpu_price / minutes,
        "usd_per_indexed_minute_wall_2vcpu": index["wall_s"] * 2 / 3600 * cpu_price / minutes,
        "usd_per_1000_searches": per_1000,
        "storage_usd_per_indexed_minute_month": storage,
        "cpu_s_per_indexed_minute": cpu_s / minutes,
        "usd_per_vcpu_hour": cpu_price,
    }
    stages = {k: v for k, v in index["stages_s"].items() if k != "total"}
    model_s = sum(v for k, v in stages.items() if k in MODEL_STAGES)
    other_s = sum(v for k, v in stages.items() if k not in MODEL_STAGES)
    gpu_wall_s = other_s + model_s / speedup
    gpu = {
        "estimate": True,
        "assumed_model_speedup": speedup,
        "wall_s_per_indexed_minute": gpu_wall_s / minutes,
        "cards": {
            card: {"usd_per_hour": hourly, "usd_per_indexed_minute": gpu_wall_s / 3600 * hourly / minutes}
            for card, hourly in gpu_prices.items()
        },
        "storage_usd_per_indexed_minute_month": storage,
    }
    return {"cpu": cpu, "gpu": gpu}


def _child(video: Path, searches: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="heimdex-cost-") as data:  # the child's server stops before it is removed
        return child_json("eval.cost", "--one", str(video), "--searches", str(searches), "--data", data)


def report(measured: dict, priced: dict) -> None:
    minutes = measured["video_s"] / 60
    index, search = measured["indexing"], measured["searching"]
    cpu, gpu = priced["cpu"], priced["gpu"]
    print(f"video: {measured['video_s']:.0f} s ({minutes:.2f} min), cpus here: {os.cpu_count()}")
    print(
        f"indexing: {index['wall_s']:.1f} s wall, {index['cpu_s']:.1f} CPU-s (app and its children) + "
        f"{index['db_cpu_s']:.1f} CPU-s (database server), peak RSS {measured['peak_rss_mb']:.0f} MB"
    )
    print(
        f"searching: {search['searches']} searches, {search['wall_s']:.1f} s wall, "
        f"{1000 * (search['cpu_s'] + search['db_cpu_s']) / max(search['searches'], 1):.1f} CPU-ms each"
    )
    print("\n| stored | MB | MB per indexed minute |\n|---|---:|---:|")
    for kind, size in sorted(measured["blob_bytes"].items(), key=lambda kv: -kv[1]):
        print(f"| {kind} | {size / 1e6:.2f} | {size / 1e6 / minutes:.2f} |")
    for name, table in list(measured["db_tables"].items())[:6]:
        print(
            f"| table {name} ({table['rows']} rows) | {table['bytes'] / 1e6:.2f} | {table['bytes'] / 1e6 / minutes:.2f} |"
        )
    print("\n| profile | $ per indexed minute | $ per 1,000 searches | storage $ per indexed minute per month |")
    print("|---|---:|---:|---:|")
    print(
        f"| CPU at ${cpu['usd_per_vcpu_hour']}/vCPU-h ({cpu['cpu_s_per_indexed_minute']:.0f} CPU-s per minute) | "
        f"{cpu['usd_per_indexed_minute']:.5f} | {cpu['usd_per_1000_searches']:.5f} | "
        f"{cpu['storage_usd_per_indexed_minute_month']:.5f} |"
    )
    print(f"| CPU, one 2-vCPU machine held for the wall time | {cpu['usd_per_indexed_minute_wall_2vcpu']:.5f} | | |")
    for card, cost in gpu["cards"].items():
        print(
            f"| GPU ESTIMATE: {card} at ${cost['usd_per_hour']:.2f}/h, model stages x{gpu['assumed_model_speedup']:g} | "
            f"{cost['usd_per_indexed_minute']:.5f} | | {gpu['storage_usd_per_indexed_minute_month']:.5f} |"
        )
    print("\ntargets: < $0.05 per indexed minute (the seed's); <= $0.002 on CPU (ours)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the benchmark video")
    parser.add_argument("--video", type=Path, help="index this file instead of the benchmark video")
    parser.add_argument("--media", type=Path, default=MEDIA)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--cpu-price", type=float, default=CPU_USD_PER_VCPU_HOUR, help="USD per vCPU-hour")
    parser.add_argument("--gpu-speedup", type=float, default=GPU_SPEEDUP)
    parser.add_argument("--json", action="store_true", help="print one JSON object: {'cpu': ..., 'gpu': ...}")
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.searches, args.data)))
        return
    video = args.video or build_video(args.media, args.minutes)
    measured = _child(video, args.searches)
    priced = price(measured, args.cpu_price, GPU_USD_PER_HOUR, args.gpu_speedup)
    if args.json:
        print(json.dumps({**priced, "measured": measured}))
    else:
        report(measured, priced)


if __name__ == "__main__":
    main()
