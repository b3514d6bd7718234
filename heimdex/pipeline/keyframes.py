"""Keyframes: the best frame of every second is kept while decoding; each scene then takes a few.

A frame is good when it is sharp, lit and has contrast: black frames, blown-out
frames and the flat middle of a fade score zero, and frames right at a cut are
used only when a scene has nothing else. Candidates are held as JPEGs at the
size the models read (at most 960 px), so ten minutes of video costs a few
tens of megabytes; the stored thumbnails are smaller still.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import av
import av.container
import av.error
import av.video
import cv2
import numpy as np

from heimdex.library.hdr import sdr_pixels
from heimdex.library.transcode import upright
from heimdex.pipeline.index import Span

SAMPLE_EVERY_S = 0.25  # how often a frame is scored
BUCKET_S = 1.0  # one candidate survives per bucket
ANALYSIS_SIDE = 960  # longest side of a candidate (what OCR and the taggers read)
THUMBNAIL_WIDTH = 480
KEYFRAME_EVERY_S = 4.0  # a scene gets one keyframe per this many seconds ...
MAX_KEYFRAMES = 5  # ... up to this many
CUT_GUARD_S = 0.3  # frames this close to a cut are the last resort
SIGNATURE_SIZE = (64, 36)  # a tiny grey copy that tells whether two keyframes show the same thing
CHANGED_LEVEL = 24  # a signature pixel changed when it moved this many grey levels ...
SAME_BELOW = 0.004  # ... and two keyframes are the same picture when fewer than this share of pixels did


@dataclass(frozen=True)
class Candidate:
    t: float
    score: float
    jpeg: bytes
    signature: np.ndarray

    def same_picture(self, other: Candidate) -> bool:
        """Whether ``other`` shows the same thing (a still shot; a new subtitle is a change)."""
        changed = np.abs(self.signature.astype(np.int16) - other.signature) > CHANGED_LEVEL
        return float(changed.mean()) < SAME_BELOW

    @cached_property
    def image(self) -> np.ndarray:
        """The frame as RGB pixels (kept: keyframes are read by several stages)."""
        return self.pixels()

    def pixels(self) -> np.ndarray:
        """The frame as RGB pixels, decoded afresh (not kept: for passes over every candidate)."""
        if "image" in self.__dict__:
            return self.__dict__["image"]
        decoded = cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            raise ValueError("a keyframe JPEG did not decode")
        return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


def frame_quality(gray: np.ndarray) -> float:
    """How good a keyframe this is: 0 for black or blown-out frames, next to 0 for flat ones, else sharpness × contrast.

    A dark frame with something on it (green text on a black screen) is not black.
    """
    mean, contrast = float(gray.mean()), float(gray.std())
    if contrast < 8:  # black, white, a plain field, or the washed-out middle of a fade
        return 0.0 if mean < 24 or mean > 240 else 0.01
    sharpness = float(cv2.Laplacian(gray, cv2.CV_32F).var())
    return 0.01 + float(np.log1p(sharpness) * min(1.0, contrast / 40))


class KeyframeSampler:
    """Scores a frame every quarter second and keeps the best of each second."""

    def __init__(self, width: int, height: int, rotation: int = 0):
        scale = min(1.0, ANALYSIS_SIDE / max(width, height))
        self._size = (max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2))
        self._rotation = rotation
        self._next_t = 0.0
        self._bucket: int | None = None
        self._best: tuple[float, float, av.VideoFrame, np.ndarray] | None = None
        self.candidates: list[Candidate] = []

    def offer(self, t: float, small_bgr: np.ndarray, frame: av.VideoFrame) -> None:
        """Consider the frame shown at ``t`` (its small BGR copy scores it)."""
        if t < self._next_t:
            return
        self._next_t = t + SAMPLE_EVERY_S
        bucket = int(t // BUCKET_S)
        if bucket != self._bucket:
            self._keep_best()
            self._bucket = bucket
        gray = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2GRAY)
        score = frame_quality(gray)
        if self._best is None or score > self._best[1]:
            self._best = (t, score, frame, gray)

    def finish(self) -> list[Candidate]:
        """All candidates, in time order."""
        self._keep_best()
        return self.candidates

    def _keep_best(self) -> None:
        if self._best is None:
            return
        t, score, frame, gray = self._best
        width, height = self._size
        image = sdr_pixels(frame, width, height, "bgr24")
        image = upright(image, self._rotation)
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if ok:
            signature = upright(cv2.resize(gray, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA), self._rotation)
            self.candidates.append(Candidate(round(t, 3), score, jpeg.tobytes(), signature))
        self._best = None


def choose_keyframes(scene: Span, candidates: list[Candidate], cuts: list[float]) -> list[Candidate]:
    """A few keyframes spread over ``scene``, the best one first (the thumbnail)."""
    inside = [c for c in candidates if scene.start_s <= c.t < scene.end_s]
    clean = [c for c in inside if c.score > 0 and all(abs(c.t - cut) > CUT_GUARD_S for cut in cuts)]
    if not clean:  # nothing good: the best there is, inside the scene or else nearest to it
        middle = (scene.start_s + scene.end_s) / 2
        fallback = max(inside, key=lambda c: c.score, default=None) or min(
            candidates, key=lambda c: abs(c.t - middle), default=None
        )
        return [fallback] if fallback else []
    count = max(1, min(MAX_KEYFRAMES, round(scene.length_s / KEYFRAME_EVERY_S)))
    part = scene.length_s / count
    chosen = []
    for i in range(count):
        in_part = [c for c in clean if scene.start_s + i * part <= c.t < scene.start_s + (i + 1) * part]
        if in_part:
            chosen.append(max(in_part, key=lambda c: c.score))
    best = max(chosen, key=lambda c: c.score)
    return [best] + [c for c in chosen if c is not best]


def unlikeness(candidates: list[Candidate]) -> Callable[[Span, Span], float | None]:
    """How different two adjacent spans look: the share of signature pixels that change across their boundary."""

    def nearest(span: Span, t: float) -> Candidate | None:
        inside = [c for c in candidates if span.start_s <= c.t < span.end_s]
        return min(inside, key=lambda c: abs(c.t - t), default=None)

    def measure(a: Span, b: Span) -> float | None:
        boundary = a.end_s if a.end_s <= b.start_s else a.start_s
        first, second = nearest(a, boundary), nearest(b, boundary)
        if first is None or second is None:
            return None
        return float((np.abs(first.signature.astype(np.int16) - second.signature) > CHANGED_LEVEL).mean())

    return measure


def distinct(keyframes: list[Candidate]) -> list[Candidate]:
    """The keyframes that show something the ones before them (in this order) did not."""
    kept: list[Candidate] = []
    for keyframe in keyframes:
        if not any(keyframe.same_picture(seen) for seen in kept):
            kept.append(keyframe)
    return kept


def thumbnail(candidate: Candidate) -> bytes:
    """A small JPEG of the keyframe for result lists and the player."""
    image = cv2.cvtColor(candidate.image, cv2.COLOR_RGB2BGR)
    scale = THUMBNAIL_WIDTH / image.shape[1]
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise ValueError("could not encode a thumbnail")
    return jpeg.tobytes()
