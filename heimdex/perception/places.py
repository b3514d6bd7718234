"""Places and settings read from what was found together on a frame, each with its reason.

A place is named only on evidence: the labels of the detectors and the concepts model
(and how many people), each adding a weight; "classroom" needs several chairs and
people, "kitchen" a kitchen appliance. The tag's source says which labels led to it.
"""

from __future__ import annotations

from collections.abc import Mapping

# place → ((label, weight), ...); a label's weight counts once, scaled by its confidence.
RULES: dict[str, tuple[tuple[str, float], ...]] = {
    "classroom": (("chairs", 0.35), ("chair", 0.25), ("table", 0.25), ("desk", 0.25), ("people", 0.3),
                  ("whiteboard", 0.3)),
    "meeting room": (("chairs", 0.35), ("chair", 0.25), ("table", 0.25), ("people", 0.3), ("computer monitor", 0.1)),
    "office": (("computer monitor", 0.35), ("laptop", 0.3), ("desktop computer", 0.35), ("keyboard", 0.25),
               ("desk", 0.25), ("chair", 0.15), ("television", 0.1)),
    "store aisle": (("grocery store", 0.7), ("shoe shop", 0.6), ("bookshop", 0.6), ("toyshop", 0.6),
                    ("confectionery", 0.6), ("tobacco shop", 0.6), ("shopping cart", 0.5), ("people", 0.1)),
    "kitchen": (("refrigerator", 0.45), ("oven", 0.45), ("microwave", 0.4), ("sink", 0.3), ("stove", 0.45),
                ("dishwasher", 0.45), ("frying pan", 0.3), ("kitchenware", 0.3)),
    "parking lot": (("cars", 0.55), ("car", 0.45), ("parking meter", 0.4), ("vehicle", 0.1)),
    "street": (("car", 0.25), ("bus", 0.4), ("truck", 0.3), ("traffic light", 0.5), ("bicycle", 0.2),
               ("motorcycle", 0.2), ("streetcar", 0.5), ("street sign", 0.4)),
    "warehouse": (("forklift", 0.6), ("pallet", 0.4), ("crate", 0.3), ("carton", 0.3), ("box", 0.2)),
    "living room": (("sofa", 0.45), ("studio couch", 0.45), ("television", 0.2), ("home theater", 0.3),
                    ("entertainment center", 0.3), ("coffee table", 0.2)),
    "restaurant": (("restaurant", 0.6), ("dining table", 0.2), ("wine glass", 0.25), ("plate", 0.15)),
    "beach": (("seashore", 0.6), ("sandbar", 0.5), ("lakeside", 0.3), ("surfboard", 0.3)),
    "stage": (("stage", 0.6), ("microphone", 0.3), ("spotlight", 0.3), ("electric guitar", 0.3), ("drum", 0.2)),
}  # fmt: skip
INDOOR = {"chair", "table", "desk", "sofa", "bed", "television", "refrigerator", "computer monitor", "laptop"}
INDOOR |= {"toilet", "sink", "oven", "microwave", "studio couch", "home theater", "bookcase", "wardrobe", "shoe shop"}
INDOOR |= {"grocery store", "bookshop", "toyshop", "restaurant", "stage", "whiteboard", "desktop computer"}
OUTDOOR = {
    "car",
    "bus",
    "truck",
    "traffic light",
    "motorcycle",
    "boat",
    "streetcar",
    "seashore",
    "sandbar",
    "street sign",
}
OUTDOOR |= {"parking meter", "lakeside", "valley", "cliff", "horse"}
MIN_PLACE = 0.5


def places(seen: Mapping[str, float], counts: Mapping[str, int]) -> list[tuple[str, float, str]]:
    """(place, confidence, reason) from the labels seen (label → confidence) and how many of each."""
    evidence = dict(seen)
    if counts.get("chair", 0) >= 2:
        evidence["chairs"] = seen["chair"]
    if counts.get("car", 0) >= 2:
        evidence["cars"] = seen["car"]
    if counts.get("person", 0) >= 2:
        evidence["people"] = seen["person"]
    found = []
    for place, rule in RULES.items():
        used = [(label, weight * evidence[label]) for label, weight in rule if label in evidence]
        if len(used) < 2 and not any(weight >= MIN_PLACE for label, weight in rule if label in evidence):
            continue  # one weak clue is not a place
        score = sum(value for _, value in used)
        if score >= MIN_PLACE:
            found.append((place, min(1.0, score), "place: " + " + ".join(label for label, _ in used)))
    indoor = max((seen[label] for label in INDOOR if label in seen), default=0.0)
    outdoor = max((seen[label] for label in OUTDOOR if label in seen), default=0.0)
    if indoor >= MIN_PLACE and not outdoor:
        found.append(("indoors", indoor, "place: " + ", ".join(sorted(INDOOR & seen.keys()))))
    elif outdoor >= MIN_PLACE and not indoor:
        found.append(("outdoors", outdoor, "place: " + ", ".join(sorted(OUTDOOR & seen.keys()))))
    return found
