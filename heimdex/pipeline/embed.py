"""Stage 9, embed: one text vector per scene and channel (what was said, what was written, what was seen).

All texts of a video go to the embedder in batches; a scene with no text in a
channel simply has no vector there.
"""

from __future__ import annotations

from heimdex.models.text import TextEmbedder
from heimdex.pipeline.index import Scene, Vectors

CHANNELS = {
    "transcript": lambda scene: scene.transcript,
    "ocr": lambda scene: " ".join(scene.ocr_text.split()),
    "tags": lambda scene: scene.tag_text,
}


def embed_scenes(scenes: list[Scene], embedder: TextEmbedder) -> list[Vectors]:
    """The text vectors of every channel that has text."""
    texts, owners = [], []
    for channel, text_of in CHANNELS.items():
        for scene in scenes:
            if text := text_of(scene).strip():
                texts.append(text)
                owners.append((channel, scene.idx))
    rows = embedder.embed_passages(texts)
    info = embedder.info
    result = []
    for channel in CHANNELS:
        picked = [i for i, (owner, _) in enumerate(owners) if owner == channel]
        if picked:
            scene_idx = tuple(owners[i][1] for i in picked)
            result.append(Vectors(channel, info.name, info.version, info.dim, scene_idx, rows[picked]))
    return result
