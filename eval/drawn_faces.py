"""Drawn or photographed: how well the drawn-face measure tells the faces of cartoons from people's.

    python -m eval.drawn_faces [--json] [--photos DIR]

Every face the face stage's detector finds (BlazeFace confirmed by the face mesh, as
:mod:`heimdex.pipeline.faces` reads frames) on a frame every ``step_s`` of the clips of
``eval/sets/drawn_faces.json`` is scored by :func:`heimdex.perception.faces.drawn_score`
and labelled drawn or photographed by the set. The threshold is chosen on the 'choose'
clips alone: the midpoint between their most outlined photographed face and their least
outlined drawn one. The accuracy is reported on the 'report' clips, at that midpoint and
at the shipped :data:`~heimdex.perception.faces.DRAWN`. Faces are counted per frame (a
face on screen for two seconds counts eight times), so the distinct drawings and people
are said too. ``--photos DIR``: still photographs (every face on them photographed), each
read at four sizes and reported apart, as a check on sharp faces the clips lack.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eval.library import MEDIA

SET = Path(__file__).resolve().parent / "sets" / "drawn_faces.json"
OWN_MEDIA = Path(__file__).resolve().parent / "media"  # the drawn clips made for this set
PHOTO_SCALES = (0.35, 0.6, 1.0, 2.0)


def clip_path(name: str) -> Path:
    return MEDIA / name if (MEDIA / name).is_file() else OWN_MEDIA / name


def is_drawn_at(spans: list, t: float) -> bool:
    return any(start <= t and (end is None or t <= end) for start, end in spans)


def scored_faces(clips: list[dict], step_s: float, analyzer) -> list[dict]:
    """Every face found on a frame every ``step_s`` of each clip: clip, part, time, height, score, drawn."""
    import av
    import numpy as np

    from heimdex.library.media import frame_at
    from heimdex.perception.faces import drawn_score

    faces = []
    for row in clips:
        path = clip_path(row["clip"])
        with av.open(str(path)) as container:
            duration = float(container.duration or 0) / 1e6
        for t in np.arange(step_s / 2, duration, step_s):
            image = frame_at(path, float(t))
            for face in analyzer.detect(image):
                faces.append(
                    {
                        "clip": row["clip"],
                        "part": row["part"],
                        "t": round(float(t), 3),
                        "height": face.box[3] - face.box[1],
                        "score": round(drawn_score(image, face.box), 4),
                        "drawn": is_drawn_at(row["drawn"], float(t)),
                    }
                )
    return faces


def photo_faces(folder: Path, analyzer) -> list[dict]:
    """The faces on each photograph of ``folder``, read at :data:`PHOTO_SCALES` of its size."""
    import cv2

    from heimdex.perception.faces import drawn_score

    faces = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"}):
        picture = cv2.imread(str(path), cv2.IMREAD_COLOR)  # greys become three equal channels
        if picture is None:
            continue
        picture = cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)
        for scale in PHOTO_SCALES:
            shrink = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
            image = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=shrink)
            for face in analyzer.detect(image):
                score = round(drawn_score(image, face.box), 4)
                faces.append({"clip": path.name, "part": "photos", "t": scale, "score": score, "drawn": False})
    return faces


def midpoint(faces: list[dict]) -> float:
    """The threshold halfway between the highest photographed score and the lowest drawn one."""
    photographed = max(f["score"] for f in faces if not f["drawn"])
    drawn = min(f["score"] for f in faces if f["drawn"])
    return round((photographed + drawn) / 2, 3)


def tally(faces: list[dict], threshold: float) -> dict:
    """Counts and accuracy of calling faces at or above ``threshold`` drawn."""
    real = [f for f in faces if not f["drawn"]]
    drawn = [f for f in faces if f["drawn"]]
    real_wrong = sum(f["score"] >= threshold for f in real)
    drawn_wrong = sum(f["score"] < threshold for f in drawn)
    total = len(real) + len(drawn)
    return {
        "clips": len({f["clip"] for f in faces}),
        "photographed": len(real),
        "drawn": len(drawn),
        "photographed_called_drawn": real_wrong,
        "drawn_called_photographed": drawn_wrong,
        "accuracy": round(1 - (real_wrong + drawn_wrong) / total, 4) if total else None,
        "highest_photographed": max((f["score"] for f in real), default=None),
        "lowest_drawn": min((f["score"] for f in drawn), default=None),
    }


def figures(photos: Path | None = None) -> dict:
    from heimdex.models.registry import get_registry
    from heimdex.perception.faces import DRAWN

    truth = json.loads(SET.read_text())
    analyzer = get_registry().get("faces")
    faces = scored_faces(truth["clips"], truth["step_s"], analyzer)
    choose = [f for f in faces if f["part"] == "choose"]
    report = [f for f in faces if f["part"] == "report"]
    chosen = midpoint(choose)
    result = {
        "shipped_threshold": DRAWN,
        "chosen_threshold": chosen,
        "choose": tally(choose, chosen),
        "report": tally(report, chosen),
        "report_at_shipped": tally(report, DRAWN),
        "per_clip": {
            f"{row['clip']}{' (drawn)' if drawn else ''}": {
                "part": row["part"],
                "faces": len(scores),
                "min": min(scores),
                "median": sorted(scores)[len(scores) // 2],
                "max": max(scores),
            }
            for row in truth["clips"]
            for drawn in (False, True)
            if (scores := [f["score"] for f in faces if f["clip"] == row["clip"] and f["drawn"] is drawn])
        },
    }
    if photos is not None:
        result["photos"] = tally(photo_faces(photos, analyzer), DRAWN)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--photos", type=Path, help="a folder of photographs of people, reported apart")
    args = parser.parse_args()
    missing = sorted({row["clip"] for row in json.loads(SET.read_text())["clips"]} - {p.name for p in MEDIA.iterdir()})
    missing = [name for name in missing if not clip_path(name).is_file()]
    if missing:  # media is never committed: the drawn clips are built here once
        raise SystemExit(
            f"missing {', '.join(missing)}: build them with eval/media/render.mjs and eval/media/compose.py "
            "(their first lines say how)"
        )
    result = figures(args.photos)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{'clip':48} {'part':7} {'faces':>5} {'min':>6} {'median':>6} {'max':>6}")
    for name, row in result["per_clip"].items():
        print(f"{name:48} {row['part']:7} {row['faces']:5d} {row['min']:6.3f} {row['median']:6.3f} {row['max']:6.3f}")
    for part, key, threshold in (
        ("choose", "choose", result["chosen_threshold"]),
        ("report", "report", result["chosen_threshold"]),
        ("report", "report_at_shipped", result["shipped_threshold"]),
    ):
        row = result[key]
        print(
            f"{part} at {threshold}: {row['clips']} clips, {row['photographed']} photographed and {row['drawn']} drawn "
            f"faces; accuracy {row['accuracy']} ({row['photographed_called_drawn']} photographed called drawn, "
            f"{row['drawn_called_photographed']} drawn called photographed); highest photographed "
            f"{row['highest_photographed']}, lowest drawn {row['lowest_drawn']}"
        )
    if "photos" in result:
        row = result["photos"]
        print(
            f"photographs at {result['shipped_threshold']}: {row['photographed']} faces, "
            f"{row['photographed_called_drawn']} called drawn; highest {row['highest_photographed']}"
        )


if __name__ == "__main__":
    main()
