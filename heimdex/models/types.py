"""The values models give and the rest of Heimdex reads: words, text lines, faces, boxes, bodies, poses,
detections, tags; with their small arithmetic (boxes, unit rows).

Outside :mod:`heimdex.models`, code imports the registry, the roles and this module only; adapters stay
behind the registry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Box = Sequence[float]


def overlap(a: Box, b: Box) -> float:
    """Shared area over the smaller box's area (1 when one box holds the other)."""
    shared = _shared(a, b)
    smaller = min(_area(a), _area(b))
    return shared / smaller if smaller > 0 else 0.0


def iou(a: Box, b: Box) -> float:
    """Intersection over union."""
    shared = _shared(a, b)
    union = _area(a) + _area(b) - shared
    return shared / union if union > 0 else 0.0


def _shared(a: Box, b: Box) -> float:
    width, height = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    return float(width * height) if width > 0 and height > 0 else 0.0


def _area(box: Box) -> float:
    return float((box[2] - box[0]) * (box[3] - box[1]))


@dataclass(frozen=True)
class Word:
    """One recognised word with its times (seconds); the one word type of the codebase, from ASR to the index."""

    text: str
    start: float
    end: float
    probability: float = 1.0  # how sure the recogniser was (1.0 where it is not known, e.g. read back from a sidecar)


# the labels of the COCO object detector, by class index ("" where COCO has none): what a Detection's label can say
COCO_LABELS = (
    "",
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "",
    "backpack",
    "umbrella",
    "",
    "",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "",
    "dining table",
    "",
    "",
    "toilet",
    "",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
)


PIECE_WORDS = 16  # speech is embedded whole and in pieces of about this many words
SENTENCE_END = re.compile(r"[.!?。！？]$")


def speech_pieces(words: Sequence[str]) -> list[range]:
    """Where a scene's speech is cut into pieces (indices into ``words``): about ``PIECE_WORDS`` words each, ending
    at a sentence end where one is near. One piece (the whole) is no cut: the caller embeds pieces only when two or more.
    The embedder cuts speech here, and search reads which piece matched from here."""
    pieces: list[range] = []
    start = 0
    for i, word in enumerate(words):
        length = i + 1 - start
        if length >= PIECE_WORDS or (length >= PIECE_WORDS // 2 and SENTENCE_END.search(word)):
            pieces.append(range(start, i + 1))
            start = i + 1
    if start < len(words):
        pieces.append(range(start, len(words)))
    return pieces


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Transcript:
    language: str
    language_probability: float
    duration_s: float
    segments: tuple[Segment, ...]

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments).strip()

    @property
    def words(self) -> list[Word]:
        return [word for segment in self.segments for word in segment.words]


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    source: str  # "rapidocr" or "tesseract"


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    landmarks: tuple[tuple[int, int], ...]
    descriptor: np.ndarray  # 128 float32, Euclidean distance < ~0.6 means the same person
    quality: float  # 0..1 from the detector's score and the face's size


SAME_FACE_OVERLAP = 0.3  # boxes sharing this much of the smaller one are one face seen twice


@dataclass(frozen=True)
class FaceBox:
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    score: float
    keypoints: tuple[tuple[float, float], ...]  # right eye, left eye, nose, mouth, right ear, left ear (pixels)


@dataclass(frozen=True)
class Detection:
    label: str
    confidence: float
    box: tuple[float, float, float, float]  # left, top, right, bottom, 0..1


# BlazePose's 33 points (the model gives 39; the last six are its own region helpers)
NOSE, LEFT_EYE, RIGHT_EYE, MOUTH_LEFT, MOUTH_RIGHT = 0, 2, 5, 9, 10


SHOULDER, ELBOW, WRIST, PINKY, INDEX, HIP, KNEE, ANKLE = (
    (11, 12),
    (13, 14),
    (15, 16),
    (17, 18),
    (19, 20),
    (23, 24),
    (25, 26),
    (27, 28),
)


POINTS = 33


@dataclass(frozen=True)
class Body:
    """One body: ``points`` (33 × x, y in image pixels), ``visible`` (33 × 0..1) and the model's confidence."""

    points: np.ndarray
    visible: np.ndarray
    score: float

    def seen(self, index: int, at_least: float = 0.5) -> bool:
        return bool(self.visible[index] >= at_least)


@dataclass(frozen=True)
class Hand:
    """One hand: 21 points (x, y in image pixels; 0 wrist, 4 thumb tip, 8 index tip, 12 middle tip, ...)."""

    points: np.ndarray
    score: float


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


@dataclass(frozen=True)
class Demographics:
    """One face's estimate: ``woman`` is P(female); ``age`` the expected age in years."""

    woman: float
    age: float

    @property
    def gender_confidence(self) -> float:
        return max(self.woman, 1.0 - self.woman)


@dataclass(frozen=True)
class Tag:
    tag: str
    confidence: float
    source: (
        str  # objects, concepts, colour, count, face, clothing, person, place: ..., pose, expression, lighting, clip
    )

    def as_dict(self) -> dict:
        return {"tag": self.tag, "confidence": round(self.confidence, 3), "source": self.source}


def normalize(rows: np.ndarray) -> np.ndarray:
    """L2-normalised float32 rows (zero rows stay zero)."""
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)
