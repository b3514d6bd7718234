"""Live progress: the stages running now and an overall fraction that rises smoothly.

Each stage weighs what it is expected to cost for this video (a fixed part plus
a part per second of media, measured by ``eval/bench_index.py`` on a 2-core
CPU). A playable copy's pictures are encoded inside the frame scan, so its cost
weighs on ``frames``; the ``proxy`` stage only finishes and stores it. Stages
report their own fraction; transcription runs beside the frame scan, so both
move the total at once. The caller hears at most every half second (it may
write a row each time).
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from heimdex.errors import HeimdexError, Kind


class Events(Protocol):
    """What a run tells its caller, and asks it; the pipeline knows no more of who is watching."""

    def progress(self, stage: str, fraction: float) -> None:
        """The stages running now (comma-separated) and the run's overall fraction, 0..1."""
        ...

    def stop_requested(self) -> bool:
        """Whether the run should stop: checked between stages and inside their long loops."""
        ...


class Quiet:
    """Events for a run nobody watches."""

    def progress(self, stage: str, fraction: float) -> None:
        pass

    def stop_requested(self) -> bool:
        return False


class Cancelled(HeimdexError):
    """The run stopped because it was asked to; nothing it stored was kept."""

    kind = Kind.CONFLICT


# stage: (fixed seconds, seconds per second of video)
STAGE_COST: dict[str, tuple[float, float]] = {
    "audio": (0.1, 0.0015),
    "transcribe": (1.0, 0.08),
    "frames": (0.2, 0.076),
    "proxy": (0.1, 0.002),
    "scenes": (0.0, 0.0001),
    "keyframes": (0.05, 0.001),
    "ocr": (0.5, 0.03),
    "visual": (1.0, 0.02),
    "faces": (0.5, 0.02),
    "embed": (0.5, 0.002),
    "commit": (0.05, 0.0002),
}
COPY_COST_PER_S = 0.25  # encoding the copy's pictures, done by the frame scan when a "proxy" stage follows
WRITE_EVERY_S = 0.5


class Progress:
    """Tracks the stages of one run and tells ``events`` (at most every half second, and at each stage's start and end)."""

    def __init__(self, duration_s: float, stages: list[str], events: Events):
        self._weights = {
            stage: fixed + per_s * duration_s for stage, (fixed, per_s) in STAGE_COST.items() if stage in stages
        }
        if "proxy" in stages and "frames" in stages:
            self._weights["frames"] += COPY_COST_PER_S * duration_s
        self._done = dict.fromkeys(self._weights, 0.0)
        self._running: list[str] = []
        self._last = "starting"
        self._events = events
        self._lock = threading.Lock()
        self._told_at = 0.0
        self._told: tuple[str, float] | None = None

    @property
    def fraction(self) -> float:
        total = sum(self._weights.values())
        return sum(self._weights[s] * self._done[s] for s in self._weights) / total if total else 0.0

    @property
    def stage(self) -> str:
        return ", ".join(self._running) or self._last

    def check(self) -> None:
        """Raise :class:`Cancelled` once the run has been asked to stop."""
        if self._events.stop_requested():
            raise Cancelled("The job was cancelled.")

    def start(self, stage: str) -> None:
        self.check()
        with self._lock:
            self._running.append(stage)
            self._last = stage
        self._publish(force=True)

    def advance(self, stage: str, fraction: float) -> None:
        """``stage`` is ``fraction`` (0..1) done."""
        self.check()
        with self._lock:
            self._done[stage] = max(self._done.get(stage, 0.0), min(1.0, fraction))
        self._publish()

    def finish(self, stage: str) -> None:
        with self._lock:
            self._done[stage] = 1.0
            if stage in self._running:
                self._running.remove(stage)
        self._publish(force=True)

    def _publish(self, force: bool = False) -> None:
        with self._lock:
            now = time.monotonic()
            if not force and now - self._told_at < WRITE_EVERY_S:
                return
            self._told_at = now
            told = (self.stage, round(self.fraction, 3))
            if told == self._told:
                return
            self._told = told
        self._events.progress(*told)
