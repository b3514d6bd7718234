"""Stage 7, OCR: the text on screen in each scene, read from every keyframe, each line once, with when it shows.

Lines are read on the keyframes only. When each line is on screen is then found on the
scene's frames of every second (the keyframe candidates): a line is still there while most
of its strokes (edges in its box on the keyframe it was read from) are there too. That finds
when a subtitle or a sign appears and goes to within a second, at the cost of comparing
a few small crops, not of reading every frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from heimdex.models.roles import ScreenTextModel
from heimdex.pipeline.index import OcrLine
from heimdex.pipeline.keyframes import Candidate, distinct

STILL_THERE = 0.6  # a line is on a frame where this share of its strokes is
MIN_STROKES = 20  # edge pixels a line needs before its presence is judged (else only its keyframe counts)


def read_scene_text(
    keyframes: list[Candidate], reader: ScreenTextModel, frames: Sequence[Candidate] = ()
) -> list[OcrLine]:
    """The distinct lines on a scene's keyframes, in time then reading order; a repeated line keeps its best reading.

    A keyframe that shows the same picture as one already read is not read again. ``frames``, the scene's
    frames of every second, date each line: the first and last of them that show it."""
    best: dict[str, tuple[OcrLine, Candidate]] = {}
    for keyframe in distinct(sorted(keyframes, key=lambda k: k.t)):
        for line in reader.read(keyframe.image):
            found = OcrLine(line.text, round(line.confidence, 3), line.box, keyframe.t, line.source)
            key = _normalized(line.text)
            if key not in best or found.confidence > best[key][0].confidence:
                best[key] = (found, keyframe)
    greys = _Greys(frames)
    dated = [_dated(line, keyframe, greys) for line, keyframe in best.values()]
    return sorted(dated, key=lambda line: (line.t, line.box[1], line.box[0]))


class _Greys:
    """The frames, in time order, each decoded to grey once when first needed."""

    def __init__(self, frames: Sequence[Candidate]):
        self.frames = sorted(frames, key=lambda frame: frame.t)
        self._grey: dict[int, np.ndarray] = {}

    def __getitem__(self, i: int) -> np.ndarray:
        if i not in self._grey:
            self._grey[i] = cv2.cvtColor(self.frames[i].pixels(), cv2.COLOR_RGB2GRAY)
        return self._grey[i]


def _dated(line: OcrLine, keyframe: Candidate, greys: _Greys) -> OcrLine:
    """``line`` with the first and last frame that show it (its keyframe's time when none can tell)."""
    left, top, right, bottom = (max(0, int(v)) for v in line.box)
    strokes = _strokes(cv2.cvtColor(keyframe.image, cv2.COLOR_RGB2GRAY)[top:bottom, left:right])
    first = last = line.t
    if int(strokes.sum()) >= MIN_STROKES and greys.frames:
        times = [frame.t for frame in greys.frames]
        at = int(np.argmin([abs(t - line.t) for t in times]))

        def shows(i: int) -> bool:
            crop = greys[i][top:bottom, left:right]
            if crop.shape != strokes.shape:
                return False
            there = cv2.dilate(_strokes(crop).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
            return float((strokes & there).sum()) / float(strokes.sum()) >= STILL_THERE

        i = at
        while i - 1 >= 0 and shows(i - 1):
            i -= 1
        first = min(first, times[i])
        i = at
        while i + 1 < len(times) and shows(i + 1):
            i += 1
        last = max(last, times[i])
    return OcrLine(line.text, line.confidence, line.box, line.t, line.source, round(first, 3), round(last, 3))


def _strokes(grey: np.ndarray) -> np.ndarray:
    """Where a crop has edges (text strokes, for a line of text)."""
    if grey.size == 0:
        return np.zeros(grey.shape, bool)
    return cv2.Canny(grey, 80, 200) > 0


def _normalized(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())
