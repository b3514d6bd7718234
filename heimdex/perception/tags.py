"""Scene tags for one frame, from every visual model of the profile, each with confidence and source.

Tags are plain words (for lexical match) that are also embedded as text (for the
multilingual semantic match); their sources let search explain a match
("woman 0.93 (face)", "red car (colour)", "classroom (place: chairs + people)").
What a frame yields: every object with its colour and how many there are, each
person by appearance (:mod:`heimdex.perception.people`), the place it looks
like, posture from the pose, and the light.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from heimdex.models.registry import Registry
from heimdex.models.types import Detection, Tag
from heimdex.perception.attributes import colour_name, lighting
from heimdex.perception.objects import find_objects
from heimdex.perception.people import Person, describe_people, posture
from heimdex.perception.places import places
from heimdex.perception.words import plural

MIN_TAG = 0.35  # tags less sure than this are dropped
COUNTED = 0.5  # detections at least this sure are counted
UNCOLOURED = {"person", "footwear", "tennis ball", "sports ball"}  # coloured elsewhere, or by what they are


def tag_frame(image: np.ndarray, registry: Registry, detections: list[Detection] | None = None) -> list[Tag]:
    """All tags for an RGB frame, strongest first, one entry per tag text; ``detections`` if the frame's objects
    were found already (:func:`heimdex.perception.objects.find_objects`)."""
    if detections is None:
        detections = find_objects(image, registry).detections
    tags = [Tag(d.label, d.confidence, "objects") for d in detections]
    tags += _colours(image, detections)
    counts = Counter(d.label for d in detections if d.confidence >= COUNTED)
    tags += [Tag(plural(label, n), _nth(detections, label, n), "count") for label, n in counts.items() if n > 1]
    if counts["person"] > 1:
        tags.append(Tag("several people", _nth(detections, "person", 2), "count"))
    concepts = registry.get("concepts").classify(image) if registry.has("concepts") else []
    tags += [Tag(label, p, "concepts") for label, p in concepts]
    people = describe_people(image, detections, registry)
    tags += person_tags(people)
    if people and registry.has("pose"):
        tags += [Tag(action, conf, "pose") for action, conf in posture(registry.get("pose").estimate(image))]
    seen: dict[str, float] = {}  # a concept's probability is one of 1000 classes: 0.5 already is a sure top-1
    for label, confidence in [(d.label, d.confidence) for d in detections] + [
        (c, min(1.0, 2 * p)) for c, p in concepts
    ]:
        seen[label] = max(seen.get(label, 0.0), confidence)
    tags += [Tag(place, conf, reason) for place, conf, reason in places(seen, counts)]
    tags += [Tag(name, conf, "lighting") for name, conf in lighting(image)]
    return merge(tags)


def person_tags(people: list[Person]) -> list[Tag]:
    """Each person's noun, clothes and phrase, and who is there together ('a man and a woman', 'two women')."""
    tags = []
    for person in people:
        sure = person.confidence
        if person.noun != "person":
            tags.append(Tag(person.noun, person.noun_confidence, "face"))
            if person.noun.startswith("elderly"):
                tags.append(Tag("elderly person", person.noun_confidence, "face"))
            if person.noun in ("boy", "girl"):
                tags.append(Tag("child", person.noun_confidence, "face"))
        for clothing in person.clothes:
            if clothing.telling:
                tags.append(Tag(clothing.words, min(sure, clothing.confidence + 0.3), "clothing"))
        upper = next((c for c in person.clothes if c.part == "upper" and c.colour), None)
        if upper:
            tags.append(Tag(f"{person.noun} in {upper.colour}", min(sure, upper.confidence + 0.3), "clothing"))
        tags.append(Tag(person.phrase(), sure, "person"))
        tags += [Tag(word, conf, "expression" if " " not in word else "person") for word, conf in person.extras]
        tags += [Tag(t.tag, min(sure, t.confidence), t.source) for t in person.worn]
        tags += [Tag(f"{person.noun} {word}", min(sure, conf), "person") for word, conf in person.extras]
    nouns = Counter(p.noun for p in people if p.noun != "person")
    if len(nouns) == 2 and sum(nouns.values()) == 2:
        tags.append(Tag(" and ".join(f"a {noun}" for noun in sorted(nouns)), 0.8, "count"))
    tags += [Tag(plural(noun, n), 0.8, "count") for noun, n in nouns.items() if n > 1]
    return tags


def merge(tags: list[Tag]) -> list[Tag]:
    """One tag per text, keeping the most confident; weak tags dropped."""
    best: dict[str, Tag] = {}
    for tag in tags:
        if tag.confidence >= MIN_TAG and (tag.tag not in best or tag.confidence > best[tag.tag].confidence):
            best[tag.tag] = tag
    return sorted(best.values(), key=lambda t: -t.confidence)


def _nth(detections: list[Detection], label: str, n: int) -> float:
    """The confidence of the n-th surest detection of ``label``: how sure 'n of them' is."""
    return sorted((d.confidence for d in detections if d.label == label), reverse=True)[n - 1]


def _colours(image: np.ndarray, detections: list[Detection]) -> list[Tag]:
    """'red car': the colour of the middle of every object's box."""
    height, width = image.shape[:2]
    tags = []
    for d in detections:
        if d.label in UNCOLOURED:
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
