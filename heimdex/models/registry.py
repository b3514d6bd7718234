"""The model registry: one lazily loaded, thread-safe instance per role and process.

``HEIMDEX_MODELS`` picks the profile: ``offline`` (weights from pinned packages; runs
everywhere, including every test) or ``hub`` (Hugging Face models for the hosted Space).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

from heimdex.config import Settings, get_settings
from heimdex.models.base import ModelInfo, ModelSpec
from heimdex.telemetry import metrics

if TYPE_CHECKING:
    from heimdex.models.roles import (
        BodyModel,
        ClipModel,
        ConceptModel,
        DemographicsModel,
        ExpressionModel,
        FaceModel,
        ObjectModel,
        PoseModel,
        ScreenTextModel,
        SegmentationModel,
        SpeechModel,
        TextEmbedder,
    )

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelStatus:
    info: ModelInfo
    loaded: bool
    problem: str | None  # None when the weights are present and intact (or fetched on demand)


class Registry:
    """Holds the models of one profile; ``get`` loads on first use, ``free`` releases."""

    def __init__(self, profile: str, specs: dict[str, ModelSpec], settings: Settings):
        self.profile = profile
        self.specs = specs
        self.settings = settings  # the models' threads and folders
        self._models: dict[str, Any] = {}
        self._locks = {role: threading.Lock() for role in specs}

    @overload
    def get(self, role: Literal["asr"]) -> SpeechModel: ...
    @overload
    def get(self, role: Literal["text"]) -> TextEmbedder: ...
    @overload
    def get(self, role: Literal["ocr"]) -> ScreenTextModel: ...
    @overload
    def get(self, role: Literal["objects", "objects_oi"]) -> ObjectModel: ...
    @overload
    def get(self, role: Literal["concepts"]) -> ConceptModel: ...
    @overload
    def get(self, role: Literal["pose"]) -> PoseModel: ...
    @overload
    def get(self, role: Literal["expression"]) -> ExpressionModel: ...
    @overload
    def get(self, role: Literal["faces"]) -> FaceModel: ...
    @overload
    def get(self, role: Literal["demographics"]) -> DemographicsModel: ...
    @overload
    def get(self, role: Literal["segmentation"]) -> SegmentationModel: ...
    @overload
    def get(self, role: Literal["body"]) -> BodyModel: ...
    @overload
    def get(self, role: Literal["clip"]) -> ClipModel: ...
    @overload
    def get(self, role: str) -> Any: ...

    def get(self, role: str) -> Any:
        """The loaded model for ``role``, typed by its Protocol in :mod:`heimdex.models.roles` (``KeyError`` if
        this profile has none)."""
        spec = self.specs[role]
        model = self._models.get(role)
        if model is not None:
            return model
        with self._locks[role]:
            if role not in self._models:
                started = time.perf_counter()
                self._models[role] = spec.load(self.settings)
                took = time.perf_counter() - started
                log.info("loaded %s model %s in %.1f s", role, spec.info.name, took)
                metrics.model_loaded(role, took)
            return self._models[role]

    def has(self, role: str) -> bool:
        return role in self.specs

    def info(self, role: str) -> ModelInfo:
        return self.specs[role].info

    def free(self, role: str | None = None) -> None:
        """Release one role's model, or all of them."""
        for name in [role] if role else list(self.specs):
            with self._locks[name]:
                self._models.pop(name, None)
        gc.collect()

    def status(self) -> list[ModelStatus]:
        """Each model's identity, whether it is loaded, and what is wrong with its weights."""
        result = []
        for role, spec in self.specs.items():
            try:
                spec.check(self.settings)
                problem = None
            except Exception as exc:  # reported, not raised: this feeds the doctor
                problem = str(exc)
            result.append(ModelStatus(spec.info, role in self._models, problem))
        return result


_registry: Registry | None = None
_registry_lock = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry for the configured profile (the app's settings, read here once)."""
    global _registry
    with _registry_lock:
        if _registry is None:
            from heimdex.models.profiles import PROFILES

            settings = get_settings()
            _registry = Registry(settings.models, PROFILES[settings.models](settings), settings)
        return _registry
