"""Person masks: MediaPipe's selfie segmentation (256×256, Apache-2.0), from the ``mediapipe`` wheel's files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
from heimdex.models.vision.litert import LiteRtModel


class PersonSegmenter:
    """``mask(image)`` → per-pixel probability (0..1, float32, the image's size) that a person is there."""

    def __init__(self, info: ModelInfo, model: Path, threads: int):
        self.info = info
        self._model = LiteRtModel(model, threads)

    def mask(self, image: np.ndarray) -> np.ndarray:
        import cv2

        height, width = self._model.input_size
        x = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        [raw] = self._model.run(x[None])
        return cv2.resize(raw[0, :, :, 0], (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


SELFIE = ModelSpec(
    ModelInfo(
        "segmentation", "mediapipe-selfie-segmentation", "mediapipe-0.10.21", None, "Apache-2.0", "pypi:mediapipe"
    ),
    lambda spec, settings: PersonSegmenter(spec.info, spec.path("selfie_segmentation.tflite"), settings.lane_threads),
    (
        WeightFile(
            "mediapipe",
            "mediapipe",
            "modules/selfie_segmentation/selfie_segmentation.tflite",
            "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
        ),
    ),
)
