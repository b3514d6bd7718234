"""Gender from faces: choose the confidence threshold on some clips, report it on others.

    python -m eval.appearance [--step 0.25] [--precision 0.95] [--json]

Reads ``eval/sets/appearance.json`` (who is on each clip, left to right), samples
frames, finds faces as the visual stage does and estimates each one's gender. The
threshold is the lowest that keeps precision at or above ``--precision`` on the tune
clips; precision and coverage (the share of faces given a gender at all) are then
reported on both splits. ``heimdex/perception/people.py`` keeps the chosen value.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eval.run import split_of

SET = Path(__file__).resolve().parent / "sets" / "appearance.json"
THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))


def collect(media: Path, step: float) -> list[tuple[str, bool, float]]:
    """(split, right, confidence) for every face whose person is known."""
    import av

    from heimdex.models.registry import get_registry

    registry = get_registry()
    faces, demographics = registry.get("faces"), registry.get("demographics")
    found = []
    for clip in json.loads(SET.read_text())["clips"]:
        due = 0.0
        with av.open(str(media / clip["file"])) as container:
            for frame in container.decode(video=0):
                if frame.time is None or frame.time < due:
                    continue
                due += step
                image = frame.to_ndarray(format="rgb24")
                boxes = sorted(faces.boxes(image), key=lambda b: b[0])
                if len(boxes) != len(clip["people"]):
                    continue
                for truth, estimate in zip(clip["people"], demographics.estimate(image, boxes)):
                    said = "woman" if estimate.woman >= 0.5 else "man"
                    found.append((split_of({"id": clip["file"]}), said == truth, estimate.gender_confidence))
    return found


def scores(found: list[tuple[str, bool, float]], split: str, threshold: float) -> dict:
    faces = [(right, conf) for s, right, conf in found if s == split]
    kept = [right for right, conf in faces if conf >= threshold]
    return {
        "faces": len(faces),
        "precision": sum(kept) / len(kept) if kept else None,
        "coverage": len(kept) / len(faces) if faces else None,
    }


def main() -> None:
    from eval.library import MEDIA

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--step", type=float, default=0.25, help="seconds between sampled frames")
    parser.add_argument("--precision", type=float, default=0.95, help="the precision the threshold must keep on tune")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = collect(MEDIA, args.step)
    chosen = next(
        (t for t in THRESHOLDS if (scores(found, "tune", t)["precision"] or 0) >= args.precision), THRESHOLDS[-1]
    )
    report = {"threshold": chosen, **{split: scores(found, split, chosen) for split in ("tune", "holdout")}}
    if args.json:
        print(json.dumps(report))
        return
    print(f"gender threshold chosen on tune (precision ≥ {args.precision}): {chosen}\n")
    print("| split | faces | precision | coverage |\n|---|---|---|---|")
    for split in ("tune", "holdout"):
        r = report[split]
        print(f"| {split} | {r['faces']} | {r['precision'] or 0:.2f} | {r['coverage'] or 0:.2f} |")


if __name__ == "__main__":
    main()
