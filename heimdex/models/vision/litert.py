"""One TFLite model run by LiteRT; calls are serialised (an interpreter is not thread-safe)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np


class LiteRtModel:
    """``run(x)`` → every output tensor, for one input tensor."""

    def __init__(self, path: Path, threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        self._interpreter.allocate_tensors()
        self.input = self._interpreter.get_input_details()[0]
        self.outputs = self._interpreter.get_output_details()
        self._lock = threading.Lock()

    @property
    def input_size(self) -> tuple[int, int]:
        """(height, width) the model takes."""
        return int(self.input["shape"][1]), int(self.input["shape"][2])

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            self._interpreter.set_tensor(self.input["index"], x.astype(self.input["dtype"]))
            self._interpreter.invoke()
            return [self._interpreter.get_tensor(output["index"]).copy() for output in self.outputs]
