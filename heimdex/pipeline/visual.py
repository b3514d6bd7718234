"""Stage 8, visual: tags for each scene from the profile's vision models, and image vectors where a CLIP exists.

Tagging reads the thumbnail and, when the scene changes enough to show something
else, the keyframe farthest from it; a tag seen on both keeps its higher confidence. With a CLIP
model (hub profile) every keyframe is embedded, a scene's visual vector is the
mean of its keyframes', and CLIP's zero-shot labels join the tags.
"""

from __future__ import annotations

import numpy as np

from heimdex.models.registry import Registry
from heimdex.models.types import Tag, normalize
from heimdex.perception.tags import MIN_TAG, merge, tag_frame
from heimdex.pipeline.index import Vectors
from heimdex.pipeline.keyframes import Candidate, distinct

CLIP_TAGS = 3


def tag_scene(keyframes: list[Candidate], registry: Registry) -> list[Tag]:
    """The scene's tags, strongest first."""
    if not keyframes:
        return []
    farthest = max(keyframes, key=lambda k: abs(k.t - keyframes[0].t))
    looks = distinct([keyframes[0], farthest])
    return merge([tag for keyframe in looks for tag in tag_frame(keyframe.image, registry)])


def clip_scenes(scene_keyframes: list[list[Candidate]], registry: Registry) -> tuple[Vectors | None, list[list[Tag]]]:
    """Per-scene visual vectors and zero-shot tags (None and no tags when the profile has no CLIP)."""
    if not registry.has("clip"):
        return None, [[] for _ in scene_keyframes]
    model = registry.get("clip")
    owners = [i for i, keyframes in enumerate(scene_keyframes) for _ in keyframes]
    if not owners:
        return None, [[] for _ in scene_keyframes]
    rows = model.embed_images([k.image for keyframes in scene_keyframes for k in keyframes])
    indexed = sorted(set(owners))
    means = normalize(np.stack([rows[np.array(owners) == i].mean(axis=0) for i in indexed]))
    labels = dict(zip(indexed, model.zero_shot(means, top_k=CLIP_TAGS)))
    tags = [[Tag(t, p, "clip") for t, p in labels.get(i, []) if p >= MIN_TAG] for i in range(len(scene_keyframes))]
    info = model.info
    return Vectors("visual", info.name, info.version, info.width, tuple(indexed), means), tags
