"""Bodies and hands: MediaPipe's BlazePose landmarks (33 points) and hand landmarks (21 points), via LiteRT.

Both models come as files of the ``mediapipe`` wheel (Apache-2.0). MediaPipe finds the
region to read with detectors of their own; Heimdex already knows where each person's
face is, so the body is read in a square placed from the face (BlazePose's own detector
places its box from the face too) and a hand in a square placed from the body's wrist,
index and pinky points, turned so the fingers point up, as MediaPipe's
hand-from-pose graph does. Points come back in pixels of the image given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
from heimdex.models.types import INDEX, PINKY, POINTS, WRIST, Body, Hand
from heimdex.models.vision.litert import LiteRtModel

BODY_BELOW_FACE = 2.6  # the body's square is centred this many face heights below the face's centre ...
BODY_SIDE = 7.0  # ... and is this many face heights wide: a raised hand and the knees of a standing person fit
HAND_SIDE = 2.6  # a hand's square, in wrist-to-knuckles lengths (MediaPipe's hand-from-pose scale)
MIN_BODY = 0.5  # the model's own confidence that a body is in the square


class BodyLandmarker:
    """``body(image, face_box)`` → the body under a face; ``hand(image, body, side)`` → that body's hand."""

    def __init__(self, info: ModelInfo, pose: Path, hand: Path, threads: int):
        self.info = info
        self._pose = LiteRtModel(pose, threads)
        self._hand = LiteRtModel(hand, threads)

    def body(self, image: np.ndarray, face_box: tuple[int, int, int, int]) -> Body | None:
        """The body whose face is at ``face_box`` (pixels), or None when the model sees no body there."""
        left, top, right, bottom = face_box
        height = max(1.0, float(bottom - top))
        centre = np.array([(left + right) / 2, (top + bottom) / 2 + BODY_BELOW_FACE * height])
        outputs = self._read(self._pose, image, centre, BODY_SIDE * height, 0.0)
        raw, flag = _by_size(outputs, 195), _by_size(outputs, 1)
        score = float(flag.reshape(-1)[0])  # already a probability
        if score < MIN_BODY:
            return None
        values = raw.reshape(39, 5)[:POINTS]
        points = self._back(values[:, :2], self._pose, centre, BODY_SIDE * height, 0.0)
        visible = _sigmoid(values[:, 3]) * _sigmoid(values[:, 4])
        return Body(points, visible.astype(np.float32), score)

    def hand(self, image: np.ndarray, body: Body, side: int) -> Hand | None:
        """The hand of ``body`` on ``side`` (0: the person's left, 1: right), or None when it is not seen."""
        wrist, index, pinky = body.points[WRIST[side]], body.points[INDEX[side]], body.points[PINKY[side]]
        if min(body.visible[WRIST[side]], body.visible[INDEX[side]]) < 0.5:
            return None
        knuckles = (index + pinky) / 2
        reach = float(np.linalg.norm(knuckles - wrist))
        if reach < 2:
            return None
        angle = float(np.degrees(np.arctan2(knuckles[0] - wrist[0], wrist[1] - knuckles[1])))  # 0 when fingers point up
        centre = wrist + (knuckles - wrist) * 1.5
        outputs = self._read(self._hand, image, centre, HAND_SIDE * reach * 2, angle)
        raw = _by_size(outputs, 63)
        flags = [o.reshape(-1)[0] for o in outputs if o.size == 1]
        score = float(flags[0]) if flags else 0.0
        if score < MIN_BODY:
            return None
        points = self._back(raw.reshape(21, 3)[:, :2], self._hand, centre, HAND_SIDE * reach * 2, angle)
        return Hand(points, score)

    @staticmethod
    def _read(model: LiteRtModel, image: np.ndarray, centre: np.ndarray, side: float, angle: float) -> list[np.ndarray]:
        """Run ``model`` on the square of ``side`` pixels at ``centre``, turned by ``angle`` degrees (black outside)."""
        import cv2

        size = model.input_size[0]
        warp = _square(centre, side, angle, size)
        crop = cv2.warpAffine(image, warp, (size, size), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
        return model.run((crop.astype(np.float32) / 255.0)[None])

    @staticmethod
    def _back(points: np.ndarray, model: LiteRtModel, centre: np.ndarray, side: float, angle: float) -> np.ndarray:
        """Points on the model's input back to pixels of the image."""
        import cv2

        back = cv2.invertAffineTransform(_square(centre, side, angle, model.input_size[0]))
        return (points.astype(np.float64) @ back[:, :2].T + back[:, 2]).astype(np.float32)


def _square(centre: np.ndarray, side: float, angle: float, size: int) -> np.ndarray:
    """The affine map from the image to a ``size``-pixel input showing the square (turned by ``angle``)."""
    import cv2

    turn = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, size / side)
    turn[:, 2] += np.array([size / 2, size / 2]) - centre
    return turn


def _by_size(outputs: list[np.ndarray], size: int) -> np.ndarray:
    return next(o for o in outputs if o.size == size)


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(np.asarray(x, dtype=np.float64), -60, 60)))


MODULES = "modules/"
BLAZEPOSE = ModelSpec(
    ModelInfo(
        "body",
        "mediapipe-blazepose-full+hand-landmark-lite",
        "mediapipe-0.10.21",
        None,
        "Apache-2.0",
        "pypi:mediapipe",
    ),
    lambda spec, settings: BodyLandmarker(
        spec.info,
        spec.path("pose_landmark_full.tflite"),
        spec.path("hand_landmark_lite.tflite"),
        settings.lane_threads,
    ),
    (
        WeightFile(
            "mediapipe",
            "mediapipe",
            MODULES + "pose_landmark/pose_landmark_full.tflite",
            "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        ),
        WeightFile(
            "mediapipe",
            "mediapipe",
            MODULES + "hand_landmark/hand_landmark_lite.tflite",
            "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6",
        ),
    ),
)
