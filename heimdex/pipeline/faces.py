"""Stage 8b, faces: every face on a scene's keyframes, with its 128-d descriptor and a quality score.

Small frames (up to 640 px) are upsampled once so that faces of about 40 px are found;
larger ones are read as they are. Each keyframe that shows something new is read;
the same person on two keyframes of one scene gives two faces (matching counts a
scene once per person).
"""

from __future__ import annotations

from heimdex.models.faces import FaceAnalyzer
from heimdex.pipeline.index import FaceSeen
from heimdex.pipeline.keyframes import Candidate, distinct

UPSAMPLE_UP_TO = 640  # longest side under which a frame is upsampled for small faces


def faces_in_scene(keyframes: list[Candidate], analyzer: FaceAnalyzer) -> list[FaceSeen]:
    """The faces on a scene's keyframes."""
    found = []
    for keyframe in distinct(sorted(keyframes, key=lambda k: k.t)):
        image = keyframe.image
        upsample = 1 if max(image.shape[:2]) <= UPSAMPLE_UP_TO else 0
        for face in analyzer.faces(image, upsample=upsample):
            found.append(FaceSeen(keyframe.t, tuple(int(v) for v in face.box), [round(float(x), 6) for x in face.descriptor],
                                  round(face.quality, 3)))
    return found
