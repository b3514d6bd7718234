"""Search quality on the shared media: R@1, R@5, MRR, nDCG@10 per channel, negatives, latency.

    python -m eval.run [--queries eval/sets/queries.jsonl] [--data DIR] [--split all|tune|holdout]

Indexes the eval library (``eval/library.py``) into a throwaway data folder (or
``--data DIR``, kept for the next run), runs every labeled query through the
real search, and prints the metrics. A result is relevant when it is in an
expected file and its time overlaps the expected range; each expected moment
counts once. A negative query passes when it returns nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

SETS = Path(__file__).resolve().parent / "sets"
QUERIES = SETS / "queries.jsonl"
CHANNELS = ("transcript", "ocr", "visual", "person")


def load_queries(path: Path = QUERIES) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def split_of(query: dict) -> str:
    """A fixed half of the queries tunes, the other half is held out (by a hash of the id)."""
    return "tune" if hashlib.sha256(query["id"].encode()).digest()[0] % 2 == 0 else "holdout"


@dataclass
class Collected:
    """One query's evidence, gathered once so fusion settings can be tried without SQL or models."""

    query: dict
    parsed: object
    raw: dict
    allowed: set | None
    latency_s: float


def collect(db, user_id: uuid.UUID, queries: list[dict], registry) -> tuple[list[Collected], dict[int, dict]]:
    """Run every query (timed end to end) and keep its raw channel scores, plus every scene's details."""
    from heimdex.config import get_settings
    from heimdex.search import SearchFilters, raw_scores, search
    from heimdex.search.channels import person_names, phrase_scenes
    from heimdex.search.query import parse_query
    from heimdex.search.results import scene_details

    filters, settings = SearchFilters(), get_settings()
    collected = []
    for query in queries:
        started = time.perf_counter()
        search(db, user_id, query["query"], registry=registry)
        latency = time.perf_counter() - started
        with db.transaction() as conn:
            parsed = parse_query(query["query"], person_names(conn, user_id))
            allowed = phrase_scenes(conn, user_id, parsed.phrases, filters) if parsed.phrases else None
            raw = raw_scores(conn, user_id, parsed, filters, registry, settings) if not parsed.empty else {}
        collected.append(Collected(query, parsed, raw, allowed, latency))
    with db.transaction() as conn:
        ids = [row["id"] for row in conn.execute("SELECT id FROM scenes WHERE user_id = %s", (user_id,)).fetchall()]
        details = scene_details(conn, user_id, ids)
    return collected, details


def rank(item: Collected, details: dict[int, dict], config) -> list:
    from heimdex.search import select_hits
    from heimdex.search.results import build_moments

    if item.parsed.empty:
        return []
    hits = select_hits(item.parsed, item.raw, config, item.allowed)
    return build_moments(hits, details, item.parsed, list(item.parsed.people))


def relevant(moment, expected: list[dict], used: set[int]) -> bool:
    """Whether ``moment`` is an expected moment not yet counted (marks it counted)."""
    for i, want in enumerate(expected):
        if (
            i not in used
            and moment.filename == want["file"]
            and moment.scene_start_s < want["end"]
            and moment.end_s > want["start"]
        ):
            used.add(i)
            return True
    return False


def score_query(item: Collected, details: dict[int, dict], config) -> dict:
    moments = rank(item, details, config)
    expected = item.query["expect"]
    if not expected:
        return {"negative_pass": float(not moments)}
    used: set[int] = set()
    gains = [relevant(m, expected, used) for m in moments[:10]]
    first = next((i for i, g in enumerate(gains) if g), None)
    dcg = sum(1 / math.log2(i + 2) for i, g in enumerate(gains) if g)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(expected), 10)))
    return {
        "r@1": float(first == 0),
        "r@5": float(first is not None and first < 5),
        "mrr": 1 / (first + 1) if first is not None else 0.0,
        "ndcg@10": dcg / ideal,
    }


def evaluate(collected: list[Collected], details: dict[int, dict], config) -> dict:
    """Metrics per channel and overall, the negative pass rate, and latency."""
    scores = [(item.query["channel"], score_query(item, details, config)) for item in collected]
    report: dict = {}
    for channel in (*CHANNELS, "overall"):
        rows = [s for c, s in scores if "mrr" in s and (channel == "overall" or c == channel)]
        if rows:
            report[channel] = {k: statistics.fmean(r[k] for r in rows) for k in ("r@1", "r@5", "mrr", "ndcg@10")} | {
                "n": len(rows)
            }
    negatives = [s["negative_pass"] for _, s in scores if "negative_pass" in s]
    report["negatives"] = {"pass_rate": statistics.fmean(negatives) if negatives else None, "n": len(negatives)}
    latencies = sorted(item.latency_s * 1000 for item in collected)
    report["latency_ms"] = {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)}
    return report


def objective(report: dict) -> float:
    """One number to tune for: positives' nDCG@10 and MRR, and negatives that stay empty."""
    overall = report.get("overall", {"ndcg@10": 0.0, "mrr": 0.0})
    negatives = report["negatives"]["pass_rate"] or 0.0
    return 0.4 * overall["ndcg@10"] + 0.4 * overall["mrr"] + 0.2 * negatives


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, math.ceil(pct / 100 * len(values)) - 1))
    return values[index]


def print_report(title: str, report: dict) -> None:
    print(f"\n{title}\n\n| channel | n | R@1 | R@5 | MRR | nDCG@10 |\n|---|---|---|---|---|---|")
    for channel in (*CHANNELS, "overall"):
        if channel in report:
            r = report[channel]
            print(f"| {channel} | {r['n']} | {r['r@1']:.2f} | {r['r@5']:.2f} | {r['mrr']:.2f} | {r['ndcg@10']:.2f} |")
    negatives = report["negatives"]
    if negatives["n"]:
        print(f"\nnegatives returning nothing: {negatives['pass_rate']:.2f} of {negatives['n']}")
    print(f"query latency: p50 {report['latency_ms']['p50']:.0f} ms, p95 {report['latency_ms']['p95']:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--data", type=Path, help="data folder to index into and keep (default: a new temporary one)")
    parser.add_argument("--split", choices=("all", "tune", "holdout"), default="all")
    parser.add_argument("--show", action="store_true", help="print each query's top results")
    args = parser.parse_args()

    from eval.library import open_library
    from heimdex.models.registry import get_registry
    from heimdex.search.fusion import FusionConfig

    db, user_id = open_library(data=args.data)
    queries = [q for q in load_queries(args.queries) if args.split == "all" or split_of(q) == args.split]
    collected, details = collect(db, user_id, queries, get_registry())
    config = FusionConfig.load()
    if args.show:
        for item in collected:
            top = rank(item, details, config)[:3]
            shown = "; ".join(
                f"{m.filename} {m.scene_start_s:.0f}-{m.end_s:.0f} {m.score:.2f} {m.channels}" for m in top
            )
            print(f"{item.query['id']} {item.query['query'][:40]!r}: {shown or '-'}")
    print_report(
        f"{len(queries)} queries ({args.split}), fusion {config.method}, floor {config.floor}",
        evaluate(collected, details, config),
    )


if __name__ == "__main__":
    main()
