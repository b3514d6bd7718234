"""Stage 4, scenes: shots reshaped into units of search.

Shots shorter than ``MIN_SCENE_S`` join the neighbour they look most like (the
shorter one when that cannot be told); shots longer
than ``MAX_SCENE_S`` are cut into even windows, each cut moved to the nearest
pause in the speech so that no sentence is split when it need not be. A video
without cuts is one long shot, so it gets windows too.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from heimdex.models.types import Word
from heimdex.pipeline.index import Shot, Span

Unlikeness = Callable[[Span, Span], float | None]  # how different two adjacent spans look; None: unknown

MIN_SCENE_S = 1.5
MAX_SCENE_S = 20.0
MIN_PAUSE_S = 0.3  # a gap between words at least this long is a pause


def build_scenes(shots: list[Shot], words: list[Word], unlikeness: Unlikeness | None = None) -> list[Span]:
    """Scenes covering the shots end to end, none shorter than 1.5 s (unless the video is) or longer than 20 s."""
    spans = _merge_short([Span(shot.start_s, shot.end_s) for shot in shots], unlikeness or (lambda a, b: None))
    pauses = speech_pauses(words)
    return [piece for span in spans for piece in _split_long(span, pauses, words)]


def speech_pauses(words: list[Word]) -> list[float]:
    """The middle of every pause between consecutive words."""
    return [(a.end + b.start) / 2 for a, b in zip(words, words[1:]) if b.start - a.end >= MIN_PAUSE_S]


def _merge_short(spans: list[Span], unlikeness: Unlikeness) -> list[Span]:
    spans = list(spans)
    while len(spans) > 1:
        shortest = min(range(len(spans)), key=lambda i: spans[i].length_s)
        if spans[shortest].length_s >= MIN_SCENE_S:
            break
        neighbours = [i for i in (shortest - 1, shortest + 1) if 0 <= i < len(spans)]
        looks = {i: unlikeness(spans[shortest], spans[i]) for i in neighbours}
        if len(neighbours) == 2 and None not in looks.values():
            other = min(neighbours, key=lambda i: looks[i] or 0.0)
        else:
            other = min(neighbours, key=lambda i: spans[i].length_s)
        first, second = sorted((shortest, other))
        spans[first : second + 1] = [Span(spans[first].start_s, spans[second].end_s)]
    return spans


def _split_long(span: Span, pauses: list[float], words: list[Word]) -> list[Span]:
    if span.length_s <= MAX_SCENE_S:
        return [span]
    count = math.ceil(span.length_s / MAX_SCENE_S)
    window = span.length_s / count
    bounds = [span.start_s]
    for i in range(1, count):
        target = span.start_s + i * window
        near = [p for p in pauses if abs(p - target) <= window / 4 and p - bounds[-1] >= MIN_SCENE_S]
        bounds.append(min(near, key=lambda p: abs(p - target)) if near else _outside_words(target, words))
    bounds.append(span.end_s)
    return [Span(round(a, 3), round(b, 3)) for a, b in zip(bounds, bounds[1:])]


def _outside_words(target: float, words: list[Word]) -> float:
    """``target``, or the nearer edge of the word spoken at that moment."""
    for word in words:
        if word.start < target < word.end:
            return word.start if target - word.start < word.end - target else word.end
    return target
