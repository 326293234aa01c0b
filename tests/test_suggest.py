"""``kanalml suggest``: uncertain, diverse posts for moderators to label, duplicates collapsed,
and the round trip of the filled-in file through ``kanalml train --feedback``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import EVERYDAY, NEGATIVE_LIKE, POSITIVE_LIKE, RADICAL, make_corpus

import kanalml
from kanalml.cli import main
from kanalml.suggest import Suggester, select, uncertainty

FORWARDED = "rezim thaghut harus bubar tapi kita tetap jaga persatuan warga kampung"


def export(rows: int = 120) -> pd.DataFrame:
    """Posts of every kind, with one message forwarded 6 times with small edits."""
    rng = np.random.default_rng(0)
    pools = [RADICAL, EVERYDAY, POSITIVE_LIKE, NEGATIVE_LIKE]
    texts = []
    for i in range(rows):
        pool = pools[i % len(pools)]
        a, b = rng.choice(len(pool), 2, replace=False)
        texts.append(f"{pool[a]} {pool[b]} {i}")
    for k in range(6):
        texts.insert(10 * k + 3, ("Fwd: " * (k % 2)) + FORWARDED + (" !!" if k % 3 else ""))
    return pd.DataFrame({"message_id": [f"p{i}" for i in range(len(texts))],
                         "channel": "kanal_umum", "text": texts})


def test_uncertainty_peaks_at_the_threshold() -> None:
    u = uncertainty(np.array([0.0, 0.3, 0.6, 1.0]), 0.6)
    np.testing.assert_allclose(u, [0.0, 0.5, 1.0, 1 - 0.4 / 0.6])


def test_select_trades_uncertainty_for_diversity() -> None:
    # five copies of one direction, slightly more uncertain than one other direction
    features = sp.csr_matrix(np.array([[1.0, 0.0]] * 5 + [[0.0, 1.0]]))
    gain = np.array([0.99, 0.98, 0.97, 0.96, 0.95, 0.9])
    assert select(gain, features, 2) == [0, 5]
    assert select(gain, features, 2, weight=1.0) == [0, 1]  # uncertainty only
    assert sorted(select(gain, features, 10)) == list(range(6))


def test_suggestions_are_uncertain_distinct_and_counted(small_model) -> None:
    frame = export()
    suggester = Suggester(small_model, 8)
    for start in range(0, len(frame), 25):  # several chunks: duplicates span them
        suggester.add(frame.iloc[start:start + 25], "text")
    picked = suggester.suggestions()
    assert len(picked) == 8 and picked["suggest_rank"].tolist() == list(range(1, 9))
    forwarded = picked["text"].str.contains("persatuan warga kampung")
    assert forwarded.sum() <= 1
    if forwarded.any():
        assert picked.loc[forwarded, "copies"].item() == 6
    proba = small_model.predict_proba(frame["text"].tolist())[:, 0]
    distance = np.abs(proba - small_model.threshold)
    chosen = frame["message_id"].isin(picked["message_id"]).to_numpy()
    assert distance[chosen].mean() < distance[~chosen].mean()
    assert (picked["label"] == "").all() and (picked["decided_at"] == "").all()
    np.testing.assert_allclose(picked["score"], proba[chosen][np.argsort(
        [picked["message_id"].tolist().index(m) for m in frame["message_id"][chosen]])])


def test_forwarded_copies_collapse_even_when_n_covers_everything(small_model) -> None:
    frame = export(rows=20)
    suggester = Suggester(small_model, 1000)
    suggester.add(frame, "text")
    picked = suggester.suggestions()
    assert picked["text"].str.contains("persatuan warga kampung").sum() == 1
    assert len(picked) <= len(frame) - 5  # other near-duplicates may collapse too
    assert picked["copies"].sum() == len(frame)  # every row is counted once


def test_suggest_then_train_with_the_filled_in_file(small_model_dir, tmp_path) -> None:
    data = tmp_path / "export.csv"
    export().to_csv(data, index=False)
    suggestions = tmp_path / "to_label.csv"
    assert main(["suggest", str(data), "-n", "6", "-o", str(suggestions),
                 "--model", str(small_model_dir), "-q"]) == 0
    filled = pd.read_csv(suggestions, dtype=str, keep_default_na=False)
    assert len(filled) == 6
    # a moderator labels the first four and leaves the rest for later
    filled.loc[:3, "label"] = ["1", "0", "1", "0"]
    filled.loc[:3, "decided_at"] = "2026-11-28T10:00:00Z"
    filled.to_csv(suggestions, index=False)

    texts, labels = make_corpus()
    training = tmp_path / "train.csv"
    pd.DataFrame({"text": texts, **labels}).to_csv(training, index=False)
    out = tmp_path / "v2"
    assert main(["train", str(training), "-o", str(out), "--folds", "3", "-q",
                 "--feedback", str(suggestions)]) == 0
    feedback = kanalml.load_model(out).metadata_["feedback"]
    assert (feedback["decisions"], feedback["added"], feedback["undecided"]) == (4, 4, 2)


def test_suggest_cli_reports_bad_input(tmp_path, capsys) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("message_id,text\np1,\"unterminated\n")
    assert main(["suggest", str(path), "-n", "3", "-q", "--on-bad-lines", "error"]) == 1
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err


@pytest.mark.parametrize("n", [0, -1])
def test_n_must_be_positive(small_model, n) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Suggester(small_model, n)


def test_a_formula_like_post_suggested_and_decided_matches_its_training_row(small_model_dir,
                                                                            tmp_path) -> None:
    from kanalml.labelled import merge_decisions, read_decisions, read_labelled

    post = "-- tegakkan khilafah, bubarkan rezim thaghut sekarang"
    data = tmp_path / "train.csv"
    pd.DataFrame({"text": [post, "cuaca cerah", "=1+1 promo"], "radikalisme": [0, 0, 1],
                  "promosi": [0, 1, 0]}).to_csv(data, index=False)
    suggestions = tmp_path / "to_label.csv"
    assert main(["suggest", str(data), "-n", "3", "-o", str(suggestions),
                 "--model", str(small_model_dir), "-q"]) == 0
    assert '"\'-- tegakkan' in suggestions.read_text(encoding="utf-8")  # inert in a spreadsheet
    filled = pd.read_csv(suggestions, dtype=str, keep_default_na=False)
    filled = filled.drop(columns=["radikalisme", "promosi"])  # the moderator's own label wins
    filled["label"], filled["decided_at"] = "1", "2026-11-28T10:00:00Z"
    filled.to_csv(suggestions, index=False)
    frame, column, labels = read_labelled([data])
    merged, counts = merge_decisions(frame, column, labels, read_decisions(suggestions, labels))
    assert counts["updated"] == 3 and counts["added"] == 0  # matched by their original text
    assert merged["radikalisme"].tolist() == [1, 1, 1]
