"""Stage 1, audio: the soundtrack as 16 kHz mono float32 samples (faster-whisper's own decoder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000


def decode_audio(path: Path) -> np.ndarray:
    """All samples of the first audio stream, resampled to 16 kHz mono."""
    from faster_whisper.audio import decode_audio as whisper_decode

    samples = whisper_decode(str(path), sampling_rate=SAMPLE_RATE)  # mono: one array, not a (left, right) pair
    assert isinstance(samples, np.ndarray)
    return samples
