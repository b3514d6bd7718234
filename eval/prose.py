"""Real English prose for benchmarks: the sentences of the documentation shipped with this Python.

Every docstring paragraph of the standard library and the installed packages is split into sentences;
those of 6 to 30 words, mostly words (no code, no doctest), are kept once each, in a fixed order. With
this project's locked packages that is about 250,000 sentences and a vocabulary of over 100,000 words
of Zipf-like frequency: real language, for a real text model to embed.
"""

from __future__ import annotations

import ast
import random
import re
import sysconfig
from pathlib import Path

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def roots() -> list[Path]:
    """Where this Python's modules are: the standard library and the installed packages."""
    paths = sysconfig.get_paths()
    return [Path(p) for p in dict.fromkeys((paths["stdlib"], paths["purelib"], paths["platlib"]))]


def _prose(paragraph: str) -> bool:
    return ">>>" not in paragraph and "::" not in paragraph


def _sentence(words: list[str]) -> bool:
    return 6 <= len(words) <= 30 and sum(w.strip(",.;:()'\"").isalpha() for w in words) >= 0.8 * len(words)


def docstrings(path: Path) -> list[str]:
    """The docstrings of a module, its classes and functions ([] when it does not parse)."""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return []
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [doc for node in ast.walk(tree) if isinstance(node, nodes) and (doc := ast.get_docstring(node))]


def sentences(seed: int = 1) -> list[str]:
    """Every distinct sentence of the documentation, shuffled by ``seed`` (the same list on the same packages)."""
    found: dict[str, None] = {}
    for path in sorted({p for root in roots() for p in root.rglob("*.py")}):
        for doc in docstrings(path):
            for paragraph in filter(_prose, doc.split("\n\n")):
                for sentence in SENTENCE_END.split(" ".join(paragraph.split())):
                    if _sentence(sentence.split()):
                        found.setdefault(sentence, None)
    ordered = list(found)
    random.Random(seed).shuffle(ordered)
    return ordered
