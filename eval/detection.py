"""Detection recall on labelled frames of the shared clips: the whole frame alone, and with its tiles.

    python -m eval.detection [--json]

For each frame of ``eval/sets/detection.json`` and each class counted there, the
detections of that class at or above the tag threshold are counted (one box per
object, as :func:`heimdex.perception.objects.find_objects` gives them): recall is
the share of counted objects matched by a detection (at most as many as were
counted), small ones likewise among boxes under an eighth of the frame's height, and
extra detections are those beyond the count, on any class of the set. Riders: people
riding something, at most as many as were counted.
Boxes were not drawn, so a detection is matched by class and count within its frame,
not by place. Then each short clip is tagged as one scene (:func:`tag_scene` with its
frames) and the set's classes present in it are looked for among the scene's tags.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from eval.library import MEDIA

SET = Path(__file__).resolve().parent / "sets" / "detection.json"
CLASSES = ("person", "bicycle", "car", "bottle", "chair", "dining table", "tv", "apple", "orange")
SCENE_MAX_S = 10.0  # clips up to this long are tagged as one scene
LATE_S = 0.05  # frame_at takes a frame up to this early; the labels were made on the first frame at or after t
SMALL = 1 / 8  # objects shorter than this share of the frame's height are small (as the set counts them)


def _label(name: str) -> str:
    from heimdex.perception.objects import SAME_AS

    return SAME_AS.get(name, name)


def frame_figures(truth: list[dict], registry) -> dict:
    """Recall per class (and of small objects), extra detections and riders, for the whole frame alone and for
    the frame with its tiles."""
    from heimdex.library.media import frame_at
    from heimdex.perception.objects import find_objects, riders
    from heimdex.perception.tags import MIN_TAG

    modes = ("whole", "tiled")
    tallies = {mode: defaultdict(lambda: [0, 0]) for mode in modes}
    small = {mode: [0, 0] for mode in modes}
    extra = dict.fromkeys(modes, 0)
    riding = {"labelled": 0, **dict.fromkeys(modes, 0)}
    for row in truth:
        image = frame_at(MEDIA / row["clip"], row["t"] + LATE_S)  # the first frame at or after t, as labelled
        riding["labelled"] += row["riding"]
        for mode in modes:
            sure = [
                d for d in find_objects(image, registry, tiled=mode == "tiled").detections if d.confidence >= MIN_TAG
            ]
            riding[mode] += min(row["riding"], len(riders(sure)))
            for name in CLASSES:
                count, tiny = row["counts"].get(name, 0), row["small"].get(name, 0)
                seen = [d for d in sure if d.label == _label(name)]
                tallies[mode][name][0] += min(count, len(seen))
                tallies[mode][name][1] += count
                extra[mode] += max(0, len(seen) - count)
                small[mode][0] += min(tiny, sum(d.box[3] - d.box[1] < SMALL for d in seen))
                small[mode][1] += tiny
    recall = {
        mode: {name: (round(hit / total, 3) if total else None, total) for name, (hit, total) in t.items()}
        for mode, t in tallies.items()
    }
    small_recall = {mode: (round(hit / total, 3) if total else None, total) for mode, (hit, total) in small.items()}
    return {"frames": len(truth), "recall": recall, "small": small_recall, "extra": extra, "riding": riding}


def scene_figures(truth: list[dict], registry) -> dict:
    """Short clips tagged as one scene: which of their labelled classes the scene's tags name."""
    from heimdex.pipeline.frames import scan_frames
    from heimdex.pipeline.index import Span
    from heimdex.pipeline.keyframes import choose_keyframes
    from heimdex.pipeline.visual import tag_scene

    present: dict[str, set[str]] = defaultdict(set)
    for row in truth:
        present[row["clip"]] |= {name for name, n in row["counts"].items() if n and name in CLASSES}
    found, total, misses = 0, 0, []
    for clip, names in sorted(present.items()):
        scan = scan_frames(MEDIA / clip)
        if scan.end_s > SCENE_MAX_S:
            continue
        keyframes = choose_keyframes(Span(0.0, scan.end_s), scan.candidates, [])
        tags = {t.tag for t in tag_scene(keyframes, registry, scan.candidates)}
        for name in sorted(names):
            total += 1
            if _label(name) in tags:
                found += 1
            else:
                misses.append(f"{clip}: {name}")
    return {"classes": total, "found": found, "recall": round(found / total, 3) if total else None, "missed": misses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    from heimdex.models.registry import get_registry

    registry = get_registry()
    truth = json.loads(SET.read_text())["frames"]
    figures = {"frames": frame_figures(truth, registry), "scenes": scene_figures(truth, registry)}
    if args.json:
        print(json.dumps(figures, indent=1))
        return
    frames = figures["frames"]
    print(f"{frames['frames']} labelled frames of {len({r['clip'] for r in truth})} clips")
    print(f"{'class':14} {'objects':>7} {'whole':>7} {'tiled':>7}")
    for name in CLASSES:
        whole, total = frames["recall"]["whole"][name]
        tiled, _ = frames["recall"]["tiled"][name]
        if total:
            print(f"{name:14} {total:7d} {whole:7.2f} {tiled:7.2f}")
    (whole, total), (tiled, _) = frames["small"]["whole"], frames["small"]["tiled"]
    print(f"{'small ones':14} {total:7d} {whole:7.2f} {tiled:7.2f}")
    print(f"extra detections: whole {frames['extra']['whole']}, tiled {frames['extra']['tiled']}")
    riding = frames["riding"]
    print(f"riding pairs: {riding['labelled']} labelled, whole {riding['whole']}, tiled {riding['tiled']}")
    scenes = figures["scenes"]
    print(
        f"scenes (clips up to {SCENE_MAX_S:.0f} s as one scene): {scenes['found']} of {scenes['classes']} present "
        f"classes tagged; missed: {', '.join(scenes['missed']) or 'none'}"
    )


if __name__ == "__main__":
    main()
