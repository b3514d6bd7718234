"""Search quality on the shared media, per split: ranking, negatives, localisation and calibration.

    python -m eval.run [--queries eval/sets/queries.jsonl] [--data DIR] [--split all|tune|holdout] [--show]

Indexes the eval library (``eval/library.py``) into a throwaway data folder (or
``--data DIR``, kept for the next run), runs every labelled query through the
real search, and prints, for the tune split, the holdout split and both:

- R@1, R@5, MRR and nDCG@10 per channel: a result is relevant when it is in an
  expected file and its time overlaps the expected range; each expected moment counts once;
- negatives: the share of queries about absent things answered with nothing;
- localisation: of each query's first relevant moment, the share that starts (the evidence
  onset; the Player plays from a second before it) inside the labelled range, give or take
  ``ONSET_TOLERANCE_S`` at its start (labels are whole seconds, word and frame times are not), and
  its median distance from the labelled start; the share of first hits that are relevant and start
  inside (ranking and localisation at once); the median length of the moments shown;
- ECE: expected calibration error of the shown scores (top 10 of every query, 10 bins), overall and
  by the kind of query (speech, screen text, sight).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import statistics
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SETS = Path(__file__).resolve().parent / "sets"
QUERIES = SETS / "queries.jsonl"
CHANNELS = ("transcript", "ocr", "visual", "person")
SPLITS = ("tune", "holdout", "all")
ONSET_TOLERANCE_S = 1.0


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
    pieces: dict = field(default_factory=dict)  # channel → scene id → its piece nearest the query
    unknown: tuple = ()  # the words that read as names nobody has


def collect(db, user_id: uuid.UUID, queries: list[dict], registry) -> tuple[list[Collected], dict[int, dict]]:
    """Run every query (timed end to end) and keep its raw channel scores, plus every scene's details."""
    from heimdex.config import get_settings
    from heimdex.search import SearchFilters, query_vectors, raw_scores, search, understand
    from heimdex.search.channels import best_pieces, phrase_scenes
    from heimdex.search.results import scene_details

    filters, settings = SearchFilters(), get_settings()
    collected = []
    for query in queries:
        started = time.perf_counter()
        search(db, user_id, query["query"], registry=registry)
        latency = time.perf_counter() - started
        with db.transaction() as conn:
            parsed, _, unknown = understand(conn, user_id, query["query"], filters)
            allowed = phrase_scenes(conn, user_id, parsed.phrases, filters) if parsed.phrases else None
            vectors = query_vectors(parsed, filters, registry) if not parsed.empty else []
            raw = raw_scores(conn, user_id, parsed, filters, registry, settings, vectors) if not parsed.empty else {}
            scored = {scene_id for scores in raw.values() for scene_id in scores}
            pieces = {
                channel: best_pieces(conn, user_id, model, vector, channel, scored)
                for model, vector, channels in vectors
                for channel in ("transcript", "ocr")
                if channel in channels and scored
            }
        collected.append(Collected(query, parsed, raw, allowed, latency, pieces, unknown))
    with db.transaction() as conn:
        ids = [row["id"] for row in conn.execute("SELECT id FROM scenes WHERE user_id = %s", (user_id,)).fetchall()]
        details = scene_details(conn, user_id, ids)
    return collected, details


def rank(item: Collected, details: dict[int, dict], config) -> list:
    from heimdex.search import select_hits
    from heimdex.search.results import build_moments

    if item.parsed.empty:
        return []
    hits = select_hits(item.parsed, item.raw, config, item.allowed, item.unknown)
    return build_moments(hits, details, item.parsed, list(item.parsed.people), config.tier, item.pieces)


def matched(moment, expected: list[dict], used: set[int]) -> int | None:
    """Which expected moment not yet counted ``moment`` is (marks it counted), or None."""
    for i, want in enumerate(expected):
        if (
            i not in used
            and moment.filename == want["file"]
            and moment.start_s < want["end"]
            and moment.end_s > want["start"]
        ):
            used.add(i)
            return i
    return None


def score_query(item: Collected, details: dict[int, dict], config) -> dict:
    moments = rank(item, details, config)
    expected = item.query["expect"]
    shown = moments[:10]
    if not expected:
        return {"negative_pass": float(not moments), "shown": [(m.score, False) for m in shown]}
    used: set[int] = set()
    found = [matched(m, expected, used) for m in shown]
    gains = [i is not None for i in found]
    first = next((rank for rank, gain in enumerate(gains) if gain), None)
    dcg = sum(1 / math.log2(i + 2) for i, g in enumerate(gains) if g)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(expected), 10)))
    result = {
        "r@1": float(first == 0),
        "r@5": float(first is not None and first < 5),
        "mrr": 1 / (first + 1) if first is not None else 0.0,
        "ndcg@10": dcg / ideal,
        "shown": [(m.score, g) for m, g in zip(shown, gains)],
        "lengths": [m.end_s - m.start_s for m in shown],
    }
    if moments:  # localisation: of the first hit, and of the first relevant one
        top, want = moments[0], expected[found[0]] if found and found[0] is not None else None
        result["top_inside"] = float(want is not None and _inside(top.start_s, want))
    if first is not None:
        hit, want = shown[first], expected[found[first]]  # type: ignore[index]
        result["start_inside"] = float(_inside(hit.start_s, want))
        result["start_error"] = abs(hit.start_s - want["start"])
    return result


def _inside(start_s: float, want: dict) -> bool:
    return want["start"] - ONSET_TOLERANCE_S <= start_s <= want["end"]


def ece(pairs: list[tuple[float, bool]], bins: int = 10) -> float | None:
    """Expected calibration error: the mean gap between score and the share relevant, per score bin, weighted."""
    if not pairs:
        return None
    total = 0.0
    for b in range(bins):
        inside = [(s, r) for s, r in pairs if b / bins <= s < (b + 1) / bins or (b == bins - 1 and s == 1.0)]
        if inside:
            total += len(inside) * abs(statistics.fmean(s for s, _ in inside) - statistics.fmean(r for _, r in inside))
    return total / len(pairs)


def evaluate(collected: list[Collected], details: dict[int, dict], config) -> dict:
    """Metrics per channel and overall, negatives, localisation, calibration and latency."""
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
    inside = [s["start_inside"] for _, s in scores if "start_inside" in s]
    top_inside = [s["top_inside"] for _, s in scores if "top_inside" in s]
    errors = [s["start_error"] for _, s in scores if "start_error" in s]
    lengths = [length for _, s in scores for length in s.get("lengths", [])]
    report["localisation"] = {
        "start_inside": statistics.fmean(inside) if inside else None,
        "n": len(inside),
        "top_inside": statistics.fmean(top_inside) if top_inside else None,
        "top_n": len(top_inside),
        "median_start_error_s": statistics.median(errors) if errors else None,
        "median_length_s": statistics.median(lengths) if lengths else None,
    }
    report["ece"] = ece([pair for _, s in scores for pair in s["shown"]])
    report["ece_by_channel"] = {  # a score must mean the same whatever kind of evidence made it
        channel: ece([pair for c, s in scores if c == channel for pair in s["shown"]])
        for channel in CHANNELS
        if any(c == channel and s["shown"] for c, s in scores)
    }
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
        print(f"\nnegatives answered with nothing: {negatives['pass_rate']:.2f} of {negatives['n']}")
    where = report["localisation"]
    if where["n"]:
        print(
            f"first relevant moment starts inside its labelled range: {where['start_inside']:.2f} of {where['n']}; "
            f"first hit is relevant and starts inside: {where['top_inside']:.2f} of {where['top_n']}; "
            f"median |start - labelled start| {where['median_start_error_s']:.1f} s; "
            f"median moment length {where['median_length_s']:.1f} s"
        )
    if report["ece"] is not None:
        kinds = ", ".join(f"{channel} {value:.3f}" for channel, value in report["ece_by_channel"].items())
        print(f"calibration error (ECE, top 10 of every query): {report['ece']:.3f}; by the queries' kind: {kinds}")
    print(f"query latency: p50 {report['latency_ms']['p50']:.0f} ms, p95 {report['latency_ms']['p95']:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--data", type=Path, help="data folder to index into and keep (default: a new temporary one)")
    parser.add_argument("--split", choices=SPLITS, help="one split only (default: tune, holdout and all)")
    parser.add_argument("--show", action="store_true", help="print each query's top results")
    args = parser.parse_args()

    from eval.library import open_library
    from heimdex.models.registry import get_registry
    from heimdex.search.fusion import FusionConfig

    db, user_id = open_library(data=args.data)
    queries = load_queries(args.queries)
    collected, details = collect(db, user_id, queries, get_registry())
    config = FusionConfig.load()
    if args.show:
        for item in collected:
            top = rank(item, details, config)[:3]
            shown = "; ".join(
                f"{m.filename} {m.start_s:.1f}-{m.end_s:.1f} {m.score:.2f} {m.tier} {m.channels}" for m in top
            )
            print(f"{item.query['id']} {split_of(item.query)} {item.query['query'][:40]!r}: {shown or '-'}")
    for split in (args.split,) if args.split else SPLITS:
        part = [c for c in collected if split == "all" or split_of(c.query) == split]
        title = f"{split}: {len(part)} queries, floor {config.floor}, strong from {config.strong}"
        print_report(title, evaluate(part, details, config))


if __name__ == "__main__":
    main()
