"""What each model role does, as the stages and search see it: one Protocol per role.

The registry hands out models typed by these (``registry.get("ocr")`` is a
:class:`ScreenTextModel`), so a stage depends on what a role does, never on which
package serves it; the offline and hub profiles fill the same roles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from heimdex.models.base import ModelInfo
from heimdex.models.types import Body, Demographics, Detection, Face, FaceBox, Hand, Pose, TextLine, Transcript

Role = Literal[
    "asr",
    "text",
    "ocr",
    "objects",
    "objects_oi",
    "concepts",
    "pose",
    "expression",
    "faces",
    "demographics",
    "segmentation",
    "body",
    "clip",
]

__all__ = [
    "BodyModel",
    "ClipModel",
    "ConceptModel",
    "DemographicsModel",
    "ExpressionModel",
    "FaceModel",
    "ObjectModel",
    "PoseModel",
    "Role",
    "ScreenTextModel",
    "SegmentationModel",
    "SpeechModel",
    "TextEmbedder",
]


class SpeechModel(Protocol):
    """asr: speech to text with word times."""

    info: ModelInfo

    def transcribe(
        self,
        audio: np.ndarray | str | Path,
        language: str | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> Transcript: ...


class ScreenTextModel(Protocol):
    """ocr: the lines of text on a frame."""

    info: ModelInfo

    def glance(self, image: np.ndarray) -> list[tuple[int, int, int, int]]: ...

    def read(self, image: np.ndarray, glanced: Sequence[tuple[int, int, int, int]] | None = None) -> list[TextLine]: ...


class ObjectModel(Protocol):
    """objects, objects_oi: labelled boxes on a frame."""

    info: ModelInfo

    def detect(self, image: np.ndarray) -> list[Detection]: ...


class ConceptModel(Protocol):
    """concepts: what a whole frame shows, with probabilities."""

    info: ModelInfo

    def classify(self, image: np.ndarray) -> list[tuple[str, float]]: ...


class PoseModel(Protocol):
    """pose: a person's body keypoints."""

    info: ModelInfo

    def estimate(self, image: np.ndarray) -> Pose: ...


class ExpressionModel(Protocol):
    """expression: the expression on a face crop."""

    info: ModelInfo

    def classify(self, face: np.ndarray) -> tuple[str, float]: ...


class FaceModel(Protocol):
    """faces: where faces are, and a descriptor of each (same person: close descriptors)."""

    info: ModelInfo

    def boxes(self, image: np.ndarray) -> list[tuple[int, int, int, int]]: ...

    def detect(self, image: np.ndarray) -> list[FaceBox]: ...

    def describe(self, image: np.ndarray, box: tuple[int, int, int, int], score: float = 1.0) -> Face: ...

    def find(self, image: np.ndarray, people: int = 0, every: bool = False) -> list[Face]: ...

    def hog_boxes(self, image: np.ndarray) -> list[FaceBox]: ...


class DemographicsModel(Protocol):
    """demographics: gender and age from the faces in ``boxes`` (pixels) on an image."""

    info: ModelInfo

    def estimate(self, image: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> list[Demographics]: ...


class SegmentationModel(Protocol):
    """segmentation: where a person is on an image, per pixel (0..1)."""

    info: ModelInfo

    def mask(self, image: np.ndarray) -> np.ndarray: ...


class ClipModel(Protocol):
    """clip (hub): images and texts in one space, and zero-shot tags."""

    info: ModelInfo

    def embed_images(self, images: Sequence[np.ndarray]) -> np.ndarray: ...

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray: ...

    def zero_shot(self, image_rows: np.ndarray, top_k: int = 5) -> list[list[tuple[str, float]]]: ...


class BodyModel(Protocol):
    """body: the 33 body points under a face, and a body's hands (21 points each)."""

    info: ModelInfo

    def body(self, image: np.ndarray, face_box: tuple[int, int, int, int]) -> Body | None: ...

    def hand(self, image: np.ndarray, body: Body, side: int) -> Hand | None: ...


class TextEmbedder(Protocol):
    info: ModelInfo

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for search queries."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for indexed text (transcripts, OCR, tags)."""
        ...
