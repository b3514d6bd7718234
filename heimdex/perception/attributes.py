"""Attributes computed from pixels, no model: the colour of a region, and how dark a frame is."""

from __future__ import annotations

import numpy as np

DARK_LUMA = 60  # mean luma (0..255) under which a frame is dark
NIGHT_HIGHLIGHT = 200  # a dark frame with lights this bright ...
NIGHT_LIGHTS_SHARE = 0.0005  # ... covering at least this share of it reads as night
HUES = ((10, "red"), (22, "orange"), (34, "yellow"), (85, "green"), (130, "blue"), (160, "purple"), (180, "red"))


def colour_name(region: np.ndarray) -> tuple[str, float]:
    """The dominant colour of an RGB region and the share of pixels that have it."""
    import cv2

    hsv = cv2.cvtColor(region, cv2.COLOR_RGB2HSV).reshape(-1, 3)
    hue, saturation, value = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    names = ["grey", "black", "white"] + [name for _, name in HUES]
    index = np.zeros(len(hsv), dtype=np.int8)  # grey
    index[value < 50] = 1
    index[(value >= 180) & (saturation < 40)] = 2
    coloured = (saturation >= 90) & (value >= 50)
    for i in range(len(HUES) - 1, -1, -1):
        index[coloured & (hue < HUES[i][0])] = 3 + i
    counts = np.bincount(index, minlength=len(names))
    counts[3] += counts[3 + len(HUES) - 1]  # the two ends of the hue circle are both red
    counts[3 + len(HUES) - 1] = 0
    best = int(np.argmax(counts))
    return names[best], float(counts[best] / len(hsv))


def lighting(image: np.ndarray) -> list[tuple[str, float]]:
    """'dark' and 'at night' cues from a frame's brightness."""
    import cv2

    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    mean = float(luma.mean())
    if mean >= DARK_LUMA:
        return [("bright", min(1.0, mean / 160))] if mean > 150 else []
    darkness = 1.0 - mean / DARK_LUMA
    tags = [("dark", 0.5 + 0.5 * darkness)]
    if float((luma >= NIGHT_HIGHLIGHT).mean()) >= NIGHT_LIGHTS_SHARE:
        tags.append(("at night", 0.4 + 0.5 * darkness))
    return tags
