"""What a person wears that tells their work or their face: high-visibility vests, hard hats, glasses.

No packaged model names a vest or a hard hat (the concepts model knows neither): each is
read from the pixels of the region the body landmarks bound. Fluorescent dyes are what
make a vest high-visibility, and a hard hat is glossy dyed plastic: both far more
saturated and brighter than cloth, skin, hair or straw of the same hue, which is what the
readers count. Glasses are read by the concepts model on the head: its "sunglasses"
classes also fire, weakly, on clear glasses, and never on the bare faces of shared/media.
Beards are not read: no packaged model knows them. :mod:`heimdex.perception.people` says
where each region is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLUORESCENT_S = 180  # saturation and value (0..255) a fluorescent dye keeps under ordinary light (cloth of the
FLUORESCENT_V = 150  # same hue measured about 135 and 115 on shared/media, a vest 180-230 and 160-230)
VEST_SHARE = 0.2  # share of the torso's person pixels that must be fluorescent for a vest
HAT_SHARE = 0.15  # share of the crown of the head that must be dyed plastic for a hard hat
HAT_S, HAT_V = 160, 140  # a hard hat's plastic: saturated and lit (skin, hair and straw are far duller)
FLUORESCENT_HUES = ((22, "orange"), (36, "yellow"), (50, "green"))  # OpenCV hue (0..180) upper bounds
GLASSES_MIN = 0.12  # summed probability of the concepts model's two sunglasses classes on the head
SUNGLASSES_MIN = 0.7  # ... above which they are dark glasses (clear ones reached 0.58 on shared/media)
HAT_HUES = ((10, "red"), (22, "orange"), (36, "yellow"), (85, "green"), (130, "blue"), (180, "red"))


@dataclass(frozen=True)
class Seen:
    """One thing worn: its words ('orange high-visibility vest'), how sure, and what read it."""

    words: str
    confidence: float
    source: str


def _hsv(pixels: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(pixels.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2HSV).reshape(-1, 3)


def _hue_name(hues: np.ndarray, table: tuple[tuple[int, str], ...]) -> str:
    names = [next(name for bound, name in table if h < bound) for h in hues]
    return max(set(names), key=names.count)


def vest(torso: np.ndarray) -> Seen | None:
    """A high-visibility vest on the torso's person pixels (RGB, any shape): fluorescent orange, yellow or lime."""
    if torso.size == 0:
        return None
    hsv = _hsv(torso)
    fluorescent = (hsv[:, 1] >= FLUORESCENT_S) & (hsv[:, 2] >= FLUORESCENT_V) & (hsv[:, 0] < FLUORESCENT_HUES[-1][0])
    share = float(fluorescent.mean())
    if share < VEST_SHARE:
        return None
    colour = _hue_name(hsv[fluorescent, 0], FLUORESCENT_HUES)
    return Seen(f"{colour} high-visibility vest", min(0.95, 0.45 + share), "vest colour")


def hard_hat(crown: np.ndarray) -> Seen | None:
    """A hard hat on the crown of the head (RGB pixels above the eyes): most of it one bright saturated colour."""
    if crown.size == 0:
        return None
    hsv = _hsv(crown)
    bright = (hsv[:, 1] >= HAT_S) & (hsv[:, 2] >= HAT_V)
    if bright.mean() < HAT_SHARE:
        return None
    colour = _hue_name(hsv[bright, 0], HAT_HUES)
    share = float(bright.mean())
    return Seen(f"{colour} hard hat", min(0.9, 0.4 + share), "head colour")


def glasses(head_concepts: list[tuple[str, float]]) -> Seen | None:
    """Glasses from what the concepts model sees on a head crop: 'sunglasses' when it is sure, else 'glasses'."""
    sure = sum(p for label, p in head_concepts if label in ("sunglasses", "sunglass"))
    if sure < GLASSES_MIN:
        return None
    return Seen("sunglasses" if sure >= SUNGLASSES_MIN else "glasses", min(0.9, 0.4 + sure), "concepts on the head")
