"""Scene tags for one frame, from every visual model of the profile, each with confidence and source.

Tags are plain words (for lexical match) that are also embedded as text (for the
multilingual semantic match); their sources let search explain a match
("car 0.58 (objects), red car (colour); dark (lighting)").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heimdex.models.registry import Registry
from heimdex.models.vision.attributes import colour_name, lighting
from heimdex.models.vision.detect import Detection
from heimdex.models.vision.pose import actions

MIN_TAG = 0.35  # tags less sure than this are dropped
EXPRESSION_SIDE = 640  # faces for expressions are found on a frame scaled to this
COLOURED = {
    "car",
    "vehicle",
    "bicycle",
    "bus",
    "truck",
    "motorcycle",
    "bottle",
    "mug",
    "coffee cup",
    "chair",
    "box",
    "book",
    "boat",
}
SAME_AS: dict[str, str] = {"dining table": "table", "tv": "television", "cell phone": "mobile phone", "couch": "sofa"}
EXPRESSION_WORDS = {
    "happy": ("happy", "smiling"),
    "sad": ("sad",),
    "surprise": ("surprised",),
    "angry": ("angry",),
    "fear": ("afraid",),
    "disgust": ("disgusted",),
}


@dataclass(frozen=True)
class Tag:
    tag: str
    confidence: float
    source: str  # objects, concepts, colour, pose, expression, lighting, people, clip

    def as_dict(self) -> dict:
        return {"tag": self.tag, "confidence": round(self.confidence, 3), "source": self.source}


def tag_frame(image: np.ndarray, registry: Registry) -> list[Tag]:
    """All tags for an RGB frame, strongest first, one entry per tag text."""
    detections = _detections(image, registry)
    tags = [Tag(d.label, d.confidence, "objects") for d in detections]
    tags += _colours(image, detections)
    people = [d for d in detections if d.label == "person"]
    if len([p for p in people if p.confidence >= 0.5]) >= 2:
        tags.append(Tag("several people", min(sorted(p.confidence for p in people)[-2:]), "people"))
    if registry.has("concepts"):
        tags += [Tag(label, p, "concepts") for label, p in registry.get("concepts").classify(image)]
    if people and registry.has("pose"):
        tags += [Tag(action, conf, "pose") for action, conf in actions(registry.get("pose").estimate(image))]
    if registry.has("faces") and registry.has("expression"):
        tags += _expressions(image, registry)
    tags += [Tag(name, conf, "lighting") for name, conf in lighting(image)]
    return merge(tags)


def merge(tags: list[Tag]) -> list[Tag]:
    """One tag per text, keeping the most confident; weak tags dropped."""
    best: dict[str, Tag] = {}
    for tag in tags:
        if tag.confidence >= MIN_TAG and (tag.tag not in best or tag.confidence > best[tag.tag].confidence):
            best[tag.tag] = tag
    return sorted(best.values(), key=lambda t: -t.confidence)


def _detections(image: np.ndarray, registry: Registry) -> list[Detection]:
    found = []
    for role in ("objects_oi", "objects"):
        if registry.has(role):
            for d in registry.get(role).detect(image):
                found.append(Detection(SAME_AS.get(d.label) or d.label, d.confidence, d.box))
    return found


def _colours(image: np.ndarray, detections: list[Detection]) -> list[Tag]:
    """'red car': the colour of the middle of each coloured object's box."""
    height, width = image.shape[:2]
    tags = []
    for d in detections:
        if d.label not in COLOURED:
            continue
        left, top, right, bottom = d.box
        dx, dy = (right - left) * 0.25, (bottom - top) * 0.25
        region = image[
            int((top + dy) * height) : int((bottom - dy) * height), int((left + dx) * width) : int((right - dx) * width)
        ]
        if region.size == 0:
            continue
        colour, share = colour_name(region)
        if share >= 0.35:
            tags.append(Tag(f"{colour} {d.label}", d.confidence * min(1.0, share + 0.3), "colour"))
    return tags


def _expressions(image: np.ndarray, registry: Registry) -> list[Tag]:
    """Expression tags for the faces on a frame (found on a copy at most 640 px wide, enough for expressions)."""
    import cv2

    scale = min(1.0, EXPRESSION_SIDE / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    tags = []
    expression = registry.get("expression")
    for box in registry.get("faces").boxes(small):
        left, top, right, bottom = (int(v / scale) for v in box)
        label, confidence = expression.classify(image[top:bottom, left:right])
        tags += [Tag(word, confidence, "expression") for word in EXPRESSION_WORDS.get(label, ())]
    return tags
