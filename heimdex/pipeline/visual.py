"""Stage 8, visual: tags for each scene from the profile's vision models, and image vectors where a CLIP exists.

Tagging reads the thumbnail and, when the scene changes enough to show something
else, the keyframe farthest from it; a tag seen on both keeps its higher confidence. Other
frames of the scene, four frames in all, are searched for objects, on tiles too where the
tagged frames showed something small: a thing the thumbnail missed is still found, a thing
only the tiles saw counts once a second frame saw it too (surely on one, at all on the
other), and a person rides a bicycle where a person box is over its box on two frames.
With a CLIP model (hub profile) every keyframe is embedded, a scene's visual vector is the
mean of its keyframes', and CLIP's zero-shot labels join the tags.
"""

from __future__ import annotations

import numpy as np

from heimdex.models.registry import Registry
from heimdex.models.types import Tag, normalize
from heimdex.perception.objects import RIDING, find_objects, riders
from heimdex.perception.tags import MIN_TAG, merge, tag_frame
from heimdex.pipeline.index import Vectors
from heimdex.pipeline.keyframes import Candidate, distinct

CLIP_TAGS = 3
SEARCHED_FRAMES = 4  # frames of a scene searched for objects: the tagged ones, then others spread over it
SMALL = 1 / 8  # where the tagged frames show a thing shorter than this share of the frame, the others are tiled too


def tag_scene(keyframes: list[Candidate], registry: Registry, frames: list[Candidate] | None = None) -> list[Tag]:
    """The scene's tags, strongest first. More of the scene's ``frames`` (its candidates), up to ``SEARCHED_FRAMES``
    in all, are searched for objects. A kind of thing that no tagged frame saw whole (only tiles, or only the other
    frames, found it) counts once seen on two frames that differ: at the tag threshold on one, at the detectors'
    own on the other."""
    if not keyframes:
        return []
    farthest = max(keyframes, key=lambda k: abs(k.t - keyframes[0].t))
    looks = distinct([keyframes[0], farthest])
    others = _spread(frames or [], looks, SEARCHED_FRAMES - len(looks))
    seen = [find_objects(k.image, registry, tiled=k is looks[0]) for k in looks]
    closer = any(d.box[3] - d.box[1] < SMALL for found in seen for d in found.detections)  # small things: tile them
    seen += [find_objects(c.pixels(), registry, quick=True, tiled=closer) for c in others]
    strong = [[d for d in f.detections if d.confidence >= MIN_TAG] for f in seen]
    confirmed = _confirmed(
        [{d.label for d in frame} for frame in strong], [{d.label for d in f.detections} for f in seen]
    )
    whole = {d.label for i, frame in enumerate(strong[: len(looks)]) for d in frame if d not in seen[i].by_tiles}
    sure = confirmed | whole  # a kind seen whole on a tagged frame needs no second frame for more of its kind
    tags = []
    for look, found in zip(looks, seen):
        tags += tag_frame(look.image, registry, [d for d in found.detections if d.label in sure])
    shown = {d.label for frame in strong[: len(looks)] for d in frame}
    best = {
        label: max(d.confidence for frame in strong for d in frame if d.label == label) for label in confirmed - shown
    }
    tags += [Tag(label, sure_of, "objects") for label, sure_of in best.items()]
    riding = [_best(riders([d for d in frame if d.label in sure])) for frame in strong]
    for words in _confirmed([set(r) for r in riding], [{w for w, _ in riders(f.detections)} for f in seen]):
        sure_of = max(r[words] for r in riding if words in r)
        tags += [Tag(w, sure_of, "objects: riding") for w in (words, f"person {words}", RIDING)]
    return merge(tags)


def _spread(frames: list[Candidate], taken: list[Candidate], count: int) -> list[Candidate]:
    """Up to ``count`` of ``frames``, each the farthest in time from those taken before it and none the same
    picture as one taken (a still shot would confirm a mistake with itself)."""
    taken, chosen = list(taken), []
    free = list(frames)
    for _ in range(count):
        free = [f for f in free if not any(f.t == t.t or f.same_picture(t) for t in taken)]
        if not free:
            break
        chosen.append(max(free, key=lambda f: min(abs(f.t - t.t) for t in taken)))
        taken.append(chosen[-1])
    return chosen


def _confirmed(strong: list[set[str]], weak: list[set[str]]) -> set[str]:
    """What one frame saw surely (``strong``) and another frame saw at all (``weak``): seen twice, with hysteresis."""
    return {
        item for i, frame in enumerate(strong) for item in frame if any(item in w for j, w in enumerate(weak) if j != i)
    }


def _best(found: list[tuple[str, float]]) -> dict[str, float]:
    """Each phrase once, at its highest confidence."""
    best: dict[str, float] = {}
    for words, sure in found:
        best[words] = max(sure, best.get(words, 0.0))
    return best


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
