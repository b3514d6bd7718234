"""Fusion: per-signal scores made comparable, combined into one score, cut at a relevance floor.

Signals are what the channels measure (``transcript_vec`` is the cosine of the query
and a scene's transcript vector, ``tags_text`` the full-text rank of its tags, ...).
Each is calibrated to 0..1 by a linear ramp between two raw values, so that a
score means the same thing whatever else is in the library, and then fused:

- ``weighted``: the weighted sum of the calibrated signals; the floor applies to it.
- ``rrf``: reciprocal rank fusion, sum of weight / (k + rank) over the signals
  that found the scene; the floor applies to the best calibrated signal.

The numbers live in ``fusion.json`` beside this module; ``python -m eval.tune``
chooses them on the labeled queries and writes them there.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

CONFIG_PATH = Path(__file__).with_name("fusion.json")
CHANNELS = {
    "transcript": ("transcript_vec", "transcript_text"),
    "ocr": ("ocr_vec", "ocr_text"),
    "visual": ("tags_vec", "tags_text", "appearance", "clip_vec"),
    "person": ("person",),
}
SIGNALS = tuple(signal for signals in CHANNELS.values() for signal in signals)
CHANNEL_OF = {signal: channel for channel, signals in CHANNELS.items() for signal in signals}


@dataclass
class FusionConfig:
    method: str = "weighted"
    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SIGNALS, 1.0))
    calibration: dict[str, tuple[float, float]] = field(default_factory=lambda: dict.fromkeys(SIGNALS, (0.0, 1.0)))
    floor: float = 0.3
    rrf_k: float = 60.0

    @classmethod
    def load(cls, path: Path = CONFIG_PATH) -> FusionConfig:
        """The settings in ``path`` (re-read only when the file changes)."""
        return _load(path, path.stat().st_mtime_ns)

    def save(self, path: Path = CONFIG_PATH) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> FusionConfig:
    data = json.loads(path.read_text())
    data["calibration"] = {k: tuple(v) for k, v in data["calibration"].items()}
    return FusionConfig(**data)


@dataclass
class Fused:
    scene_id: int
    score: float
    signals: dict[str, float]  # calibrated, 0..1

    @property
    def channels(self) -> dict[str, float]:
        """Each channel's strongest calibrated signal (the 'why it matched')."""
        found: dict[str, float] = {}
        for signal, value in self.signals.items():
            channel = CHANNEL_OF[signal]
            found[channel] = max(found.get(channel, 0.0), value)
        return {channel: round(value, 3) for channel, value in found.items() if value > 0}


def calibrate(signal: str, raw: float, config: FusionConfig) -> float:
    lo, hi = config.calibration.get(signal, (0.0, 1.0))
    return min(1.0, max(0.0, (raw - lo) / (hi - lo))) if hi > lo else float(raw >= lo)


def fuse(raw: dict[str, dict[int, float]], config: FusionConfig) -> list[Fused]:
    """Scenes above the floor, best first; ``raw`` maps signal → scene id → raw score."""
    calibrated: dict[int, dict[str, float]] = {}
    for signal, scores in raw.items():
        if config.weights.get(signal, 0.0) <= 0:
            continue
        for scene_id, value in scores.items():
            score = calibrate(signal, value, config)
            if score > 0:
                calibrated.setdefault(scene_id, {})[signal] = score
    if config.method == "rrf":
        fused = _reciprocal_rank(calibrated, config)
    else:
        fused = [
            Fused(scene_id, sum(config.weights[s] * v for s, v in signals.items()), signals)
            for scene_id, signals in calibrated.items()
        ]
        fused = [f for f in fused if f.score >= config.floor]
    return sorted(fused, key=lambda f: (-f.score, f.scene_id))


def _reciprocal_rank(calibrated: dict[int, dict[str, float]], config: FusionConfig) -> list[Fused]:
    scores = dict.fromkeys(calibrated, 0.0)
    for signal in SIGNALS:
        ranked = sorted((s for s in calibrated if signal in calibrated[s]), key=lambda s: -calibrated[s][signal])
        for rank, scene_id in enumerate(ranked, start=1):
            scores[scene_id] += config.weights.get(signal, 0.0) / (config.rrf_k + rank)
    return [
        Fused(scene_id, scores[scene_id], signals)
        for scene_id, signals in calibrated.items()
        if max(signals.values()) >= config.floor
    ]
