"""Is it a face? MediaPipe's face mesh model (468 points, Apache-2.0) read for its face flag, via LiteRT.

BlazeFace fires now and then on the back of a head or a patterned jumper. MediaPipe's own
face tracking checks each region with the mesh model's face-presence output before it
trusts it; Heimdex does the same with every box BlazeFace finds. The file comes from the
``mediapipe`` wheel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heimdex.models.base import WeightFile
from heimdex.models.vision.litert import LiteRtModel

ROOM = 1.5  # the mesh reads the face's box grown this much (MediaPipe's face region is about this large)


class FaceMesh:
    """``presence(image, box)`` → how surely (0..1) the box on an RGB image holds a face."""

    def __init__(self, path: Path, threads: int):
        self._model = LiteRtModel(path, threads)

    def presence(self, image: np.ndarray, box: tuple[int, int, int, int]) -> float:
        import cv2

        size = self._model.input_size[0]
        left, top, right, bottom = box
        centre = np.array([(left + right) / 2, (top + bottom) / 2])
        side = max(1.0, max(right - left, bottom - top) * ROOM)
        warp = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 0.0, size / side)
        warp[:, 2] += size / 2 - centre
        crop = cv2.warpAffine(image, warp, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
        outputs = self._model.run((crop.astype(np.float32) / 255.0)[None])
        flag = next(o for o in outputs if o.size == 1).reshape(-1)[0]
        return float(1 / (1 + np.exp(-np.clip(flag, -60, 60))))


WEIGHTS = (
    WeightFile(
        "mediapipe",
        "mediapipe",
        "modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    ),
)
