"""Shot boundaries with and without the frames no other frame refers to, on the shared media.

    python -m eval.boundaries [--media ../shared/media]

The frames stage skips non-reference frames (a third of H.264's decoding work); a cut is then
seen at most a frame or two late. For every video of the shared media this decodes it both
ways and matches the cuts (within ``TOLERANCE_S``), and prints per video and overall: cuts
each way, matched, agreement (2 × matched / (cuts + cuts), 1.0 when neither finds any) and
the decode time each way.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from heimdex.library.media import probe
from heimdex.pipeline.frames import scan_frames

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media"
TOLERANCE_S = 0.1


def matched(a: list[float], b: list[float], tolerance: float = TOLERANCE_S) -> int:
    """Cuts of ``a`` paired one to one with cuts of ``b`` no further than ``tolerance`` apart (greedy, in time)."""
    count, j = 0, 0
    for t in a:
        while j < len(b) and b[j] < t - tolerance:
            j += 1
        if j < len(b) and abs(b[j] - t) <= tolerance:
            count += 1
            j += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--media", type=Path, default=MEDIA)
    args = parser.parse_args()
    print("| video | cuts (every frame) | cuts (skipping) | matched | agreement | decode s every / skipping |")
    print("|---|---:|---:|---:|---:|---|")
    total_every = total_skip = total_matched = 0
    for path in sorted(args.media.glob("*.mp4")):
        rotation = probe(path).rotation
        runs = {}
        for every in (True, False):
            started = time.perf_counter()
            scan = scan_frames(path, rotation, every_frame=every)
            runs[every] = ([shot.start_s for shot in scan.shots[1:]], time.perf_counter() - started)
        (every_cuts, every_s), (skip_cuts, skip_s) = runs[True], runs[False]
        pairs = matched(every_cuts, skip_cuts)
        both = len(every_cuts) + len(skip_cuts)
        total_every, total_skip, total_matched = (
            total_every + len(every_cuts),
            total_skip + len(skip_cuts),
            total_matched + pairs,
        )
        print(
            f"| {path.name} | {len(every_cuts)} | {len(skip_cuts)} | {pairs} | {2 * pairs / both if both else 1.0:.2f} "
            f"| {every_s:.1f} / {skip_s:.1f} |"
        )
    both = total_every + total_skip
    print(
        f"| all | {total_every} | {total_skip} | {total_matched} | **{2 * total_matched / both if both else 1.0:.3f}** | |"
    )


if __name__ == "__main__":
    main()
