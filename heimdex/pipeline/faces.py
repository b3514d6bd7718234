"""Stage 8b, faces: every face on a scene's keyframes, with its 128-d descriptor, quality and picture.

Faces are read as :meth:`FaceModel.find` reads any picture (small frames upsampled);
where the scene's tags saw more people than upright faces were found, the keyframes are
read turned both ways too (heads leaning ~30 degrees). Each keyframe that shows something
new is read; the same person on two keyframes of one scene gives two faces (matching
counts a scene once per person).
"""

from __future__ import annotations

from collections.abc import Callable

from heimdex.models.faces import crop
from heimdex.models.roles import FaceModel
from heimdex.models.vision.tags import Tag
from heimdex.pipeline.index import FaceSeen
from heimdex.pipeline.keyframes import Candidate, distinct


def people_tagged(tags: list[Tag]) -> int:
    """How many people the scene's tags saw: 2 for 'several people', 1 for 'person', else 0."""
    names = {tag.tag for tag in tags}
    return 2 if "several people" in names else 1 if "person" in names else 0


def faces_in_scene(
    keyframes: list[Candidate], analyzer: FaceModel, keep_picture: Callable[[bytes], str], people: int = 0
) -> list[FaceSeen]:
    """The faces on a scene's keyframes (``people``: how many its tags saw); ``keep_picture`` stores a face's picture."""
    found = []
    for keyframe in distinct(sorted(keyframes, key=lambda k: k.t)):
        for face in analyzer.find(keyframe.image, people):
            found.append(
                FaceSeen(
                    keyframe.t,
                    (int(face.box[0]), int(face.box[1]), int(face.box[2]), int(face.box[3])),
                    [round(float(x), 6) for x in face.descriptor],
                    round(face.quality, 3),
                    keep_picture(crop(keyframe.image, face.box)),
                )
            )
    return found
