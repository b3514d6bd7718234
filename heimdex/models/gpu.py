"""GPU hand-off for the hub profile on a Hugging Face ZeroGPU Space."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

F = TypeVar("F", bound=Callable)


def on_gpu(fn: F) -> F:
    """Wrap ``fn`` with ``spaces.GPU`` when the ``spaces`` package is present (a no-op off ZeroGPU)."""
    try:
        import spaces
    except ImportError:
        return fn
    return cast(F, spaces.GPU(fn))
