"""Stage 8b, faces: every face followed through its scene, the clearest few described, and what each person does.

Every candidate frame of the scene (one a second, decoded already) is searched by
BlazeFace, which is cheap; where the scene's tags saw more people than it found on a
keyframe, HOG reads that keyframe too. A face joins the track whose last face was
nearest, if near enough; the body under it is read on every frame (33 points, and the
hands when the wrists show). Only the best few faces of a track (sharp, frontal, large)
get a descriptor, the costly part; two tracks of one scene that are the same person
(close descriptors) and never on screen together are one. Each track becomes a
:class:`~heimdex.pipeline.index.Track`: when it was on screen and its actions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from heimdex.models.roles import BodyModel, ExpressionModel, FaceModel
from heimdex.models.types import HIP, SAME_FACE_OVERLAP, WRIST, Body, Face, FaceBox, Tag, overlap
from heimdex.perception.actions import Glimpse, track_actions
from heimdex.perception.faces import crop, drawn_score
from heimdex.pipeline.index import FaceSeen, Span, Track
from heimdex.pipeline.keyframes import Candidate

BEST_PER_TRACK = 3  # faces of a track described and kept
LINK_WIDTHS = 1.5  # a face joins a track whose last face is this many face widths away or nearer ...
LINK_GAP_S = 2.5  # ... and was seen at most this long before
SAME_PERSON = 0.45  # two tracks whose kept faces are this close (descriptor distance) are one person
MIN_FACE_PX = 8  # smaller detections are noise
BODY_FACE_PX = 16  # under this face height no body is read
PAD = 1.2  # kept face crops reach this many face sizes beyond the box on each side


def people_tagged(tags: list[Tag]) -> int:
    """How many people the scene's tags saw: 2 for 'several people', 1 for 'person', else 0."""
    names = {tag.tag for tag in tags}
    return 2 if "several people" in names else 1 if "person" in names else 0


@dataclass
class _Best:
    """A face kept for describing: its neighbourhood cut from the frame (the frame itself is not kept)."""

    rank: float
    t: float
    box: tuple[int, int, int, int]  # on the frame
    score: float
    patch: np.ndarray
    offset: tuple[int, int]  # where the patch's corner is on the frame


@dataclass
class _Track:
    glimpses: list[Glimpse] = field(default_factory=list[Glimpse])
    best: list[_Best] = field(default_factory=list[_Best])
    faces: list[Face] = field(default_factory=list[Face])

    @property
    def last(self) -> Glimpse:
        return self.glimpses[-1]

    def times(self) -> set[float]:
        return {g.t for g in self.glimpses}


@dataclass(frozen=True)
class SceneFaces:
    faces: list[FaceSeen]
    tracks: list[Track]


def faces_in_scene(
    span: Span,
    frames: list[Candidate],
    keyframes: list[Candidate],
    analyzer: FaceModel,
    keep_picture: Callable[[bytes], str],
    body: BodyModel | None = None,
    expression: ExpressionModel | None = None,
    people: int = 0,
) -> SceneFaces:
    """The people of one scene: its ``frames`` (candidates in time order), ``keyframes`` among them (read by HOG
    too when fewer than ``people`` faces show); ``keep_picture`` stores a face's picture and returns its key."""
    tracks: list[_Track] = []
    for frame in frames:
        image = frame.pixels()
        for face in _big_enough(analyzer.detect(image)):
            _follow(tracks, face, frame.t, image, body)
    if len(tracks) < people:  # the tags saw more people than BlazeFace followed: HOG reads the first keyframe
        for keyframe in keyframes[:1]:
            image = keyframe.pixels()
            there = [FaceBox(g.face, g.score, ()) for t in tracks for g in t.glimpses if g.t == keyframe.t]
            for face in _missed(_big_enough(analyzer.hog_boxes(image)), there):
                _follow(tracks, face, keyframe.t, image, body, new=True)
    for track in tracks:
        track.faces = [analyzer.describe(b.patch, _shifted(b.box, b.offset), b.score) for b in track.best]
        _read_expression(track, expression)
    tracks = _joined(tracks)
    return _result(span, tracks, keep_picture)


def _big_enough(faces: list[FaceBox]) -> list[FaceBox]:
    return [f for f in faces if min(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= MIN_FACE_PX]


def _follow(
    tracks: list[_Track], face: FaceBox, t: float, image: np.ndarray, body: BodyModel | None, new=False
) -> None:
    """Add the face seen at ``t`` to the track it continues (a new track if none, or if ``new``)."""
    glimpse = _glimpse(t, face, image, body)
    track = None if new else _nearest(tracks, glimpse)
    if track is None:
        track = _Track()
        tracks.append(track)
    track.glimpses.append(glimpse)
    _offer(track, face, t, image)


def _glimpse(t: float, face: FaceBox, image: np.ndarray, body: BodyModel | None) -> Glimpse:
    """The face at ``t`` with the body and hands under it (when a body model is there and the face is big enough)."""
    if body is None or face.box[3] - face.box[1] < BODY_FACE_PX:
        return Glimpse(t, face.box, face.score)
    seen = body.body(image, face.box)
    if seen is None:
        return Glimpse(t, face.box, face.score)
    hands = tuple(body.hand(image, seen, side) if _raised(seen, side) else None for side in (0, 1))
    return Glimpse(t, face.box, face.score, seen, (hands[0], hands[1]))


def _raised(seen: Body, side: int) -> bool:
    """Whether a hand is worth reading: its wrist seen above the hips (hands at rest say nothing)."""
    wrist, hips = seen.points[WRIST[side]], seen.points[list(HIP)]
    return seen.seen(WRIST[side]) and float(wrist[1]) < float(hips[:, 1].max())


def _nearest(tracks: list[_Track], glimpse: Glimpse) -> _Track | None:
    """The open track whose last face is nearest to ``glimpse`` (within ``LINK_WIDTHS``), not already seen at its time."""
    best, best_gap = None, LINK_WIDTHS
    for track in tracks:
        last = track.last
        if last.t >= glimpse.t or glimpse.t - last.t > LINK_GAP_S:
            continue
        width = max(1.0, (last.face[2] - last.face[0] + glimpse.face[2] - glimpse.face[0]) / 2)
        gap = float(np.linalg.norm(glimpse.centre - last.centre)) / width
        if gap <= best_gap:
            best, best_gap = track, gap
    return best


def _offer(track: _Track, face: FaceBox, t: float, image: np.ndarray) -> None:
    """Keep the face among the track's best (by score, size, frontality and sharpness), cut from the frame."""
    import cv2

    left, top, right, bottom = face.box
    pad = int(max(right - left, bottom - top) * PAD)
    x0, y0 = max(0, left - pad), max(0, top - pad)
    patch = image[y0 : bottom + pad, x0 : right + pad]
    grey = cv2.cvtColor(image[top:bottom, left:right], cv2.COLOR_RGB2GRAY)
    sharp = min(1.0, float(cv2.Laplacian(grey, cv2.CV_64F).var()) / 200.0)
    rank = face.score * min(1.0, (bottom - top) / 80) * _frontal(face) * (0.5 + 0.5 * sharp)
    if len(track.best) < BEST_PER_TRACK or rank > track.best[-1].rank:
        track.best = sorted(
            [*track.best, _Best(rank, t, face.box, face.score, patch.copy(), (x0, y0))], key=lambda b: -b.rank
        )
        del track.best[BEST_PER_TRACK:]


def _frontal(face: FaceBox) -> float:
    """1 for a face looking at the camera, less as the nose leaves the middle of the eyes (HOG's faces: 1)."""
    if len(face.keypoints) < 3:
        return 1.0
    (rx, _), (lx, _), (nx, _) = face.keypoints[:3]
    between = abs(lx - rx)
    if between < 1:
        return 0.3
    return float(max(0.3, 1 - 2 * abs(nx - (lx + rx) / 2) / between))


def _missed(hog: list[FaceBox], found: list[FaceBox]) -> list[FaceBox]:
    """HOG's faces BlazeFace did not find (each once)."""
    kept: list[FaceBox] = []
    for face in sorted(hog, key=lambda f: -f.score):
        if all(overlap(face.box, other.box) < SAME_FACE_OVERLAP for other in [*found, *kept]):
            kept.append(face)
    return kept


def _shifted(box: tuple[int, int, int, int], offset: tuple[int, int]) -> tuple[int, int, int, int]:
    return box[0] - offset[0], box[1] - offset[1], box[2] - offset[0], box[3] - offset[1]


def _read_expression(track: _Track, expression: ExpressionModel | None) -> None:
    """How sad the track's kept faces look (the crying rule asks), written onto their glimpses."""
    if expression is None:
        return
    sad = {}
    for b in track.best:
        left, top, right, bottom = _shifted(b.box, b.offset)
        label, confidence = expression.classify(b.patch[top:bottom, left:right])
        sad[b.t] = confidence if label == "sad" else 0.0
    track.glimpses = [replace(g, sad=sad.get(g.t, 0.0)) for g in track.glimpses]


def _joined(tracks: list[_Track]) -> list[_Track]:
    """Tracks of one person (faces alike, never on screen at once) joined into one, in order of first sight."""
    joined: list[_Track] = []
    for track in sorted(tracks, key=lambda t: t.glimpses[0].t):
        same = next((j for j in joined if not (j.times() & track.times()) and _alike(j, track)), None)
        if same is None:
            joined.append(track)
            continue
        same.glimpses = sorted([*same.glimpses, *track.glimpses], key=lambda g: g.t)
        pairs = sorted(zip([*same.best, *track.best], [*same.faces, *track.faces]), key=lambda p: -p[0].rank)
        same.best = [b for b, _ in pairs[:BEST_PER_TRACK]]
        same.faces = [f for _, f in pairs[:BEST_PER_TRACK]]
    return joined


def _alike(a: _Track, b: _Track) -> bool:
    if not a.faces or not b.faces:
        return False
    distances = [float(np.linalg.norm(x.descriptor - y.descriptor)) for x in a.faces for y in b.faces]
    return float(np.median(distances)) < SAME_PERSON


def _result(span: Span, tracks: list[_Track], keep_picture: Callable[[bytes], str]) -> SceneFaces:
    faces, kept = [], []
    for idx, track in enumerate(tracks):
        others = [other.glimpses for other in tracks if other is not track]
        start, end = track.glimpses[0].t, min(span.end_s, track.last.t + 1.0)
        kept.append(Track(idx, round(start, 3), round(end, 3), track_actions(track.glimpses, others)))
        for b, face in zip(track.best, track.faces):
            box = _shifted(b.box, b.offset)
            faces.append(
                FaceSeen(
                    b.t,
                    b.box,
                    [round(float(x), 6) for x in face.descriptor],
                    round(face.quality, 3),
                    keep_picture(crop(b.patch, box)),
                    idx,
                    round(drawn_score(b.patch, box), 4),
                )
            )
    return SceneFaces(faces, kept)


def actions_seen(tracks: list[Track]) -> list[Tag]:
    """The scene's tags for what its people do: each action once, at its most confident."""
    return [Tag(a.tag, a.confidence, f"{a.source} (person {t.idx + 1})") for t in tracks for a in t.actions]
