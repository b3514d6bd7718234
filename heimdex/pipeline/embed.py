"""Stage 9, embed: text vectors per scene and channel (what was said, what was written, what was seen).

Each channel's whole text is one vector (chunk 0); speech longer than a sentence
or two is also embedded in pieces of about ``PIECE_WORDS`` words (``speech_pieces``), and screen text
line by line, so that a phrase matches its own piece instead of being diluted by
the rest of the scene. A scene with no text in a channel has no vector there.
"""

from __future__ import annotations

from collections.abc import Callable

from heimdex.models.roles import TextEmbedder
from heimdex.models.types import speech_pieces
from heimdex.pipeline.index import Scene, Vectors

MAX_PIECES = 16  # per scene and channel
TAG_PIECES = 8  # single tags embedded on their own, strongest first


def transcript_texts(scene: Scene) -> list[str]:
    """The scene's speech whole, then in pieces that end at a sentence end where one is near."""
    words = [word.text for word in scene.words]
    if not words:
        return []
    pieces = [" ".join(words[i] for i in piece) for piece in speech_pieces(words)]
    return [" ".join(words)] + (pieces if len(pieces) > 1 else [])


def ocr_texts(scene: Scene) -> list[str]:
    lines = [line.text for line in scene.ocr]
    return [" ".join(lines)] + (lines if len(lines) > 1 else []) if lines else []


def tag_texts(scene: Scene) -> list[str]:
    """The tag list whole, the scene's sentence (a natural query meets natural text), then the strongest
    tags one by one (a short query, 'broccoli' or '물병', meets its own tag undiluted)."""
    if not scene.tags:
        return []
    strongest = [tag.tag for tag in scene.tags][:TAG_PIECES]
    return [scene.tag_text, scene.caption or scene.tag_text] + (strongest if len(scene.tags) > 1 else [])


CHANNELS: dict[str, Callable[[Scene], list[str]]] = {
    "transcript": transcript_texts,
    "ocr": ocr_texts,
    "tags": tag_texts,
}


def embed_scenes(scenes: list[Scene], embedder: TextEmbedder) -> list[Vectors]:
    """The text vectors of every channel that has text."""
    texts, owners = [], []
    for channel, texts_of in CHANNELS.items():
        for scene in scenes:
            for chunk, text in enumerate(texts_of(scene)[: MAX_PIECES + 1]):
                if text.strip():
                    texts.append(text.strip())
                    owners.append((channel, scene.idx, chunk))
    rows = embedder.embed_passages(texts)
    info = embedder.info
    result = []
    for channel in CHANNELS:
        picked = [i for i, owner in enumerate(owners) if owner[0] == channel]
        if picked:
            scene_idx = tuple(owners[i][1] for i in picked)
            chunks = tuple(owners[i][2] for i in picked)
            result.append(Vectors(channel, info.name, info.version, info.width, scene_idx, rows[picked], chunks))
    return result
