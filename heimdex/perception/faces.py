"""The face pictures people see: a square JPEG around a face found in a frame."""

from __future__ import annotations

import numpy as np

CROP_PX = 160  # side of the square face pictures shown to people


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
