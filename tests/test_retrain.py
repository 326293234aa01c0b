"""Retraining from the command line: ``kanalml train`` (with moderator feedback) and
``kanalml models list|compare``, on labelled files the tests write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import NEGATIVE_LIKE, POSITIVE_LIKE, SMALL_LABELS, make_corpus

import kanalml
from kanalml.cli import main
from kanalml.io import DataError
from kanalml.labelled import merge_decisions, read_confirmed, read_decisions, read_labelled

PROBE = [*POSITIVE_LIKE, *NEGATIVE_LIKE]


def corpus_frame(seed: int = 0) -> pd.DataFrame:
    texts, labels = make_corpus(seed)
    frame = pd.DataFrame({"message_id": [f"m{i}" for i in range(len(texts))], "text": texts})
    return frame.assign(**labels)


@pytest.fixture
def data(tmp_path) -> Path:
    path = tmp_path / "labelled.csv"
    corpus_frame().to_csv(path, index=False)
    return path


def train_cli(*argv: str) -> int:
    return main(["train", *argv, "--folds", "3", "--quiet"])


def test_train_cli_saves_what_the_api_trains(data, tmp_path) -> None:
    out = tmp_path / "models" / "v2"
    assert train_cli(str(data), "-o", str(out)) == 0
    model = kanalml.load_model(out)
    assert model.labels_ == SMALL_LABELS  # found as the 0/1 columns; message_id is not one
    frame = corpus_frame()
    expected = kanalml.train(frame["text"], frame[SMALL_LABELS], folds=3)
    np.testing.assert_array_equal(model.predict_proba(PROBE), expected.predict_proba(PROBE))
    files = json.loads((out / "manifest.json").read_text())["files"]
    assert "README.md" in files
    card = (out / "README.md").read_text()
    assert "kanalml train" in card and "labelled.csv" in card and "| `promosi` |" in card
    source = model.metadata_["training"]["files"][0]
    assert source["file"] == "labelled.csv" and len(source["sha256"]) == 64


def test_train_cli_target_precision(data, tmp_path) -> None:
    out = tmp_path / "v3"
    assert train_cli(str(data), "-o", str(out), "--target-precision", "0.95") == 0
    rules = kanalml.load_model(out).metadata_["threshold_rules"]
    assert all("0.95" in rule for rule in rules.values())


def test_train_cli_progress_on_stderr(data, tmp_path, capsys) -> None:
    assert main(["train", str(data), "-o", str(tmp_path / "v"), "--folds", "3"]) == 0
    err = capsys.readouterr().err
    assert "radikalisme: CV average precision" in err
    assert "fold 3/3" not in err  # stderr is not a terminal here: no progress bar


def test_train_cli_never_overwrites_a_model(data, tmp_path, capsys) -> None:
    out = tmp_path / "v1"
    assert train_cli(str(data), "-o", str(out)) == 0
    before = (out / "manifest.json").read_bytes()
    assert train_cli(str(data), "-o", str(out)) == 1
    assert "exists and is not empty" in capsys.readouterr().err
    assert (out / "manifest.json").read_bytes() == before


def test_bad_label_names_file_line_and_column(tmp_path, capsys) -> None:
    frame = corpus_frame()
    frame["promosi"] = frame["promosi"].astype(str)
    frame.loc[4, "promosi"] = "2"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "v"
    assert train_cli(str(path), "-o", str(out), "--labels", "radikalisme,promosi") == 1
    err = capsys.readouterr().err
    assert f"{path}:6: column 'promosi': '2' is not a 0/1 label" in err
    assert "Traceback" not in err and not out.exists()


def test_no_label_columns_and_missing_label(data, tmp_path, capsys) -> None:
    path = tmp_path / "unlabelled.csv"
    corpus_frame()[["message_id", "text"]].to_csv(path, index=False)
    assert train_cli(str(path), "-o", str(tmp_path / "a")) == 1
    assert "no 0/1 label columns" in capsys.readouterr().err
    assert train_cli(str(data), "-o", str(tmp_path / "b"), "--labels", "radikalisme,sara") == 1
    assert "no label column(s) 'sara'" in capsys.readouterr().err


def test_one_class_label_is_a_data_error(data, tmp_path, capsys) -> None:
    frame = corpus_frame().assign(promosi=0)
    path = tmp_path / "one.csv"
    frame.to_csv(path, index=False)
    assert train_cli(str(path), "-o", str(tmp_path / "v"), "--labels", "radikalisme,promosi") == 1
    err = capsys.readouterr().err
    assert f"{path}: label 'promosi' has only one class" in err and "Traceback" not in err


# --- moderator feedback -----------------------------------------------------------------------

def write_decisions(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_latest_decision_wins_and_new_posts_are_added(tmp_path) -> None:
    frame = corpus_frame()
    everyday = frame.index[(frame.radikalisme == 0) & (frame.promosi == 0)][0]
    decisions = read_decisions(write_decisions(tmp_path / "d.csv", [
        {"message_id": frame.message_id[everyday], "text": "", "label": 1,
         "decided_at": "2026-11-20T10:00:00Z"},
        {"message_id": frame.message_id[everyday], "text": "", "label": 0,
         "decided_at": "2026-11-21T10:00:00Z"},  # later: wins
        {"message_id": "", "text": frame.text[3], "label": 1 - frame.radikalisme[3],
         "decided_at": "2026-11-22"},
        {"message_id": "new1", "text": "tegakkan khilafah, bubarkan rezim thaghut",
         "label": 1, "decided_at": "2026-11-22T08:00:00+07:00"},
    ]), SMALL_LABELS)
    assert len(decisions) == 3
    merged, counts = merge_decisions(frame, "text", SMALL_LABELS, decisions, "message_id")
    assert counts == {"decisions": 3, "updated": 2, "added": 1, "undecided": 0}
    assert merged.radikalisme[everyday] == 0
    assert merged.radikalisme[3] == 1 - frame.radikalisme[3]
    assert merged.promosi[3] == frame.promosi[3]  # undecided label kept
    added = merged.iloc[-1]
    assert (added.message_id, added.radikalisme) == ("new1", 1)
    assert np.isnan(added.promosi)  # a label nobody decided is unknown, not 0
    assert len(merged) == len(frame) + 1


def test_train_with_feedback_matches_training_on_the_merged_data(data, tmp_path) -> None:
    frame = corpus_frame()
    feedback = write_decisions(tmp_path / "decisions.csv", [
        {"message_id": "m3", "radikalisme": 1 - frame.radikalisme[3], "promosi": "",
         "decided_at": "2026-11-25T09:00:00Z"},
        {"message_id": "", "radikalisme": 1, "promosi": 0,
         "text": "semua penguasa thaghut wajib diperangi", "decided_at": "2026-11-25T09:05:00Z"},
    ])
    out = tmp_path / "v2"
    assert train_cli(str(data), "-o", str(out), "--feedback", str(feedback)) == 0
    model = kanalml.load_model(out)
    assert model.metadata_["feedback"]["updated"] == 1
    assert model.metadata_["feedback"]["added"] == 1
    assert model.metadata_["training_rows"] == len(frame) + 1
    frame.loc[3, "radikalisme"] = 1 - frame.radikalisme[3]
    frame.loc[len(frame)] = ["", "semua penguasa thaghut wajib diperangi", 1, 0]
    expected = kanalml.train(frame["text"], frame[SMALL_LABELS], folds=3)
    np.testing.assert_array_equal(model.predict_proba(PROBE), expected.predict_proba(PROBE))
    assert "Moderator decisions merged" in (out / "README.md").read_text()


@pytest.mark.parametrize(("row", "message"), [
    ({"message_id": "m1", "label": 1, "decided_at": "kemarin"}, "is not a date and time"),
    ({"message_id": "m1", "label": "mungkin", "decided_at": "2026-11-01"}, "is not a 0/1 label"),
    ({"message_id": "", "label": 1, "decided_at": "2026-11-01"}, "needs a message id or a text"),
])
def test_bad_decision_names_file_and_line(data, tmp_path, capsys, row, message) -> None:
    good = {"message_id": "m2", "label": 0, "decided_at": "2026-11-01"}
    feedback = write_decisions(tmp_path / "d.csv", [good, row])
    out = tmp_path / "v"
    assert train_cli(str(data), "-o", str(out), "--feedback", str(feedback)) == 1
    err = capsys.readouterr().err
    assert f"{feedback}:3:" in err and message in err and not out.exists()


def test_rows_without_a_decision_are_skipped_and_counted(tmp_path) -> None:
    path = write_decisions(tmp_path / "d.csv", [
        {"message_id": "m1", "label": "", "decided_at": ""},
        {"message_id": "m2", "label": 1, "decided_at": "2026-11-01"},
        {"message_id": "m3", "label": "", "decided_at": ""}])
    decisions = read_decisions(path, SMALL_LABELS)
    assert decisions["message_id"].tolist() == ["m2"]
    assert decisions.attrs["undecided"] == 2


def test_decision_on_an_unknown_id_without_text_is_an_error(data, tmp_path, capsys) -> None:
    feedback = write_decisions(tmp_path / "d.csv", [
        {"message_id": "zzz", "label": 1, "decided_at": "2026-11-01"}])
    assert train_cli(str(data), "-o", str(tmp_path / "v"), "--feedback", str(feedback)) == 1
    assert "'zzz' is not in the training data" in capsys.readouterr().err


def test_decisions_without_needed_columns(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("message_id,verdict\nm1,1\n")
    with pytest.raises(DataError, match=r"decided-at column.*'label' column"):
        read_decisions(path, SMALL_LABELS)


def test_read_labelled_keeps_columns_and_types(data) -> None:
    frame, text_column, labels = read_labelled(data)
    assert text_column == "text" and labels == SMALL_LABELS
    assert frame["radikalisme"].dtype == np.int8
    assert list(frame["message_id"][:2]) == ["m0", "m1"]
    assert frame["_line"].iloc[0] == 2


def test_labelled_results_are_named_tuples(data, tmp_path) -> None:
    labelled = read_labelled(data)
    frame, text_column, labels = labelled  # still a 3-tuple for older callers
    assert frame is labelled.frame and text_column == labelled.text_column == "text"
    assert labels == labelled.labels == SMALL_LABELS
    decisions_file = tmp_path / "decisions.csv"
    decisions_file.write_text("message_id,label,decided_at\nm0,0,2026-01-01T00:00:00Z\n")
    merged = merge_decisions(labelled.frame, "text", SMALL_LABELS,
                             read_decisions(decisions_file, SMALL_LABELS), "message_id")
    frame, counts = merged
    assert frame is merged.frame and counts == merged.counts and counts["updated"] == 1
    confirmed = read_confirmed(decisions_file)
    assert confirmed.kind == "decisions" and confirmed.frame.empty


# --- models list / compare ----------------------------------------------------------------------

@pytest.fixture
def two_models(data, tmp_path) -> tuple[Path, Path]:
    root = tmp_path / "models"
    assert train_cli(str(data), "-o", str(root / "v1")) == 0
    assert train_cli(str(data), "-o", str(root / "v2"), "--target-precision", "0.99") == 0
    return root / "v1", root / "v2"


def test_models_list(two_models, capsys) -> None:
    v1, _ = two_models
    assert main(["models", "list", str(v1.parent)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["model", "created", "primary"]
    assert [line.split()[0] for line in lines[1:]] == ["v1", "v2"]
    ap = kanalml.load_model(v1).metadata_["cv"]["metrics"]["radikalisme"]["average_precision"]
    assert f"{round(ap, 4)}" in lines[1] and lines[1].split()[-2:] == ["ok", str(v1)]


def test_models_list_reports_a_tampered_model(two_models, capsys) -> None:
    v1, _ = two_models
    (v1 / "vocabulary.json").write_text("[]")
    assert main(["models", "list", str(v1.parent)]) == 1
    out = capsys.readouterr().out
    assert "refused" in out and "vocabulary.json" in out


def test_models_compare(two_models, tmp_path, capsys) -> None:
    v1, v2 = two_models
    held_out = tmp_path / "held_out.csv"
    corpus_frame(seed=5).to_csv(held_out, index=False)
    assert main(["models", "compare", str(v1), str(v2), str(held_out)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[1].split()
    assert header == ["label", "metric", "v1", "v2", "v2", "-", "v1"]
    frame = corpus_frame(seed=5)
    expected = kanalml.evaluate(kanalml.load_model(v2), frame["text"], frame[SMALL_LABELS])
    precision_row = next(line for line in out.splitlines()
                         if line.split()[:2] == ["radikalisme", "precision"])
    assert float(precision_row.split()[3]) == round(expected["radikalisme"]["precision"], 4)
    rows_row = next(line for line in out.splitlines() if line.split()[:2] == ["promosi", "rows"])
    assert rows_row.split()[2:] == [str(len(frame))] * 2 + ["0"]  # a count, not 64.0000


def test_models_compare_without_shared_labels(two_models, tmp_path, capsys) -> None:
    v1, v2 = two_models
    other = tmp_path / "other.csv"
    corpus_frame().rename(columns={"radikalisme": "x", "promosi": "y"}).to_csv(other, index=False)
    assert main(["models", "compare", str(v1), str(v2), str(other)]) == 1
    assert "no label of the data is scored by either model" in capsys.readouterr().err


def test_a_dated_row_without_label_withdraws_the_earlier_decision(tmp_path) -> None:
    path = write_decisions(tmp_path / "d.csv", [
        {"message_id": "m1", "label": 1, "decided_at": "2026-11-01T10:00:00+00:00"},
        {"message_id": "m2", "label": 1, "decided_at": "2026-11-01T10:00:01+00:00"},
        {"message_id": "m1", "label": "", "decided_at": "2026-11-01T10:00:02+00:00"}])  # undo
    decisions = read_decisions(path, SMALL_LABELS)
    assert decisions["message_id"].tolist() == ["m2"]
    assert decisions.attrs["withdrawn"] == 1 and decisions.attrs["undecided"] == 0


def test_cells_guarded_against_spreadsheet_formulas_are_read_as_written(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("message_id,text,decided_at,label\n,'=HYPERLINK(\"x\"),2026-11-01,1\n"
                    ",'- bubarkan thaghut,2026-11-01,0\n", encoding="utf-8")
    decisions = read_decisions(path, SMALL_LABELS)
    assert decisions["text"].tolist() == ['=HYPERLINK("x")', "- bubarkan thaghut"]


def test_long_training_texts_are_cut_as_scoring_reads_them(tmp_path, capsys) -> None:
    from kanalml.api import MAX_TEXT_CHARS

    texts, labels = make_corpus()
    texts[3] = "thaghut " * 30_000  # 240,000 characters
    path = tmp_path / "labelled.csv"
    pd.DataFrame({"text": texts, **labels}).to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"labelled.csv:5: 1 text\(s\) longer than 100,000"):
        frame, column, _ = read_labelled(path)
    assert frame[column].str.len().max() == MAX_TEXT_CHARS
    assert main(["train", str(path), "-o", str(tmp_path / "m"), "--folds", "3", "-q"]) == 0
    err = capsys.readouterr().err
    assert "labelled.csv:5: 1 text(s) longer than 100,000 characters" in err
    assert err.count("\n") == 1


def test_train_cli_prevalence_moves_the_calibration(data, tmp_path, capsys) -> None:
    """--prevalence: the primary score is a probability at that share of extremist posts, so a
    rarer stream gives every post a lower score; a share outside (0, 1) is a usage error."""
    low, high = tmp_path / "low", tmp_path / "high"
    assert train_cli(str(data), "-o", str(low), "--prevalence", "0.001") == 0
    assert train_cli(str(data), "-o", str(high), "--prevalence", "0.2") == 0
    a, b = kanalml.load_model(low), kanalml.load_model(high)
    assert a.metadata_["prevalence"] == 0.001 and b.metadata_["prevalence"] == 0.2
    assert "at prevalence 0.001" in a.metadata_["threshold_rule"]
    texts = ["bubarkan pemerintah thaghut sekarang", "cuaca cerah hari ini"]
    assert (kanalml.score(texts, model=a)["score"] < kanalml.score(texts, model=b)["score"]).all()
    assert np.array_equal(a.coef_, b.coef_)  # the same weights: only the calibration moved
    with pytest.raises(SystemExit):
        main(["train", str(data), "-o", str(tmp_path / "x"), "--prevalence", "1"])
    assert "must be above 0 and below 1" in capsys.readouterr().err
