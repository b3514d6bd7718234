"""The face pictures people see: a square JPEG around a face found in a frame; and whether a face is drawn."""

from __future__ import annotations

import numpy as np

CROP_PX = 160  # side of the square face pictures shown to people

# Drawn faces (cartoons, caricatures, avatars, emoji) change brightness in outlines: of the face's pixels that
# change at all, many change sharply. Photographed faces change in gradual shading and texture. Measured on the
# middle of the face box (hair and background left out) at a fixed size, so the measure does not depend on how
# large the face is on screen.
DRAWN_SIDE_PX = 64  # the face's middle is read at this size
CHANGE = 3.0  # grey levels per pixel: a pixel whose brightness changes at least this much is part of the drawing
SHARP = 15.0  # ... and at least this much, part of an outline
DRAWN = 0.32  # faces whose share of sharp changes is this or more are drawn. eval/drawn_faces.py, choosing half:
# midway between the most outlined photographed face (0.28, a sharp still photograph, scikit-image's astronaut; the
# shared clips' faces reach 0.17) and the least outlined drawn one (0.37)


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """A square JPEG of the face in ``box`` on an RGB image, with some room around it."""
    import cv2

    left, top, right, bottom = box
    side = int(max(right - left, bottom - top) * 1.6)
    cx, cy = (left + right) // 2, (top + bottom) // 2
    height, width = image.shape[:2]
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    face = image[y0 : min(height, y0 + side), x0 : min(width, x0 + side)]
    face = cv2.resize(
        face, (CROP_PX, CROP_PX), interpolation=cv2.INTER_AREA if face.shape[0] > CROP_PX else cv2.INTER_CUBIC
    )
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(face, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("could not encode a face picture")
    return jpeg.tobytes()


def drawn_score(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """How drawn the face in ``box`` on an RGB image looks, 0..1: the share of its changing pixels that change
    sharply (outlines). Photographed faces score under about 0.3, drawn ones over :data:`DRAWN`."""
    import cv2

    left, top, right, bottom = box
    inset_x, inset_y = (right - left) // 8, (bottom - top) // 8
    middle = image[max(0, top + inset_y) : bottom - inset_y, max(0, left + inset_x) : right - inset_x]
    if min(middle.shape[:2]) < 2:
        return 0.0
    size = (DRAWN_SIDE_PX, DRAWN_SIDE_PX)
    shrink = middle.shape[0] > DRAWN_SIDE_PX
    grey = cv2.cvtColor(
        cv2.resize(middle, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC), cv2.COLOR_RGB2GRAY
    ).astype(np.float32)
    # Sobel's 3x3 weights add up to 8: divided by it, a change in grey levels per pixel
    change = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)) / 8
    changing = int((change >= CHANGE).sum())
    return float((change >= SHARP).sum() / changing) if changing else 0.0


def is_drawn(score: float | None) -> bool:
    """Whether a face whose :func:`drawn_score` is ``score`` is drawn (``None``: not measured, taken as a photo)."""
    return score is not None and score >= DRAWN
