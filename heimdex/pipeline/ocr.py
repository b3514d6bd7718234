"""Stage 7, OCR: the text on screen in each scene, read from every keyframe, each line once."""

from __future__ import annotations

from heimdex.models.roles import ScreenTextModel
from heimdex.pipeline.index import OcrLine
from heimdex.pipeline.keyframes import Candidate, distinct


def read_scene_text(keyframes: list[Candidate], reader: ScreenTextModel) -> list[OcrLine]:
    """The distinct lines on a scene's keyframes, in time then reading order; a repeated line keeps its best reading.

    A keyframe that shows the same picture as one already read is not read again.
    """
    best: dict[str, OcrLine] = {}
    for keyframe in distinct(sorted(keyframes, key=lambda k: k.t)):
        for line in reader.read(keyframe.image):
            found = OcrLine(line.text, round(line.confidence, 3), line.box, keyframe.t, line.source)
            key = _normalized(line.text)
            if key not in best or found.confidence > best[key].confidence:
                best[key] = found
    return sorted(best.values(), key=lambda line: (line.t, line.box[1], line.box[0]))


def _normalized(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())
