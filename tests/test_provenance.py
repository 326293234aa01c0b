"""Training provenance: the one record that the CLI, the build script and notebook 02 write."""

from __future__ import annotations

import copy
import hashlib
import json
import platform

import pytest

import kanalml
from kanalml.provenance import PACKAGES, package_versions, record_training


@pytest.fixture
def model(small_model):
    """A private copy: record_training writes into the model's metadata."""
    return copy.deepcopy(small_model)


def test_record_names_hashes_and_sizes_the_files(model, tmp_path) -> None:
    (tmp_path / "data").mkdir()
    first, second = tmp_path / "data" / "a.csv", tmp_path / "b.csv"
    first.write_bytes(b"text,label\nx,1\n")
    second.write_bytes(b"other")
    record = record_training(model, [first, second], root=tmp_path)
    assert record["files"] == [
        {"file": "data/a.csv", "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
         "bytes": first.stat().st_size},
        {"file": "b.csv", "sha256": hashlib.sha256(b"other").hexdigest(), "bytes": 5}]
    # Without a root a file is named by its name: a path means nothing on another machine.
    assert record_training(model, [first])["files"][0]["file"] == "a.csv"
    # ... and a file beside the root (the shared data) keeps its relative path.
    assert record_training(model, [second], root=tmp_path / "data")["files"][0]["file"] == \
        "../b.csv"


def test_record_holds_rows_labels_options_and_versions(model, corpus, tmp_path) -> None:
    texts, labels = corpus
    path = tmp_path / "labelled.csv"
    path.write_text("x")
    record = record_training(model, [path], options={"target_precision": None, "beta": 0.5},
                             built_by="kanalml train labelled.csv -o m")
    assert model.metadata_["training"] is record
    assert set(record) == {"files", "rows", "labels", "options", "versions", "built_by"}
    assert record["rows"] == len(texts)
    assert record["labels"] == {name: {"rows": len(texts), "positives": int(labels[name].sum())}
                                for name in model.labels_}
    assert record["options"] == {"folds": 3, "random_state": 0, "target_precision": None,
                                 "beta": 0.5}
    assert record["versions"]["python"] == platform.python_version()
    assert record["versions"]["kanalml"] == kanalml.__version__
    assert set(record["versions"]) == {"python", "kanalml", *PACKAGES}
    assert record["built_by"] == "kanalml train labelled.csv -o m"


def test_record_is_saved_and_loaded_with_the_model(model, tmp_path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text("x")
    record = record_training(model, [path])
    loaded = kanalml.load_model(model.save(tmp_path / "m"))
    assert loaded.metadata_["training"] == json.loads(json.dumps(record))


def test_options_must_be_json(model, tmp_path) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text("x")
    with pytest.raises(TypeError, match="JSON"):
        record_training(model, [path], options={"folds": object()})
    with pytest.raises(TypeError, match="JSON"):
        record_training(model, [path], options={"beta": float("nan")})
    assert "training" not in model.metadata_


def test_package_versions_are_those_installed() -> None:
    import numpy
    import sklearn

    versions = package_versions()
    assert versions["numpy"] == numpy.__version__
    assert versions["scikit-learn"] == sklearn.__version__



def test_the_shipped_model_records_its_training(default_model) -> None:
    record = default_model.metadata_["training"]
    assert [f["file"] for f in record["files"]] == [  # ekstremisme-v3: data/ alone
        "data/extremism_corpus.csv", "data/netifier_guide_labels.csv",
        "data/third_party/netifier_train.csv.gz",
        "data/third_party/ibrohim2019_re_dataset.csv.gz"]
    assert record["built_by"] == "python scripts/build_default_model.py"
    assert record["rows"] == default_model.metadata_["training_rows"]
    assert set(record["labels"]) == set(default_model.labels_)  # a JSON object: keys sorted
    # the older, drifted keys are gone
    assert not {"training_files", "training_file", "training_file_sha256"} & \
        set(default_model.metadata_)
