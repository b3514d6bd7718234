"""Stage 7, OCR: the text on screen in each scene, read from every keyframe, each line once, with when it shows.

Lines are read on the keyframes only, and only where text changed: a cheap glance finds
whether and where a keyframe has text (:meth:`~heimdex.models.ocr.ScreenTextReader.glance`),
and a keyframe whose text boxes are those of the last keyframe read, with the same pixels in
them, takes that keyframe's lines without reading them again (:class:`TextMemory`: a logo,
a caption or a slide that stays is read once). When each line is on screen is then found on the
scene's frames of every second (the keyframe candidates): a line is still there while most
of its strokes (edges in its box on the keyframe it was read from) are there too. That finds
when a subtitle or a sign appears and goes to within a second, at the cost of comparing
a few small crops, not of reading every frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from heimdex.models.roles import ScreenTextModel
from heimdex.models.types import TextLine, iou
from heimdex.pipeline.index import OcrLine
from heimdex.pipeline.keyframes import Candidate, distinct

STILL_THERE = 0.6  # a line is on a frame where this share of its strokes is
MIN_STROKES = 20  # edge pixels a line needs before its presence is judged (else only its keyframe counts)
SAME_BOX = 0.7  # intersection over union of two glances' boxes taken for the same place
CELL_PX = 8  # text boxes are compared in cells of this side ...
SAME_PIXELS = 12.0  # ... and show the same text while no cell's mean grey moved this much (of 255)


@dataclass
class TextMemory:
    """The last keyframe of a video that was read: its grey picture, its glance's boxes and its lines. Kept by the
    run across its scenes, in time order; ``read`` and ``carried`` count keyframes with text read and taken over."""

    grey: np.ndarray | None = None
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    lines: list[TextLine] = field(default_factory=list)
    read: int = 0
    carried: int = 0

    def lines_on(self, image: np.ndarray, reader: ScreenTextModel) -> list[TextLine]:
        """The lines on ``image``: none where the glance finds no text, the last read lines where its text boxes
        hold the same pixels, else read."""
        boxes = reader.glance(image)
        if not boxes:
            return []
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if self._unchanged(grey, boxes):
            self.carried += 1
            return self.lines
        self.grey, self.boxes, self.lines = grey, boxes, reader.read(image, boxes)
        self.read += 1
        return self.lines

    def _unchanged(self, grey: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> bool:
        if self.grey is None or self.grey.shape != grey.shape or len(boxes) != len(self.boxes):
            return False
        if not all(any(iou(box, seen) >= SAME_BOX for seen in self.boxes) for box in boxes):
            return False
        return all(_same_pixels(self.grey, grey, box) for box in boxes + self.boxes)


def _same_pixels(before: np.ndarray, after: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Whether no cell of ``box`` changed between two grey pictures (a changed letter changes its cells)."""
    left, top, right, bottom = box
    if right <= left or bottom <= top:
        return True
    moved = cv2.absdiff(before[top:bottom, left:right], after[top:bottom, left:right])
    cells = (max(1, (right - left) // CELL_PX), max(1, (bottom - top) // CELL_PX))
    return float(cv2.resize(moved, cells, interpolation=cv2.INTER_AREA).max()) < SAME_PIXELS


def read_scene_text(
    keyframes: list[Candidate],
    reader: ScreenTextModel,
    frames: Sequence[Candidate] = (),
    memory: TextMemory | None = None,
) -> list[OcrLine]:
    """The distinct lines on a scene's keyframes, in time then reading order; a repeated line keeps its best reading.

    A keyframe that shows the same picture as one already read is not read again, nor text the ``memory`` (the
    run's, across scenes) already read. ``frames``, the scene's frames of every second, date each line: the first
    and last of them that show it."""
    memory = memory or TextMemory()
    best: dict[str, tuple[OcrLine, Candidate]] = {}
    for keyframe in distinct(sorted(keyframes, key=lambda k: k.t)):
        for line in memory.lines_on(keyframe.image, reader):
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
