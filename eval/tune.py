"""Fit the fusion on the tune split of the labelled queries; report the holdout split.

    python -m eval.tune [--data DIR] [--rounds 3] [--dry-run]

1. For each fusion method of ``METHODS`` (the channels' method has nothing to ascend),
   coordinate ascent from the current ``heimdex/search/fusion.json``: each round tries,
   one at a time, the fusion method, every signal's weight and ramp, and the floor,
   keeping a change only when it raises the objective of ``eval/run.py`` (nDCG@10 and MRR
   of the positives, and the share of negatives that stay empty) on the tune split.
2. Calibration: Platt scaling of the fused value, fitted on the moments the tune split's
   queries show (top 10 each, relevant or not); and of each signal's raw score, fitted on
   every (query, scene) pair it scored, for the per-channel probabilities shown.
3. The floor: of the calibrated probabilities ``FLOORS``, those that keep the tune split's R@5
   within ``RECALL_GIVEN`` of its best, the one answering most of its negatives with nothing.
4. Of the methods so fitted, the one with the better objective less its worst calibration error by
   the kind of query (speech, screen text, sight) on the tune split is kept: a score must mean the
   same whatever kind of evidence made it.

A signal the tune split cannot fit (never relevant, or never anything else) borrows the map of
the same kind of score in another channel (``SIBLING``: screen text's word rank takes speech's);
the person channel (no labelled people) and CLIP (no weights offline) keep ``PRIORS``. The holdout split is scored once, at the
end. Unless ``--dry-run``, the fitted values are written to ``heimdex/search/fusion.json``.
"""

from __future__ import annotations

import argparse
import copy
import math
from pathlib import Path

import numpy as np

from eval.run import collect, evaluate, load_queries, objective, print_report, rank, split_of

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)
COSINE_LOWS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
COSINE_SPANS = (0.1, 0.2, 0.3, 0.4)
RANK_HIGHS = (0.05, 0.1, 0.2, 0.3, 0.5)
RAW_FLOORS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)  # of the fused value, while the ascent runs uncalibrated
RRF_FLOORS = (0.005, 0.01, 0.015, 0.02, 0.03)
FLOORS = tuple(round(0.02 * i, 2) for i in range(1, 46))  # calibrated
METHODS = ("weighted", "channels")  # each fitted; the better one on the tune split is kept (step 4)
RECALL_GIVEN = 0.03  # the floor may cost the tune split's R@5 this much, no more, for negatives answered with nothing
STRONG = 0.6  # a match at least this likely is "strong"
PRIORS = {"person": (12.0, -6.0), "clip_vec": (25.0, -7.5)}  # (a, b) on 1 - face distance, on CLIP's cosine: no
# labelled people, no CLIP weights offline
SIBLING = {"ocr_text": "transcript_text", "transcript_text": "ocr_text", "ocr_vec": "transcript_vec"}
SIBLING |= {"transcript_vec": "ocr_vec"}  # the same kind of score (a full-text rank, a text cosine) of another channel


def candidates(config):
    """Every single-parameter change worth trying from ``config``."""
    for method in ("weighted", "rrf"):
        if method != config.method:
            yield _changed(config, method=method, floor=_sigmoid(0.4 if method == "weighted" else 0.01))
    for signal in config.weights:
        for weight in WEIGHTS:
            yield _changed(config, weights={**config.weights, signal: weight})
        lo, hi = config.calibration[signal]
        if signal.endswith("_text"):
            ramps = [(0.0, high) for high in RANK_HIGHS]
        else:
            ramps = [(low, hi) for low in COSINE_LOWS if low < hi] + [
                (lo, round(lo + span, 3)) for span in COSINE_SPANS
            ]
        for ramp in ramps:
            yield _changed(config, calibration={**config.calibration, signal: ramp})
    for floor in RRF_FLOORS if config.method == "rrf" else RAW_FLOORS:
        yield _changed(config, floor=_sigmoid(floor))


def _changed(config, **values):
    changed = copy.deepcopy(config)
    for name, value in values.items():
        setattr(changed, name, value)
    return changed


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _logit(p: float) -> float:
    p = min(1 - 1e-9, max(1e-9, p))
    return math.log(p / (1 - p))


def platt(x: list[float], y: list[bool]) -> tuple[float, float] | None:
    """(a, b) of p = σ(a·x + b) fitted to ``y``; None without both kinds of sample."""
    from sklearn.linear_model import LogisticRegression

    if len(set(y)) < 2:
        return None
    model = LogisticRegression(C=100.0).fit(np.asarray(x).reshape(-1, 1), np.asarray(y, dtype=int))
    return round(float(model.coef_[0, 0]), 4), round(float(model.intercept_[0]), 4)


def label(query: dict, row: dict) -> bool:
    return any(
        row["filename"] == want["file"] and row["start_s"] < want["end"] and row["end_s"] > want["start"]
        for want in query["expect"]
    )


def calibrate(collected, details, config):
    """``config`` (fused uncalibrated: ``calibrated`` is (1, 0)) with its Platt maps and floor fitted."""
    from eval.run import matched

    signals: dict[str, tuple[list[float], list[bool]]] = {}
    for item in collected:
        for signal, scores in item.raw.items():
            xs, ys = signals.setdefault(signal, ([], []))
            for scene_id, value in scores.items():
                xs.append(float(value))
                ys.append(label(item.query, details[scene_id]))
    fitted = {signal: platt(*signals.get(signal, ([], []))) for signal in config.weights}
    for signal, ab in fitted.items():  # one that cannot be fitted borrows its kind's (a full-text rank from another)
        fitted[signal] = ab or fitted.get(SIBLING.get(signal, "")) or PRIORS.get(signal)
    platts = {s: ab for s, ab in fitted.items() if ab}
    everything = _changed(config, calibrated=(1.0, 0.0), floor=0.0, platt=platts)
    xs, ys = [], []
    for item in collected:
        used: set[int] = set()
        for moment in rank(item, details, everything)[:10]:
            xs.append(_logit(moment.score))
            ys.append(matched(moment, item.query["expect"], used) is not None)
    calibrated = platt(xs, ys) or (1.0, 0.0)
    chosen = _changed(config, calibrated=calibrated, strong=STRONG, platt=platts)
    reports = {floor: evaluate(collected, details, _changed(chosen, floor=floor)) for floor in FLOORS}
    recall = max(report["overall"]["r@5"] for report in reports.values())
    kept = [floor for floor, report in reports.items() if report["overall"]["r@5"] >= recall - RECALL_GIVEN]
    floor = max(kept, key=lambda f: ((reports[f]["negatives"]["pass_rate"] or 0.0), objective(reports[f]), -f))
    return _changed(chosen, floor=floor)


def tune(collected, details, config, rounds: int):
    """The best config reachable by coordinate ascent, and its objective."""
    config = _changed(config, calibrated=(1.0, 0.0), floor=_sigmoid(config.floor))
    best, best_score = config, objective(evaluate(collected, details, config))
    for round_number in range(1, rounds + 1):
        improved = False
        for candidate in list(candidates(best)):
            score = objective(evaluate(collected, details, candidate))
            if score > best_score + 1e-9:
                best, best_score, improved = candidate, score, True
        print(f"round {round_number}: objective {best_score:.4f}")
        if not improved:
            break
    return best, best_score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="data folder of an indexed eval library to reuse")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dry-run", action="store_true", help="report, but leave fusion.json as it is")
    parser.add_argument("--method", choices=("best", *METHODS), default="best", help="best: the tune split's")
    parser.add_argument("--raw-floor", type=float, default=0.3, help="the fused value's floor the ascent starts from")
    args = parser.parse_args()

    from eval.library import open_library
    from heimdex.models.registry import get_registry
    from heimdex.search.fusion import FusionConfig

    db, user_id = open_library(data=args.data)
    queries = load_queries()
    collected, details = collect(db, user_id, queries, get_registry())
    tuning = [c for c in collected if split_of(c.query) == "tune"]
    held_out = [c for c in collected if split_of(c.query) == "holdout"]
    start = FusionConfig.load()
    print_report(f"before: tuning split ({len(tuning)} queries)", evaluate(tuning, details, start))
    print_report(f"before: held-out split ({len(held_out)} queries)", evaluate(held_out, details, start))
    fitted = []
    for method in METHODS if args.method == "best" else (args.method,):
        if method == "channels":  # nothing to ascend: the channels' own probabilities are fitted in calibrate
            ascended = _changed(start, method="channels", calibrated=(1.0, 0.0))
        else:
            ascended, _ = tune(tuning, details, _changed(start, method=method, floor=args.raw_floor), args.rounds)
        config = calibrate(tuning, details, ascended)
        report = evaluate(tuning, details, config)
        worst = max(report["ece_by_channel"].values(), default=0.0)
        print(f"{method}: objective {objective(report):.4f}, worst calibration by kind {worst:.3f} on the tune split")
        fitted.append((objective(report) - worst, config))
    chosen = max(fitted, key=lambda pair: pair[0])[1]
    print_report(
        f"after: tuning split ({len(tuning)} queries), {chosen.method}, floor {chosen.floor}",
        evaluate(tuning, details, chosen),
    )
    print_report(f"after: held-out split ({len(held_out)} queries)", evaluate(held_out, details, chosen))
    print(f"\nweights: {chosen.weights}\ncalibration: {chosen.calibration}")
    print(f"calibrated: {chosen.calibrated}\nplatt: {chosen.platt}")
    if not args.dry_run:
        chosen.save()
        print("written to heimdex/search/fusion.json")


if __name__ == "__main__":
    main()
