"""Evaluating and comparing what ships: label mapping (``--labels ekstremisme=label``) and row
selection (``--where pass=9``) in ``kanalml evaluate``, ``models compare`` and ``train``, on the
shipped corpus and the models in ``models/``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO_ROOT, SMALL_LABELS, make_corpus

import kanalml
from kanalml.api import DEFAULT_MODEL
from kanalml.cli import main
from kanalml.errors import DataError
from kanalml.labelled import label_mapping, read_labelled, row_filter

CORPUS = REPO_ROOT / "data" / "extremism_corpus.csv"
SHIPPED = REPO_ROOT / "models" / DEFAULT_MODEL  # the default model, the one the wheel carries
EARLIER = REPO_ROOT / "models" / "netifier-v1"  # the first model: topic labels, no ekstremisme
TEST_PASS = "9"  # the final test pass: written after the modelling choices were frozen


def held_out_pass() -> tuple[list[str], list[int]]:
    """The final test pass of the corpus, read with the csv module (not kanalml's reader)."""
    with open(CORPUS, encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["pass"] == TEST_PASS]
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def test_label_mapping_and_row_filter_syntax() -> None:
    assert label_mapping("ekstremisme=label") == {"ekstremisme": "label"}
    assert label_mapping("a, b") == {"a": "a", "b": "b"}
    assert label_mapping("ekstremisme=label,radikalisme=label") == {
        "ekstremisme": "label", "radikalisme": "label"}
    for bad in ("=label", "ekstremisme=", ",", "a=x,a=y"):
        with pytest.raises(ValueError):
            label_mapping(bad)
    assert row_filter("pass=4") == ("pass", ["4"])
    assert row_filter("pass = 1,2, 3") == ("pass", ["1", "2", "3"])
    for bad in ("pass", "=4", "pass="):
        with pytest.raises(ValueError):
            row_filter(bad)


def test_read_labelled_maps_labels_and_selects_rows(tmp_path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("id,pass,label,text\na,1,1,satu\nb,4,0,dua\nc,4,1,tiga\nd,4.0,0,empat\n",
                    encoding="utf-8")
    frame, text, labels = read_labelled(path, labels={"ekstremisme": "label",
                                                      "radikalisme": "label"},
                                        where=[("pass", ["4"])])
    assert labels == ["ekstremisme", "radikalisme"] and text == "text"
    assert frame["id"].tolist() == ["b", "c", "d"]  # "4.0" is 4 too
    assert frame["ekstremisme"].tolist() == [0, 1, 0] == frame["radikalisme"].tolist()
    assert str(frame["ekstremisme"].dtype) == "int8"
    assert frame["_line"].tolist() == [3, 4, 5]
    # a bad label outside the selected rows does not matter; inside, it names file and line
    path.write_text("id,pass,label,text\na,1,x,satu\nb,4,0,dua\nc,4,ya?,tiga\n",
                    encoding="utf-8")
    with pytest.raises(DataError, match=rf"^{path}:4: column 'label': 'ya\?' is not a 0/1"):
        read_labelled(path, labels={"e": "label"}, where=[("pass", ["4"])])
    with pytest.raises(DataError, match="already has a column 'label'"):
        read_labelled(path, labels={"label": "pass"})


def test_evaluate_the_shipped_model_on_its_held_out_pass(tmp_path, capsys) -> None:
    out = tmp_path / "report"
    assert main(["evaluate", str(CORPUS), "--labels", "ekstremisme=label", "--where",
                 f"pass={TEST_PASS}", "-o", str(out)]) == 0
    printed = capsys.readouterr()
    texts, y = held_out_pass()
    from kanalml.evaluation import training_overlap

    overlap = training_overlap(kanalml.load_model(), texts)
    assert overlap <= 1  # one test post repeats a training post word for word
    assert ("training data" in printed.err) == bool(overlap)
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"ekstremisme"}
    assert metrics["ekstremisme"]["rows"] == len(texts) > 400
    assert metrics["ekstremisme"]["positives"] == sum(y)
    expected = kanalml.evaluate(kanalml.load_model(), texts,
                                pd.DataFrame({"ekstremisme": y}))["ekstremisme"]
    assert metrics["ekstremisme"]["average_precision"] == pytest.approx(
        expected["average_precision"])
    assert expected["average_precision"] > 0.9  # the held-out result the model card reports
    row = printed.out.splitlines()[1].split()
    assert row[0] == "ekstremisme"
    assert row[-3:] == [str(expected["flagged"]), str(sum(y)), str(len(texts))]


def test_without_a_mapping_the_message_says_how(tmp_path, capsys) -> None:
    assert main(["evaluate", str(CORPUS), "-o", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert "--labels LABEL=COLUMN" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_compare_the_two_shipped_models(capsys) -> None:
    assert main(["models", "compare", str(EARLIER), str(SHIPPED), str(CORPUS),
                 "--labels", "ekstremisme=label,radikalisme=label", "--where",
                 f"pass={TEST_PASS}"]) == 0
    lines = capsys.readouterr().out.splitlines()
    texts, y = held_out_pass()
    n = str(len(texts))
    assert lines[0] == f"{n} posts from {CORPUS} where pass = {TEST_PASS}"
    assert lines[1].split() == ["label", "metric", "netifier-v1", DEFAULT_MODEL,
                                DEFAULT_MODEL, "-", "netifier-v1"]
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in lines[2:]}
    # netifier-v1 has no ekstremisme label: its cells are "-", the other model's are there
    assert rows[("ekstremisme", "rows")] == ["-", n, "-"]
    assert rows[("ekstremisme", "positives")] == ["-", str(sum(y)), "-"]
    ap_a, ap_b, diff = rows[("radikalisme", "average_precision")]
    earlier = kanalml.evaluate(kanalml.load_model(EARLIER), texts,
                               pd.DataFrame({"radikalisme": y}))["radikalisme"]
    assert float(ap_a) == pytest.approx(earlier["average_precision"], abs=5e-5)
    assert float(diff) == pytest.approx(float(ap_b) - float(ap_a), abs=2e-4)
    # counts are integers, every other value has at most 4 decimals
    assert rows[("radikalisme", "rows")] == [n, n, "0"]
    for values in rows.values():
        for cell in values:
            assert cell == "-" or "." not in cell or len(cell.split(".")[1]) <= 4


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["--where", "pas=4"], 1, "no column 'pas' for --where (columns: id, pass, label,"),
    (["--where", "pass=99"], 1, "no row has pass = 99 (values of pass: 1, 2, 3, 4,"),
    (["--where", "pass"], 2, "expected COLUMN=VALUE"),
    (["--labels", "=label"], 2, "expected LABEL or LABEL=COLUMN"),
    (["--labels", "ekstremisme=nilai"], 1, "no label column(s) 'nilai'"),
])
def test_bad_mapping_or_selection(tmp_path, capsys, argv, code, message) -> None:
    args = ["evaluate", str(CORPUS), "-o", str(tmp_path / "r")]
    if "--labels" not in argv:
        args += ["--labels", "ekstremisme=label"]
    if code == 2:
        with pytest.raises(SystemExit) as stop:
            main(args + argv)
        assert stop.value.code == 2
    else:
        assert main(args + argv) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_train_reads_a_mapped_label_from_selected_rows(tmp_path) -> None:
    texts, labels = make_corpus(3)
    frame = pd.DataFrame({"text": texts, "nilai": labels["radikalisme"],
                          "promosi": labels["promosi"],
                          "bagian": ["latih" if i % 4 else "uji" for i in range(len(texts))]})
    data = tmp_path / "posts.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "model"
    assert main(["train", str(data), "-o", str(out), "--labels", "radikalisme=nilai,promosi",
                 "--where", "bagian=latih", "--folds", "3", "--quiet"]) == 0
    model = kanalml.load_model(out)
    assert model.labels_ == SMALL_LABELS
    assert model.metadata_["training_rows"] == int((frame["bagian"] == "latih").sum())


def test_models_list_shows_each_model_once_with_its_path(tmp_path, capsys, monkeypatch) -> None:
    import shutil

    copy = tmp_path / "site" / DEFAULT_MODEL  # an installed copy of the checkout's model
    shutil.copytree(SHIPPED, copy)
    monkeypatch.chdir(REPO_ROOT)
    assert main(["models", "list", "models", str(copy)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "path"
    names = [line.split()[0] for line in lines[1:]]
    local = sorted(p.name for p in (REPO_ROOT / "models").iterdir()
                   if (p / "manifest.json").is_file())
    assert names == local  # the copy is the same model: listed once
    row = next(line for line in lines[1:] if line.split()[0] == DEFAULT_MODEL)
    assert row.split()[-1] == str(Path("models") / DEFAULT_MODEL)
