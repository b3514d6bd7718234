"""Box arithmetic shared by the detectors and taggers: boxes are (left, top, right, bottom), any unit."""

from __future__ import annotations

from collections.abc import Sequence

Box = Sequence[float]


def overlap(a: Box, b: Box) -> float:
    """Shared area over the smaller box's area (1 when one box holds the other)."""
    shared = _shared(a, b)
    smaller = min(_area(a), _area(b))
    return shared / smaller if smaller > 0 else 0.0


def iou(a: Box, b: Box) -> float:
    """Intersection over union."""
    shared = _shared(a, b)
    union = _area(a) + _area(b) - shared
    return shared / union if union > 0 else 0.0


def _shared(a: Box, b: Box) -> float:
    width, height = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    return float(width * height) if width > 0 and height > 0 else 0.0


def _area(box: Box) -> float:
    return float((box[2] - box[0]) * (box[3] - box[1]))
