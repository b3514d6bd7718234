"""What a person wears that tells their work or their face: high-visibility vests, hard hats, glasses.

No packaged model names a vest or a hard hat (the concepts model knows neither): each is
read from the pixels of the region the body landmarks bound. A high-visibility garment is
fluorescent orange, yellow or lime with retroreflective tape (EN ISO 20471), and a hard
hat is glossy dyed plastic: far more saturated and brighter than cloth, skin, hair or
straw, which is what the readers count. Glasses are read by the concepts model on the
head: its two "sunglasses" classes also fire, weakly, on clear glasses, and never did on
the bare faces of shared/media. Beards are not read: no packaged model knows them.
:mod:`heimdex.perception.people` says where each region is.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from heimdex.perception.attributes import HUES

FLUORESCENT_S = 180  # saturation and value (0..255) a fluorescent dye keeps under ordinary light (cloth of the
FLUORESCENT_V = 150  # same hue measured about 135 and 115 on shared/media, a vest 180-230 and 160-230)
FLUORESCENT_HUES = ((3, ""), (22, "orange"), (36, "yellow"), (50, "green"))  # OpenCV hue upper bounds; under 3 is red
VEST_SHARE = 0.2  # share of the torso's person pixels that must be fluorescent for a vest ...
TAPE_SHARE = 0.005  # ... and share that must be bright and colourless: the reflective tape (0.9-2.9 % on the vest)
TAPE_S, TAPE_V = 60, 170
HAT_SHARE = 0.15  # share of the crown of the head that must be dyed plastic for a hard hat
HAT_S, HAT_V = 160, 140  # a hard hat's plastic: saturated and lit (skin, hair and straw are far duller)
GLASSES_MIN = 0.12  # summed probability of the concepts model's two sunglasses classes on the head
SUNGLASSES_MIN = 0.7  # ... above which they are dark glasses (clear ones reached 0.58 on shared/media)


@dataclass(frozen=True)
class Seen:
    """One thing worn: what ('high-visibility vest'), its colour if read, how sure, and what read it."""

    thing: str
    colour: str | None
    confidence: float
    source: str

    @property
    def words(self) -> str:
        return f"{self.colour} {self.thing}" if self.colour else self.thing


def _hsv(pixels: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(pixels.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2HSV).reshape(-1, 3)


def _hue_name(hues: np.ndarray, table: tuple[tuple[int, str], ...]) -> str:
    """The name most of ``hues`` (OpenCV, 0..180) fall under in ``table`` (the first name on a tie)."""
    bounds = np.array([bound for bound, _ in table])
    names = [table[i][1] for i in np.searchsorted(bounds, hues, side="right").clip(0, len(table) - 1)]
    counts = Counter(names)
    return max((name for _, name in table), key=lambda name: counts[name])


def vest(torso: np.ndarray) -> Seen | None:
    """A high-visibility vest on the torso's person pixels (RGB, any shape): fluorescent orange, yellow or lime,
    with reflective tape."""
    if torso.size == 0:
        return None
    hsv = _hsv(torso)
    hue, saturation, value = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    fluorescent = (saturation >= FLUORESCENT_S) & (value >= FLUORESCENT_V)
    fluorescent &= (hue >= FLUORESCENT_HUES[0][0]) & (hue < FLUORESCENT_HUES[-1][0])
    share = float(fluorescent.mean())
    if share < VEST_SHARE or float(((saturation < TAPE_S) & (value >= TAPE_V)).mean()) < TAPE_SHARE:
        return None
    colour = _hue_name(hue[fluorescent], FLUORESCENT_HUES[1:])
    return Seen("high-visibility vest", colour, min(0.95, 0.45 + share), "vest colour")


def hard_hat(crown: np.ndarray) -> Seen | None:
    """A hard hat on the crown of the head (the person's RGB pixels above the eyes): one bright saturated colour."""
    if crown.size == 0:
        return None
    hsv = _hsv(crown)
    bright = (hsv[:, 1] >= HAT_S) & (hsv[:, 2] >= HAT_V)
    share = float(bright.mean())
    if share < HAT_SHARE:
        return None
    return Seen("hard hat", _hue_name(hsv[bright, 0], HUES), min(0.9, 0.4 + share), "head colour")


def glasses(head_concepts: list[tuple[str, float]]) -> Seen | None:
    """Glasses from what the concepts model sees on a head crop: 'sunglasses' when it is sure, else 'glasses'."""
    sure = sum(p for label, p in head_concepts if label in ("sunglasses", "sunglass"))
    if sure < GLASSES_MIN:
        return None
    thing = "sunglasses" if sure >= SUNGLASSES_MIN else "glasses"
    return Seen(thing, None, min(0.9, 0.4 + sure), "concepts on the head")
