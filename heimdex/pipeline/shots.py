"""Stage 3, shots: PySceneDetect's detectors, fed frame by frame from the single decode pass.

Hard cuts come from the content and adaptive detectors, fades from the threshold
detector; times come from each frame's own timestamp, so variable frame rate
video gets true times. Cuts the detectors report within ``MIN_GAP_S`` of each
other are one cut.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode, ThresholdDetector
from scenedetect.common import Timecode

from heimdex.pipeline.index import Shot

MIN_GAP_S = 0.4
DETECTION_WIDTH = 256  # PySceneDetect's own default working width


class ShotDetector:
    """Feed every frame in order (small BGR images); ``finish`` returns the shots."""

    def __init__(self, frame_rate: Fraction):
        self._frame_rate = frame_rate
        self._detectors = {
            "cut": [ContentDetector(), AdaptiveDetector()],
            "fade": [ThresholdDetector()],
        }
        self._cuts: list[tuple[float, str]] = []
        self._last: FrameTimecode | None = None

    def feed(self, pts: int, time_base: Fraction, image: np.ndarray) -> None:
        """One frame: its timestamp (relative to the stream start) and its BGR pixels."""
        timecode = FrameTimecode(Timecode(pts=pts, time_base=time_base), fps=self._frame_rate)
        for kind, detectors in self._detectors.items():
            for detector in detectors:
                self._cuts += [(cut.seconds, kind) for cut in detector.process_frame(timecode, image)]
        self._last = timecode

    def finish(self, end_s: float) -> list[Shot]:
        """The shots from 0 to ``end_s`` (the end of the last frame)."""
        if self._last is not None:
            for kind, detectors in self._detectors.items():
                for detector in detectors:
                    self._cuts += [(cut.seconds, kind) for cut in detector.post_process(self._last)]
        return shots_from_cuts(self._cuts, end_s)


def shots_from_cuts(cuts: list[tuple[float, str]], end_s: float) -> list[Shot]:
    """Shots between sorted, de-duplicated cuts; a cut both detectors saw counts as a hard cut."""
    kept: list[tuple[float, str]] = []
    for time, kind in sorted(cuts, key=lambda cut: (cut[0], cut[1] != "cut")):
        if not MIN_GAP_S <= time <= end_s - MIN_GAP_S:
            continue
        if kept and time - kept[-1][0] < MIN_GAP_S:
            if kind == "cut":
                kept[-1] = (kept[-1][0], "cut")
            continue
        kept.append((time, kind))
    starts = [(0.0, "start"), *kept]
    ends = [time for time, _ in kept] + [end_s]
    return [Shot(round(start, 3), round(end, 3), kind) for (start, kind), end in zip(starts, ends)]
