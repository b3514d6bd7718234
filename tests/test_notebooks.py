"""The notebooks run top to bottom (on small inputs) in a fresh kernel."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from helpers import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("name", ["pipeline_walkthrough.ipynb", "fusion_study.ipynb"])
def test_notebook_runs(name, tmp_path, monkeypatch, media):
    monkeypatch.setenv("HEIMDEX_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("HEIMDEX_TEST_MEDIA", str(media))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.delenv("HEIMDEX_DATA_DIR", raising=False)  # each notebook makes its own throwaway folder
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert ("moment" in text) if name.startswith("pipeline") else ("objective" in text)
