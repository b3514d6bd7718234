"""The shape of the code: wings in layers (scripts/import_graph.py), imports one way, adapters behind the registry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from helpers import ROOT
from scripts.import_graph import LAYER, cycles, graph, imports, upward

pytestmark = pytest.mark.unit


def _heimdex_imports(path: Path) -> set[str]:
    """The heimdex modules ``path`` names in its import statements (``from a import b``: ``a``, not ``a.b``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("heimdex"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("heimdex"):
            found.update(
                f"{node.module}.{alias.name}"
                if node.module in ("heimdex", "heimdex.app", "heimdex.models")
                else node.module
                for alias in node.names
            )
    return found


def test_no_part_and_no_module_imports_itself_in_a_circle_and_no_arrow_points_up():
    assert cycles(graph(by_part=True)) == []
    assert cycles(graph(by_part=False)) == []
    assert upward(graph(by_part=True)) == []
    assert set(graph(by_part=True)) <= set(LAYER), "every part stands in a layer"


def test_the_top_level_is_wings_and_a_small_foundation():
    modules = sorted(p.stem for p in (ROOT / "heimdex").glob("*.py"))
    assert modules == ["__init__", "__main__", "config", "errors", "states", "storage"]


def test_the_pipeline_knows_nothing_of_jobs_or_of_who_asks():
    parts = graph(by_part=True)
    assert "heimdex.pipeline" in parts["heimdex.jobs"]
    for lower in ("heimdex.pipeline", "heimdex.search", "heimdex.states", "heimdex.library", "heimdex.perception"):
        assert not parts[lower] & {"heimdex.jobs", "heimdex.app", "heimdex.ops"}, lower


def test_outside_models_only_the_registry_the_roles_and_the_types_are_imported():
    allowed = {"heimdex.models.registry", "heimdex.models.roles", "heimdex.models.types"}
    for path in (ROOT / "heimdex").rglob("*.py"):
        if "models" in path.relative_to(ROOT / "heimdex").parts[:1]:
            continue
        named = {name for name in _heimdex_imports(path) if name.startswith("heimdex.models")}
        assert named <= allowed, (path, named - allowed)


def test_the_ui_talks_to_the_service_only():
    """Operations through the service's doors; words from the one text source; errors by their kind."""
    for path in ROOT.glob("ui/*.py"):
        named = _heimdex_imports(path)
        assert named <= {"heimdex.app.service", "heimdex.app.text", "heimdex.errors"}, (path, named)


def test_only_the_app_goes_through_the_session_layer_and_only_the_service_holds_its_database():
    modules = graph(by_part=False)
    assert [m for m, targets in modules.items() if "heimdex.app.service" in targets] == []
    for path in [ROOT / "app.py", *ROOT.glob("ui/*.py"), *ROOT.glob("heimdex/**/*.py")]:
        assert not re.search(r"service\._", path.read_text()), path


def test_the_import_reader_sees_imports_inside_functions():
    assert "heimdex.jobs.queue" in imports(ROOT / "app.py")
