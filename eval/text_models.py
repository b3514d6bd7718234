"""Compare the offline text embedders on the bilingual retrieval set; prints a table.

    python -m eval.text_models

Tasks over eval/sets/bilingual_text.jsonl (40 items): a short English query finds
its English sentence (same language), English finds Korean and Korean finds
English (cross-language), and the short English query finds the Korean sentence.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from heimdex.config import get_settings
from heimdex.models.text import OFFLINE

DATA = Path(__file__).parent / "sets" / "bilingual_text.jsonl"
TASKS = {
    "query_en→en": ("query_en", "en"),
    "en→ko": ("en", "ko"),
    "ko→en": ("ko", "en"),
    "query_en→ko": ("query_en", "ko"),
}


def load_pairs(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ranks(queries: np.ndarray, passages: np.ndarray) -> np.ndarray:
    """1-based rank of the right passage (same row index) for each query."""
    scores = queries @ passages.T
    right = scores[np.arange(len(scores)), np.arange(len(scores))][:, None]
    return (scores > right).sum(axis=1) + 1


def evaluate(embedder, pairs: list[dict]) -> dict[str, tuple[float, float]]:
    """(R@1, MRR) per task."""
    result = {}
    for task, (q_field, p_field) in TASKS.items():
        r = ranks(
            embedder.embed_queries([p[q_field] for p in pairs]), embedder.embed_passages([p[p_field] for p in pairs])
        )
        result[task] = (float(np.mean(r == 1)), float(np.mean(1.0 / r)))
    return result


def main() -> None:
    pairs = load_pairs()
    sentences = [p[field] for p in pairs for field in ("en", "ko")] * 4
    print(f"{'model':<28}{'load s':>8}{'sent/s':>9}  " + "  ".join(f"{t:>17}" for t in TASKS))
    for key, spec in OFFLINE.items():
        started = time.perf_counter()
        embedder = spec.load(get_settings())
        embedder.embed_passages(["warm up"])
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        embedder.embed_passages(sentences)
        rate = len(sentences) / (time.perf_counter() - started)
        scores = evaluate(embedder, pairs)
        cells = "  ".join(f"R@1 {r1:.2f} MRR {mrr:.2f}" for r1, mrr in scores.values())
        print(f"{key + ' (' + str(spec.info.dim) + 'd)':<28}{load_s:>8.2f}{rate:>9.0f}  {cells}")


if __name__ == "__main__":
    main()
