"""Stage 5, align: each spoken word goes to the scene that holds its midpoint.

A sentence that runs across a cut is split between the two scenes, never lost,
and every scene keeps its words' own times, so a hit can start the player at the
first matching word.
"""

from __future__ import annotations

import bisect

from heimdex.models.types import Word
from heimdex.pipeline.index import Span


def align_words(scenes: list[Span], words: list[Word]) -> list[list[Word]]:
    """The words of each scene, in order (words outside every scene go to the nearest one)."""
    starts = [scene.start_s for scene in scenes]
    aligned: list[list[Word]] = [[] for _ in scenes]
    for word in words:
        middle = (word.start + word.end) / 2
        index = min(max(bisect.bisect_right(starts, middle) - 1, 0), len(scenes) - 1)
        aligned[index].append(word)
    return aligned
