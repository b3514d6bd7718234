"""Coalescing: texts that arrive while the model is busy are embedded together by its next call.

A short query costs a CPU model about as much alone as with a few others (the work is
per call: dispatch, small matrix products, the interpreter lock taken back after each
one), so under load one call answers every search waiting for it instead of each
waiting its own turn. Alone, a text is embedded at once, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np


class Coalescer:
    """Wraps ``encode`` (texts → one row each); concurrent callers share calls of at most ``most`` texts."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], most: int = 32):
        self._encode, self._most = encode, most
        self._waiting: list[tuple[str, Future]] = []
        self._guard = threading.Lock()  # owns _waiting
        self._turn = threading.Lock()  # one model call at a time

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return self._encode([])
        mine = [Future() for _ in texts]
        with self._guard:
            self._waiting.extend(zip(texts, mine))
        while not all(future.done() for future in mine):
            with self._turn:  # whoever holds the turn embeds everything waiting, its own texts and others'
                with self._guard:
                    batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                if batch:
                    self._run(batch)
        return np.stack([future.result() for future in mine])

    def _run(self, batch: list[tuple[str, Future]]) -> None:
        try:
            rows = self._encode([text for text, _ in batch])
        except BaseException as exc:  # every caller in the batch sees the failure
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), row in zip(batch, rows):
            future.set_result(row)
