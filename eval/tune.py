"""Choose the fusion settings on one half of the labeled queries; report the other half.

    python -m eval.tune [--data DIR] [--rounds 3] [--dry-run]

Coordinate ascent from the current ``heimdex/search/fusion.json``: each round tries,
one at a time, the fusion method, every signal's weight and calibration ramp, and
the relevance floor, keeping a change only when it raises the objective of
``eval/run.py`` (nDCG@10 and MRR of the positives, and the share of negatives that
stay empty) on the tuning split. The held-out split is scored once, at the end.
Unless ``--dry-run``, the chosen values are written to ``fusion.json``.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

from eval.run import collect, evaluate, load_queries, objective, print_report, split_of

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)
COSINE_LOWS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
COSINE_SPANS = (0.1, 0.2, 0.3, 0.4)
RANK_HIGHS = (0.05, 0.1, 0.2, 0.3, 0.5)
FLOORS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
RRF_FLOORS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def candidates(config):
    """Every single-parameter change worth trying from ``config``."""
    for method in ("weighted", "rrf"):
        if method != config.method:
            yield _changed(config, method=method, floor=0.4)
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
    for floor in RRF_FLOORS if config.method == "rrf" else FLOORS:
        yield _changed(config, floor=floor)


def _changed(config, **values):
    changed = copy.deepcopy(config)
    for name, value in values.items():
        setattr(changed, name, value)
    return changed


def tune(collected, details, config, rounds: int):
    """The best config reachable by coordinate ascent, and its objective."""
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
    chosen, _ = tune(tuning, details, start, args.rounds)
    print_report(
        f"after: tuning split ({len(tuning)} queries), {chosen.method}, floor {chosen.floor}",
        evaluate(tuning, details, chosen),
    )
    print_report(f"after: held-out split ({len(held_out)} queries)", evaluate(held_out, details, chosen))
    print(f"\nweights: {chosen.weights}\ncalibration: {chosen.calibration}")
    if not args.dry_run:
        chosen.save()
        print("written to heimdex/search/fusion.json")


if __name__ == "__main__":
    main()
