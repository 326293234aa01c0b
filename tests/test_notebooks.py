"""The notebooks run top to bottom, headless, on small data, and do what they say."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import REPO_ROOT

import kanalml

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = REPO_ROOT / "notebooks"
DEMO_LABELLED = REPO_ROOT / "data" / "demo_labelled.csv"
DEMO_EXPORT = REPO_ROOT / "data" / "demo_export.csv"


def execute(name: str, **parameters) -> dict:
    """Run a notebook with its `parameters` cell overridden (papermill style); return it."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n# injected by the test\n" + "\n".join(
        f"{key} = {value!r}" for key, value in parameters.items())
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return notebook


def outputs(notebook: dict) -> str:
    return "\n".join(json.dumps(c.get("outputs", [])) for c in notebook.cells
                     if c.cell_type == "code")


@pytest.mark.parametrize("name", ["01_explore.ipynb", "02_train_evaluate.ipynb",
                                  "03_score_export.ipynb"])
def test_committed_notebooks_are_clean_and_parameterized(name) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])


def test_explore() -> None:
    notebook = execute("01_explore.ipynb", DATA=str(DEMO_LABELLED))
    text = outputs(notebook)
    assert "188 posts from" in text and "ekstremisme" in text
    assert "image/png" in text  # the length histogram
    assert "thaghut" in text  # a top term of the radical label in the demo set


def test_train_evaluate_saves_a_versioned_model(tmp_path) -> None:
    execute("02_train_evaluate.ipynb", DATA=str(DEMO_LABELLED), FOLDS=3, NAME="demo-v2",
            OUTPUT_DIR=str(tmp_path))
    model = kanalml.load_model(tmp_path / "models" / "demo-v2")
    assert model.labels_ == ["ekstremisme"]
    assert model.metadata_["cv"]["folds"] == 3
    assert model.metadata_["params"]["C"] == 10.0  # the candidate's option
    training = model.metadata_["training"]  # provenance.record_training, as the CLI writes it
    assert training["files"][0]["file"] == "data/demo_labelled.csv"
    assert training["built_by"] == "notebooks/02_train_evaluate.ipynb"
    assert training["rows"] == model.metadata_["training_rows"]
    card = (tmp_path / "models" / "demo-v2" / "README.md").read_text()
    assert "# kanalml model `demo-v2`" in card
    report = tmp_path / "reports" / "demo-v2"
    assert (report / "ekstremisme_calibration.png").is_file()
    page = (report / "report.html").read_text()
    # The report scores posts held out before training: no training-data warning on it.
    assert "held out before training" in page and "training data" not in page


def test_score_export_writes_the_queue(tmp_path) -> None:
    notebook = execute("03_score_export.ipynb", DATA=str(DEMO_EXPORT), BUDGET=5,
                       OUTPUT_DIR=str(tmp_path))
    queue = pd.read_csv(tmp_path / "queue.csv")
    assert len(queue) == 5 and queue["rank"].tolist() == [1, 2, 3, 4, 5]
    channels = pd.read_csv(tmp_path / "channels.csv")
    assert len(channels) == 8
    assert "image/png" in outputs(notebook)
