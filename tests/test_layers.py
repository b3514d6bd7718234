"""The shape of the code: imports go one way (media → ingest → jobs → pipeline → stores → search → app)."""

from __future__ import annotations

import re

import pytest

from helpers import ROOT
from scripts.import_graph import cycles, graph

pytestmark = pytest.mark.unit


def test_no_part_and_no_module_imports_itself_in_a_circle():
    assert cycles(graph(by_part=True)) == []
    assert cycles(graph(by_part=False)) == []


def test_the_pipeline_knows_nothing_of_jobs_or_of_who_asks():
    parts = graph(by_part=True)
    assert "heimdex.jobs" in parts and "heimdex.pipeline" in parts["heimdex.jobs"]
    for lower in ("heimdex.pipeline", "heimdex.search", "heimdex.states", "heimdex.videos", "heimdex.people"):
        assert not parts[lower] & {"heimdex.jobs", "heimdex.core", "heimdex.service", "heimdex.web", "heimdex.cli"}, (
            lower
        )


def test_only_the_app_goes_through_the_session_layer_and_only_the_service_holds_its_database():
    parts = graph(by_part=True)
    assert [part for part, targets in parts.items() if "heimdex.service" in targets] == []
    assert "heimdex.core" in parts["heimdex.service"] and "heimdex.core" in parts["heimdex.cli"]
    for path in [ROOT / "app.py", *ROOT.glob("ui/*.py"), *ROOT.glob("heimdex/**/*.py")]:
        assert not re.search(r"service\._", path.read_text()), path
