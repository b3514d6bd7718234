"""Stage 8, visual: tags for each scene from the profile's vision models, and image vectors where a CLIP exists.

Tagging reads the thumbnail and, when the scene changes enough to show something
else, the keyframe farthest from it; a tag seen on both keeps its higher confidence. Two
more frames are searched for objects: a small thing the thumbnail missed is still found,
a thing only the detectors' tiles saw counts once a second frame saw it too, and a person
rides a bicycle where a person box is over its box on two frames. With a CLIP
model (hub profile) every keyframe is embedded, a scene's visual vector is the
mean of its keyframes', and CLIP's zero-shot labels join the tags.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from heimdex.models.registry import Registry
from heimdex.models.types import Tag, normalize
from heimdex.perception.objects import RIDING, find_objects, riders
from heimdex.perception.tags import MIN_TAG, merge, tag_frame
from heimdex.pipeline.index import Vectors
from heimdex.pipeline.keyframes import Candidate, distinct

CLIP_TAGS = 3
SEARCHED_FRAMES = 4  # frames of a scene searched for objects: the tagged ones, then others spread over it


def tag_scene(keyframes: list[Candidate], registry: Registry, frames: list[Candidate] | None = None) -> list[Tag]:
    """The scene's tags, strongest first. More of the scene's ``frames`` (its candidates), up to ``SEARCHED_FRAMES``
    in all, are searched for objects: what only the tiles of one frame found, or only those frames, must be seen
    twice."""
    if not keyframes:
        return []
    farthest = max(keyframes, key=lambda k: abs(k.t - keyframes[0].t))
    looks = distinct([keyframes[0], farthest])
    seen = [find_objects(frame.image, registry) for frame in looks]
    seen += [
        find_objects(frame.image, registry, quick=True)
        for frame in _spread(frames or [], looks, SEARCHED_FRAMES - len(looks))
    ]
    labels = [{d.label for d in found.detections} for found in seen]
    whole = [labels[i] - seen[i].tiles_only for i in range(len(looks))]
    sure = _twice(labels).union(*whole)
    tags = []
    for look, found in zip(looks, seen):
        tags += tag_frame(look.image, registry, [d for d in found.detections if d.label in sure])
    best = {label: max(d.confidence for f in seen for d in f.detections if d.label == label) for label in sure}
    tags += [Tag(label, best[label], "objects") for label in sure - set().union(*labels[: len(looks)])]
    rides = [dict(riders([d for d in found.detections if d.label in sure])) for found in seen]
    for words in _twice([set(r) for r in rides]):
        sure_of = max(r[words] for r in rides if words in r)
        tags += [Tag(w, sure_of, "objects: riding") for w in (words, f"person {words}", RIDING)]
    return merge(tags)


def _spread(frames: list[Candidate], taken: list[Candidate], count: int) -> list[Candidate]:
    """Up to ``count`` of ``frames``, each the farthest in time from those taken before it."""
    taken, chosen = list(taken), []
    for _ in range(count):
        free = [f for f in frames if all(f.t != t.t for t in taken)]
        if not free:
            break
        chosen.append(max(free, key=lambda f: min(abs(f.t - t.t) for t in taken)))
        taken.append(chosen[-1])
    return chosen


def _twice(seen: list[set[str]]) -> set[str]:
    """What at least two of the frames saw."""
    counts = Counter(item for frame in seen for item in frame)
    return {item for item, n in counts.items() if n >= 2}


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
