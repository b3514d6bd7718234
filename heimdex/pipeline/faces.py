"""Stage 8b, faces: every face on a scene's keyframes, with its 128-d descriptor, quality and picture.

Small frames (up to 640 px) are upsampled once so that faces of about 40 px are found;
larger ones are read as they are. The detector sees upright faces only, so where the
scene's tags saw more people than faces were found, the keyframes are read again
turned both ways (heads leaning ~30 degrees). Each keyframe that shows something new
is read; the same person on two keyframes of one scene gives two faces (matching
counts a scene once per person).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from heimdex.models.faces import Face, FaceAnalyzer, crop
from heimdex.pipeline.index import FaceSeen
from heimdex.pipeline.keyframes import Candidate, distinct

UPSAMPLE_UP_TO = 640  # longest side under which a frame is upsampled for small faces
TILTS = (-30.0, 30.0)  # degrees the keyframes are turned to find leaning heads


def people_tagged(tags: list[dict]) -> int:
    """How many people the scene's tags saw: 2 for 'several people', 1 for 'person', else 0."""
    names = {tag["tag"] for tag in tags}
    return 2 if "several people" in names else 1 if "person" in names else 0


def faces_in_scene(keyframes: list[Candidate], analyzer: FaceAnalyzer, keep_picture: Callable[[bytes], str],
                   people: int = 0) -> list[FaceSeen]:
    """The faces on a scene's keyframes (``people``: how many its tags saw); ``keep_picture`` stores a face's picture."""
    found = []
    for keyframe in distinct(sorted(keyframes, key=lambda k: k.t)):
        image = keyframe.image
        for face in faces_on(image, analyzer, people):
            found.append(FaceSeen(keyframe.t, tuple(int(v) for v in face.box), [round(float(x), 6) for x in face.descriptor],
                                  round(face.quality, 3), keep_picture(crop(image, face.box))))
    return found


def faces_on(image: np.ndarray, analyzer: FaceAnalyzer, people: int = 0) -> list[Face]:
    """The faces on one frame: upright ones, and leaning ones too when fewer than ``people`` were found."""
    upsample = 1 if max(image.shape[:2]) <= UPSAMPLE_UP_TO else 0
    faces = analyzer.faces(image, upsample=upsample)
    if len(faces) < people:
        for tilt in TILTS:
            faces += [face for face in analyzer.faces(image, upsample=upsample, tilt=tilt) if not _seen(face, faces)]
    return faces


def _seen(face: Face, faces: list[Face]) -> bool:
    """Whether ``face`` is one of ``faces`` already (its centre lies in one's box)."""
    x, y = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
    return any(left <= x <= right and top <= y <= bottom for left, top, right, bottom in (f.box for f in faces))
