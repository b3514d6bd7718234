"""Stage 2, transcribe: speech to segments with word times (VAD skips the silence)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from heimdex.models.roles import SpeechModel
from heimdex.models.types import Segment, Word
from heimdex.pipeline.audio import SAMPLE_RATE

MIN_AUDIO_S = 0.2  # shorter soundtracks have nothing to say


def transcribe(
    audio: np.ndarray,
    model: SpeechModel,
    language: str | None,
    on_progress: Callable[[float], None] | None = None,
) -> tuple[str | None, list[Segment]]:
    """The spoken language (None when nothing was said) and the segments, word times included."""
    if len(audio) < MIN_AUDIO_S * SAMPLE_RATE:
        return None, []
    duration = len(audio) / SAMPLE_RATE
    progress = (lambda t: on_progress(min(1.0, t / duration))) if on_progress else None
    result = model.transcribe(audio, language=language, on_progress=progress)
    segments = [
        Segment(
            s.start,
            s.end,
            s.text,
            tuple(Word(w.text, round(w.start, 3), round(w.end, 3), w.probability) for w in s.words if w.text),
        )
        for s in result.segments
    ]
    return (result.language if segments else None), segments
