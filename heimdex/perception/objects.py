"""Objects on a frame: both detectors on the whole frame, the Open Images SSD on four overlapping tiles, and
who rides what.

The detectors read 300x300 pixels, so a cyclist 30 px tall in a 480 px frame shrinks to
about 20; a tile of the 2x2 grid makes him about 1.75 times larger. A tile's box is kept
only where it is a whole object: boxes cut by a tile's inner edge are another tile's (or
the whole frame's), and a box that is mostly a whole-frame box of another label is that
thing read wrongly (a car seen from above reads as a phone in a tile), unless one of them
is a person (a rider and his bicycle share a box) or the Open Images "vehicle". A box
inside a whole-frame box of its own label is kept: dropping those cost more chairs and
people than it saved duplicates (``python -m eval.detection``: 28 extra detections either
way). Objects only the tiles saw are reported apart, so that a scene can ask a second
frame to confirm them (:mod:`heimdex.pipeline.visual`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heimdex.models.registry import Registry
from heimdex.models.types import Detection, iou, overlap
from heimdex.perception.words import RIDDEN, article

GRID = 2  # tiles a side
# the tiles are read by the Open Images SSD alone: as good on them as both models, at a fifth of the time
TILER = "objects_oi"
TILE_OVERLAP = 0.25  # share of a tile shared with its neighbour
EDGE = 0.02  # a tile box this close (share of the tile) to an inner edge of the tile is cut by it
SAME_THING_IOU = 0.5  # a tile box overlapping a whole-frame box of another label this much is that thing
SAME_OBJECT_IOU = 0.5  # boxes of one label that overlap this much are one object
SAME_AS: dict[str, str] = {"dining table": "table", "tv": "television", "cell phone": "mobile phone", "couch": "sofa"}
ON_IT = 0.3  # a person box sharing this much of the smaller box with a bicycle's (or horse's ...) may ride it
RIDING = "riding"  # the action a query names (perception.words.ACTION_WORDS) that boxes, not a body, show


@dataclass(frozen=True)
class Objects:
    """A frame's objects, one box each, and those of them that only a tile showed."""

    detections: list[Detection]
    by_tiles: frozenset[Detection]


def tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The grid's tiles as pixel boxes (left, top, right, bottom), neighbours overlapping."""
    side = lambda n: int(n / (GRID - (GRID - 1) * TILE_OVERLAP))  # noqa: E731
    tile_w, tile_h = side(width), side(height)
    xs = np.linspace(0, width - tile_w, GRID).astype(int)
    ys = np.linspace(0, height - tile_h, GRID).astype(int)
    return [(int(x), int(y), int(x) + tile_w, int(y) + tile_h) for y in ys for x in xs]


def find_objects(image: np.ndarray, registry: Registry, quick: bool = False, tiled: bool = True) -> Objects:
    """The detectors' boxes on an RGB frame and (``tiled``) its tiles, in frame coordinates, one per object.
    ``quick``: the Open Images SSD alone (a second look at a scene, to confirm or add what the first one saw)."""
    roles = [registry.get(role) for role in (TILER,) + (() if quick else ("objects",)) if registry.has(role)]
    tilers = [registry.get(TILER)] if registry.has(TILER) and tiled else []
    whole = [_named(d) for model in roles for d in model.detect(image)]
    height, width = image.shape[:2]
    parts: list[Detection] = []
    for left, top, right, bottom in tiles(width, height):
        crop = image[top:bottom, left:right]
        for d in (_named(d) for model in tilers for d in model.detect(crop)):
            inner = (
                (left > 0 and d.box[0] < EDGE)
                or (top > 0 and d.box[1] < EDGE)
                or (right < width and d.box[2] > 1 - EDGE)
                or (bottom < height and d.box[3] > 1 - EDGE)
            )
            if inner:
                continue
            w, h = (right - left) / width, (bottom - top) / height
            x0, y0 = left / width, top / height
            box = (x0 + d.box[0] * w, y0 + d.box[1] * h, x0 + d.box[2] * w, y0 + d.box[3] * h)
            if not any(_misread(d.label, box, o) for o in whole):
                parts.append(Detection(d.label, d.confidence, box))
    found = one_each(whole + parts)
    seen_whole = lambda d: any(o.label == d.label and iou(o.box, d.box) >= SAME_OBJECT_IOU for o in whole)  # noqa: E731
    return Objects(found, frozenset(d for d in found if not seen_whole(d)))


def rides(person: tuple[float, float, float, float], thing: tuple[float, float, float, float]) -> bool:
    """Whether a person box rides a thing's box: over it (their boxes share ``ON_IT`` of the smaller one), the
    person's middle above the thing, and the head higher than the thing's top (not beside a parked bicycle)."""
    middle = (person[0] + person[2]) / 2
    return overlap(person, thing) >= ON_IT and thing[0] <= middle <= thing[2] and person[1] < thing[1]


def riders(detections: list[Detection]) -> list[tuple[str, float]]:
    """'riding a bicycle' for each person box that rides a box of a thing people ride (:data:`RIDDEN`)."""
    found = []
    for person in (d for d in detections if d.label == "person"):
        ridden = [d for d in detections if d.label in RIDDEN and rides(person.box, d.box)]
        if ridden:
            thing = max(ridden, key=lambda d: d.confidence)
            found.append((f"{RIDING} {article(thing.label)}", min(person.confidence, thing.confidence)))
    return found


def _misread(label: str, box: tuple[float, float, float, float], whole: Detection) -> bool:
    """Whether a tile's box is a whole-frame box of another label read wrongly: nearly the same box, and neither
    a person (a cyclist from above and his bicycle share a box) nor a vehicle (a bicycle is one)."""
    kinds = {label, whole.label}
    return len(kinds) == 2 and not kinds & {"person", "vehicle"} and iou(box, whole.box) >= SAME_THING_IOU


def _named(d: Detection) -> Detection:
    return Detection(SAME_AS.get(d.label) or d.label, d.confidence, d.box)


def one_each(every: list[Detection]) -> list[Detection]:
    """One box per object: a box of the same label overlapping a surer one is that one."""
    found: list[Detection] = []
    for d in sorted(every, key=lambda d: -d.confidence):
        if all(o.label != d.label or iou(o.box, d.box) < SAME_OBJECT_IOU for o in found):
            found.append(d)
    return found
