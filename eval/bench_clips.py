"""Benchmark cutting clips: what encoding a clip anew (so it holds only its range) costs.

    python -m eval.bench_clips [--media ../shared/media] [--seconds 10 30 120] [--json]

The source is the indexing benchmark's video (:func:`eval.bench_index.build_video`, 1080p30
H.264 with speech, three minutes of it). Each clip starts 30 s in and is cut as ``/clip`` and a
public link cut it (:func:`heimdex.library.clips.cut`); it prints, per length, the wall time, the
realtime factor (seconds of clip per second of work), the clip's size and bitrate.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import av

from eval.bench_index import build_video
from heimdex.library.clips import cut


def measure(source: Path, start_s: float, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as work:
        target = Path(work) / "clip.mp4"
        started = time.perf_counter()
        cut(source, start_s, start_s + seconds, target)
        took = time.perf_counter() - started
        size = target.stat().st_size
        with av.open(str(target)) as clip:
            length = float(clip.duration / av.time_base) if clip.duration else 0.0
            height = clip.streams.video[0].codec_context.height
    return {
        "clip_s": seconds,
        "wall_s": round(took, 2),
        "realtime": round(seconds / took, 2),
        "bytes": size,
        "mbit_per_s": round(8 * size / max(length, 1e-6) / 1e6, 2),
        "length_s": round(length, 2),
        "height": height,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--media", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "media")
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0, 30.0, 120.0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    source = build_video(args.media, 3)
    rows = [measure(source, 30.0, seconds) for seconds in args.seconds]
    if args.json:
        print(json.dumps(rows))
        return
    print(f"source: {source.name} (1080p30 H.264); clips from 0:30")
    print(f"{'clip s':>7} {'wall s':>7} {'x realtime':>10} {'MB':>6} {'Mbit/s':>7} {'height':>6}")
    for row in rows:
        print(
            f"{row['clip_s']:>7.0f} {row['wall_s']:>7.2f} {row['realtime']:>10.2f} {row['bytes'] / 1e6:>6.2f}"
            f" {row['mbit_per_s']:>7.2f} {row['height']:>6}"
        )


if __name__ == "__main__":
    main()
