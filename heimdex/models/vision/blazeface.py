"""Face detection: MediaPipe's BlazeFace, short range (faces within ~2 m) and full range (up to ~5 m), via LiteRT.

Both models come as files of the ``mediapipe`` wheel. Their anchors and box decoding follow
MediaPipe's face detection graphs (SsdAnchorsCalculator with fixed-size anchors,
TensorsToDetectionsCalculator, weighted non-maximum suppression); the image is letterboxed
to the model's square input, so faces keep their shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heimdex.models.base import WeightFile
from heimdex.models.types import FaceBox, iou
from heimdex.models.vision.litert import LiteRtModel

SAME_FACE_IOU = 0.3  # detections overlapping this much are one face (weighted together)


@dataclass(frozen=True)
class _Variant:
    """One BlazeFace model: its input side, anchor grid and score threshold (MediaPipe's graph options)."""

    side: int
    strides: tuple[int, ...]
    per_cell: int  # anchors per cell and layer: 2 with the interpolated scale, 1 without
    min_score: float

    def anchors(self) -> np.ndarray:
        """(cx, cy) of every anchor; layers of one stride share a grid, in MediaPipe's order."""
        centres = []
        layer = 0
        while layer < len(self.strides):
            stride, repeats = self.strides[layer], 0
            while layer < len(self.strides) and self.strides[layer] == stride:
                repeats += 1
                layer += 1
            cells = int(np.ceil(self.side / stride))
            for y in range(cells):
                for x in range(cells):
                    centres += [((x + 0.5) / cells, (y + 0.5) / cells)] * (self.per_cell * repeats)
        return np.array(centres, dtype=np.float32)


SHORT = _Variant(128, (8, 16, 16, 16), 2, 0.5)
FULL = _Variant(192, (4,), 1, 0.6)


class BlazeFace:
    """``detect(image)`` → faces from both models on an RGB image, one box per face."""

    def __init__(self, short: Path, full: Path, threads: int):
        self._models = [
            (LiteRtModel(short, threads), SHORT, SHORT.anchors()),
            (LiteRtModel(full, threads), FULL, FULL.anchors()),
        ]

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        import cv2

        height, width = image.shape[:2]
        shrink = min(1.0, FULL.side / max(height, width))  # both models read at most this much: shrink once
        if shrink < 1.0:
            size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        found: list[tuple[float, np.ndarray]] = []
        for model, variant, anchors in self._models:
            found += [(score, values / shrink) for score, values in self._run(model, variant, anchors, image)]
        return _weighted_nms(found)

    @staticmethod
    def _run(
        model: LiteRtModel, variant: _Variant, anchors: np.ndarray, image: np.ndarray
    ) -> list[tuple[float, np.ndarray]]:
        """(score, [cx, cy, w, h, kx0, ky0, …] in pixels of ``image``) of every face above the model's threshold."""
        import cv2

        height, width = image.shape[:2]
        side = max(height, width)
        scale = variant.side / side  # letterboxed: shrunk to fit, then the short side padded (black)
        small = cv2.resize(
            image, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
        square = np.zeros((variant.side, variant.side, 3), dtype=np.uint8)
        y0, x0 = (variant.side - small.shape[0]) // 2, (variant.side - small.shape[1]) // 2
        square[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
        top, left = y0 / scale, x0 / scale  # where the image begins, in its own pixels
        x = square.astype(np.float32) / 127.5 - 1
        outputs = model.run(x[None])
        raw, logits = sorted(outputs, key=lambda o: -o.shape[-1])  # regressors (16 values) first, then scores
        scores = 1 / (1 + np.exp(-np.clip(logits[0, :, 0].astype(np.float64), -100, 100)))
        keep = np.nonzero(scores >= variant.min_score)[0]
        values = raw[0, keep] / variant.side
        centres = np.repeat(anchors[keep], 7, axis=0).reshape(len(keep), 14)
        decoded = values.copy()
        decoded[:, 0:2] += anchors[keep]
        decoded[:, 4:16] += centres[:, 2:]  # keypoints are offsets from the anchor too
        decoded *= side  # to pixels of the square, then of the image
        decoded[:, [0] + list(range(4, 16, 2))] -= left
        decoded[:, [1] + list(range(5, 16, 2))] -= top
        return [(float(scores[i]), decoded[n]) for n, i in enumerate(keep)]


def _corners(values: np.ndarray) -> tuple[float, float, float, float]:
    cx, cy, w, h = (float(v) for v in values[:4])
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _weighted_nms(found: list[tuple[float, np.ndarray]]) -> list[FaceBox]:
    """MediaPipe's weighted suppression: overlapping detections are averaged by score into one face."""
    faces = []
    remaining = sorted(found, key=lambda f: -f[0])
    while remaining:
        best = remaining[0]
        same = [f for f in remaining if iou(_corners(best[1]), _corners(f[1])) >= SAME_FACE_IOU]
        remaining = [f for f in remaining if iou(_corners(best[1]), _corners(f[1])) < SAME_FACE_IOU]
        weights = np.array([s for s, _ in same])
        merged = (np.stack([v for _, v in same]) * weights[:, None]).sum(0) / weights.sum()
        cx, cy, w, h = merged[:4]
        box = (int(cx - w / 2), int(cy - h / 2), int(cx + w / 2), int(cy + h / 2))
        keypoints = tuple((float(merged[4 + 2 * k]), float(merged[5 + 2 * k])) for k in range(6))
        faces.append(FaceBox(box, best[0], keypoints))
    return faces


FILES = "modules/face_detection/face_detection_"
WEIGHTS = (
    WeightFile(
        "mediapipe",
        "mediapipe",
        FILES + "short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
    WeightFile(
        "mediapipe",
        "mediapipe",
        FILES + "full_range_sparse.tflite",
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
    ),
)
