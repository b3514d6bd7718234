"""People by appearance: who each person seen looks like, what they wear, what they carry or ride.

For each person box (largest first): the face inside it gives gender and age (the
demographics model, only above a calibrated confidence), the body landmarks of that
person (the pose model on the person's crop) bound the upper and lower body, the person
mask keeps the colours to the person's own pixels, and the concepts model names the
garment on the crop. Workwear (a high-visibility vest, a hard hat) and glasses are read
in the regions these bound (:mod:`heimdex.perception.wear`). Without a face a person
stays a ``person``: no gender is guessed from a body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from heimdex.models.registry import Registry
from heimdex.models.types import VISIBLE, Detection, Pose, Tag, overlap
from heimdex.perception.attributes import colour_name
from heimdex.perception.objects import rides
from heimdex.perception.wear import glasses, hard_hat, vest
from heimdex.perception.words import CARRIED, GARMENTS, GENERIC, HELD, RIDDEN, WORN, article

MAX_PEOPLE = 6  # described per frame, largest first
MIN_PERSON = 0.35  # detector confidence for a person to be described
MIN_PERSON_PX = 48  # people shorter than this are counted, not described
GENDER_MIN = 0.7  # chosen by eval/appearance.py on its tuning clips (precision 1.00 there)
GARMENT_MIN = 0.15  # concepts probability for a garment name
WORN_MIN = 0.3  # concepts probability for a hat, tie or glasses (small things: more often mistaken)
MIN_REGION_PX = 24  # body parts shorter than this are coloured but not classified
COLOUR_MIN = 0.35  # share of a region's person pixels that must have the colour
CONCEPT_HATS = {f"with {article(thing)}" for thing in WORN.values() if thing in ("hat", "helmet")}
MIN_GLASSES_FACE_PX = 40  # glasses are looked for on faces at least this tall (the smallest wearer's measured 43)
FACE_ONLY = 0.6  # the confidence of a person known only by a face the person detector missed
EXPRESSION_WORDS: dict[str, tuple[str, ...]] = {
    "happy": ("smiling", "happy"),
    "sad": ("sad",),
    "surprise": ("surprised",),
    "angry": ("angry",),
    "fear": ("afraid",),
    "disgust": ("disgusted",),
}


@dataclass(frozen=True)
class Clothing:
    part: str  # upper or lower
    colour: str | None
    garment: str  # cardigan, t-shirt, ... or the generic top / trousers
    confidence: float

    @property
    def words(self) -> str:
        return f"{self.colour} {self.garment}" if self.colour else self.garment

    @property
    def telling(self) -> bool:
        """Whether it says anything: a colour, or a garment more particular than 'top' or 'trousers'."""
        return bool(self.colour) or self.garment not in GENERIC.values()


@dataclass
class Person:
    box: tuple[float, float, float, float]  # left, top, right, bottom, 0..1 of the frame
    confidence: float
    noun: str = "person"  # man, woman, boy, girl, child, elderly man, elderly woman, person
    noun_confidence: float = 0.0
    clothes: list[Clothing] = field(default_factory=list[Clothing])
    extras: list[tuple[str, float]] = field(default_factory=list[tuple[str, float]])  # "with a backpack", "smiling"
    worn: list[Tag] = field(default_factory=list[Tag])  # "safety vest" (vest colour), "hard hat", "glasses", ...

    def phrase(self) -> str:
        """'woman in a grey cardigan and black trousers, smiling'."""
        worn = " and ".join(article(c.words) for c in self.clothes if c.telling)
        text = f"{self.noun} in {worn}" if worn else self.noun
        extras = [word for word, _ in self.extras]
        return ", ".join([text, *extras]) if extras else text


def describe_people(image: np.ndarray, detections: list[Detection], registry: Registry) -> list[Person]:
    """Every clearly seen person on an RGB frame, described."""
    height, width = image.shape[:2]
    boxes = [
        d
        for d in detections
        if d.label == "person" and d.confidence >= MIN_PERSON and (d.box[3] - d.box[1]) * height >= MIN_PERSON_PX
    ]
    boxes = sorted(boxes, key=lambda d: -(d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))[:MAX_PEOPLE]
    people = [Person(d.box, d.confidence) for d in boxes]
    _faces(image, people, registry)
    for person in people:
        left, top, right, bottom = _pixels(person.box, width, height)
        crop = image[top:bottom, left:right]
        pose = registry.get("pose").estimate(crop) if registry.has("pose") else None
        mask = registry.get("segmentation").mask(crop) >= 0.5 if registry.has("segmentation") else None
        classify = registry.get("concepts").classify if registry.has("concepts") else None
        concepts = classify(crop) if classify else []
        person.clothes = _clothes(crop, pose, mask, concepts, classify)
        person.extras += [
            (f"with {article(WORN[label])}", p) for label, p in concepts if label in WORN and p >= WORN_MIN
        ]
        _workwear(crop, pose, mask, person)
        person.extras += _with_things(person, detections, pose)
    return people


def _pixels(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    return int(box[0] * width), int(box[1] * height), max(int(box[2] * width), 1), max(int(box[3] * height), 1)


def _faces(image: np.ndarray, people: list[Person], registry: Registry) -> None:
    """Gender, age and expression from the face inside each person's head region."""
    if not registry.has("faces"):
        return
    faces = registry.get("faces").boxes(image)
    height, width = image.shape[:2]
    owned: list[tuple[Person, tuple[int, int, int, int]]] = []
    for face in faces:
        cx, cy = (face[0] + face[2]) / 2 / width, (face[1] + face[3]) / 2 / height
        owners = [
            p for p in people if p.box[0] <= cx <= p.box[2] and p.box[1] <= cy <= p.box[1] + 0.5 * (p.box[3] - p.box[1])
        ]
        if not owners and len(people) < MAX_PEOPLE:  # a face the person detector missed: the body is below it
            side = (face[2] - face[0]) / width
            box = (max(0.0, cx - 1.5 * side), face[1] / height, min(1.0, cx + 1.5 * side), 1.0)
            people.append(Person(box, FACE_ONLY))
            owners = [people[-1]]
        if owners and not any(o is owners[0] for o, _ in owned):
            owned.append((owners[0], face))
    if not owned:
        return
    if registry.has("demographics"):
        estimates = registry.get("demographics").estimate(image, [face for _, face in owned])
        for (person, _), estimate in zip(owned, estimates):
            if estimate.gender_confidence >= GENDER_MIN:
                person.noun, person.noun_confidence = (
                    _noun(estimate.woman >= 0.5, estimate.age),
                    estimate.gender_confidence,
                )
    if registry.has("concepts"):
        for person, face in owned:
            if face[3] - face[1] < MIN_GLASSES_FACE_PX:
                continue
            worn = glasses(registry.get("concepts").classify(_head(image, face)))
            if worn:
                person.extras.append((f"with {worn.words}", worn.confidence))
                person.worn.append(Tag(worn.words, worn.confidence, worn.source))
    if registry.has("expression"):
        for person, (left, top, right, bottom) in owned:
            label, confidence = registry.get("expression").classify(image[top:bottom, left:right])
            person.extras += [(word, confidence) for word in EXPRESSION_WORDS.get(label, ())]


def _head(image: np.ndarray, face: tuple[int, int, int, int]) -> np.ndarray:
    """The head around a face box: a quarter of its width either side, a quarter of its height above, an eighth
    below."""
    left, top, right, bottom = face
    width, height = right - left, bottom - top
    return image[max(0, top - height // 4) : bottom + height // 8, max(0, left - width // 4) : right + width // 4]


def _noun(woman: bool, age: float) -> str:
    if age < 13:
        return "girl" if woman else "boy"
    if age >= 65:
        return "elderly woman" if woman else "elderly man"
    return "woman" if woman else "man"


def _clothes(
    crop: np.ndarray,
    pose: Pose | None,
    mask: np.ndarray | None,
    concepts: list[tuple[str, float]],
    classify: Callable[[np.ndarray], list[tuple[str, float]]] | None,
) -> list[Clothing]:
    """The upper and lower body's colour and garment (a part the landmarks do not show is left out).

    The garment is named from what the concepts model sees on the whole person and on that part alone."""
    height = crop.shape[0]
    regions = {"upper": (0.2, 0.5), "lower": (0.55, 0.85)}
    if pose is not None and pose.seen("left_shoulder", "right_shoulder"):
        shoulders = (pose.y("left_shoulder") + pose.y("right_shoulder")) / 2
        if pose.seen("left_hip", "right_hip"):
            hips = (pose.y("left_hip") + pose.y("right_hip")) / 2
            knees = [pose.y(k) for k in ("left_knee", "right_knee") if pose.points[k][2] >= VISIBLE]
            regions = {"upper": (shoulders, hips), "lower": (hips, max(knees) if knees else min(1.0, hips + 0.3))}
        else:  # a close-up: the body below the shoulders is all top
            regions = {"upper": (shoulders + 0.05, 1.0)}
    found = []
    for part, (start, end) in regions.items():
        top, bottom = int(max(0.0, start) * height), int(min(1.0, end) * height)
        if bottom - top < 4:
            continue
        pixels = crop[top:bottom]
        if mask is not None and mask[top:bottom].mean() > 0.2:
            pixels = pixels[mask[top:bottom]]
        colour, share = colour_name(pixels.reshape(-1, 1, 3))
        seen = concepts + (classify(crop[top:bottom]) if classify and bottom - top >= MIN_REGION_PX else [])
        named = [(GARMENTS[label][0], p) for label, p in seen if GARMENTS.get(label, ("", ""))[1] == part]
        best = max(named, key=lambda n: n[1], default=("", 0.0))
        garment, confidence = best if best[1] >= GARMENT_MIN else (GENERIC[part], 0.5)
        found.append(Clothing(part, colour if share >= COLOUR_MIN else None, garment, max(confidence, share)))
    return found


def _workwear(crop: np.ndarray, pose: Pose | None, mask: np.ndarray | None, person: Person) -> None:
    """A high-visibility vest on the torso (it becomes the person's top) and a hard hat on the crown of the head,
    both bounded by the body landmarks and read only on the person's own pixels (the person mask)."""
    if pose is None or not pose.seen("left_shoulder", "right_shoulder"):
        return
    height, width = crop.shape[:2]
    own = mask if mask is not None and mask.mean() > 0.2 else None
    if own is None:  # without the person's own pixels a wall or a backdrop would be read
        return
    shoulders = float(np.clip((pose.y("left_shoulder") + pose.y("right_shoulder")) / 2, 0.0, 1.0))
    hips = (pose.y("left_hip") + pose.y("right_hip")) / 2 if pose.seen("left_hip", "right_hip") else shoulders + 0.3
    top, bottom = int(shoulders * height), int(float(np.clip(hips, 0.0, 1.0)) * height)
    worn = vest(crop[top:bottom][own[top:bottom]])
    if worn:
        person.clothes = [Clothing("upper", worn.colour, worn.thing, worn.confidence)] + [
            c for c in person.clothes if c.part != "upper"
        ]
        person.worn += [
            Tag(w, worn.confidence, worn.source) for w in (worn.thing, "safety vest", f"{worn.colour} vest")
        ]
    xs = sorted(float(np.clip(pose.points[side][0], 0.0, 1.0)) for side in ("left_shoulder", "right_shoulder"))
    centre, half = (xs[0] + xs[1]) / 2 * width, max(2.0, 0.3 * (xs[1] - xs[0]) * width)
    left, right = int(max(0, centre - half)), int(min(width, centre + half))
    head = np.flatnonzero(own[:top, left:right].any(axis=1))
    if right - left < 4 or not len(head):
        return
    crown = slice(int(head[0]), int(head[0]) + max(2, int(0.35 * (top - head[0]))))
    hat = hard_hat(crop[crown, left:right][own[crown, left:right]])
    if hat:
        person.extras = [e for e in person.extras if e[0] not in CONCEPT_HATS]  # the hard hat says it better
        person.extras.append((f"with {article(hat.words)}", hat.confidence))
        person.worn += [Tag(w, hat.confidence, hat.source) for w in (hat.thing, hat.words)]


def _with_things(person: Person, detections: list[Detection], pose: Pose | None) -> list[tuple[str, float]]:
    """'on a bicycle', 'holding a cup', 'with a backpack': things whose boxes meet the person's."""
    extras = []
    for d in detections:
        if d.label == "person":
            continue
        shared = overlap(person.box, d.box)
        if d.label in RIDDEN and rides(person.box, d.box):
            extras.append((f"on {article(d.label)}", min(person.confidence, d.confidence)))
        elif d.label in CARRIED and shared >= 0.6:
            extras.append((f"with {article(d.label)}", min(person.confidence, d.confidence)))
        elif d.label in HELD and pose is not None and _in_hand(person.box, d.box, pose):
            extras.append((f"holding {article(d.label)}", min(person.confidence, d.confidence)))
    return extras


def _in_hand(person: tuple[float, ...], thing: tuple[float, ...], pose: Pose) -> bool:
    """Whether a wrist of the person's pose (crop coordinates) lies in the thing's box (frame coordinates)."""
    for wrist in ("left_wrist", "right_wrist"):
        x, y, score = pose.points[wrist]
        if score >= VISIBLE:
            fx = person[0] + x * (person[2] - person[0])
            fy = person[1] + y * (person[3] - person[1])
            if thing[0] <= fx <= thing[2] and thing[1] <= fy <= thing[3]:
                return True
    return False


def posture(pose: Pose) -> list[tuple[str, float]]:
    """What one frame can honestly show of the most prominent body: standing or sitting (with a confidence).
    Motion (waving) needs several frames: :mod:`heimdex.perception.actions` reads it per person."""
    found: list[tuple[str, float]] = []
    for side in ("left", "right"):
        shoulder, hip, knee, ankle = (f"{side}_{j}" for j in ("shoulder", "hip", "knee", "ankle"))
        if not pose.seen(shoulder, hip, knee):
            continue
        torso = pose.y(hip) - pose.y(shoulder)
        if torso <= 0:
            continue
        thigh_drop = (pose.y(knee) - pose.y(hip)) / torso  # a thigh hangs down standing, lies level sitting
        if thigh_drop < 0.45:
            found.append(("sitting", pose.score(shoulder, hip, knee)))
        elif pose.seen(ankle) and (pose.y(ankle) - pose.y(hip)) / torso > 1.3:
            found.append(("standing", pose.score(shoulder, hip, knee, ankle)))
        break
    return found
