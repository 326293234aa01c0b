"""kanalml.evaluate on held-out data the tests write."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_corpus

import kanalml
from kanalml.evaluation import expected_calibration_error


@pytest.fixture(scope="module")
def held_out() -> tuple[list[str], pd.DataFrame]:
    texts, labels = make_corpus(seed=7)
    return texts, pd.DataFrame(labels)


def test_metrics_on_held_out_posts(small_model, held_out) -> None:
    texts, labels = held_out
    report = kanalml.evaluate(small_model, texts, labels, k=10, budget=0.25)
    assert set(report) == {"radikalisme", "promosi"}
    for name, metrics in report.items():
        y = labels[name].to_numpy()
        assert metrics["positives"] == int(y.sum()) and metrics["rows"] == len(texts)
        for key in ("roc_auc", "average_precision", "precision", "recall", "f1",
                    "precision_at_10", "recall_at_0.25_budget", "brier", "ece"):
            assert 0.0 <= metrics[key] <= 1.0, (name, key)
        # a learnable synthetic signal: far better than chance
        assert metrics["roc_auc"] > 0.8 and metrics["average_precision"] > y.mean()
    proba = small_model.predict_proba(texts)[:, 0]
    y = labels["radikalisme"].to_numpy()
    assert report["radikalisme"]["brier"] == pytest.approx(np.mean((proba - y) ** 2))


def test_expected_calibration_error() -> None:
    y = np.array([0, 0, 0, 1] * 25)
    assert expected_calibration_error(y, np.full(100, 0.25)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.75)) == pytest.approx(0.5)
    perfect = np.array([0.0] * 75 + [1.0] * 25)
    assert expected_calibration_error(np.array([0] * 75 + [1] * 25), perfect) == 0.0


def test_unknown_labels_are_ignored(small_model, held_out) -> None:
    texts, labels = held_out
    extra = labels.assign(lain=[i % 2 for i in range(len(texts))])
    assert set(kanalml.evaluate(small_model, texts, extra)) == {"radikalisme", "promosi"}


def test_metrics_match_scikit_learn(small_model, held_out) -> None:
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    texts, labels = held_out
    report = kanalml.evaluate(small_model, texts, labels)
    for j, name in enumerate(small_model.labels_):
        y, p = labels[name].to_numpy(), small_model.predict_proba(texts)[:, j]
        flagged = (p >= small_model.thresholds_[j]).astype(int)
        m = report[name]
        assert m["roc_auc"] == pytest.approx(roc_auc_score(y, p))
        assert m["average_precision"] == pytest.approx(average_precision_score(y, p))
        assert m["precision"] == pytest.approx(precision_score(y, flagged, zero_division=0))
        assert m["recall"] == pytest.approx(recall_score(y, flagged))
        assert m["f1"] == pytest.approx(f1_score(y, flagged))
        assert m["brier"] == pytest.approx(brier_score_loss(y, p))
        assert m["flagged"] == flagged.sum()
        top = np.argsort(-p, kind="stable")[:100]
        assert m["precision_at_100"] == pytest.approx(y[top].mean())


def test_breakdown_by_group(small_model, held_out) -> None:
    texts, labels = held_out
    # group "a": every post with an even index; "b": the rest; "neg": three negatives only
    negatives = [i for i in range(len(texts)) if labels["radikalisme"][i] == 0][:3]
    groups = ["neg" if i in negatives else "a" if i % 2 == 0 else "b" for i in range(len(texts))]
    report = kanalml.evaluate(small_model, texts, labels, groups=groups)
    by_group = report["radikalisme"]["by_group"]
    assert set(by_group) == {"a", "b", "neg"}
    for group, metrics in by_group.items():
        rows = [i for i, g in enumerate(groups) if g == group]
        expected = kanalml.evaluate(small_model, [texts[i] for i in rows],
                                    labels.iloc[rows])["radikalisme"]
        assert metrics == pytest.approx(expected, nan_ok=True)
    assert np.isnan(by_group["neg"]["roc_auc"]) and np.isnan(by_group["neg"]["average_precision"])
    assert by_group["neg"]["rows"] == 3 and by_group["neg"]["positives"] == 0
    assert sum(m["rows"] for m in by_group.values()) == len(texts)


def test_group_length_must_match(small_model, held_out) -> None:
    texts, labels = held_out
    with pytest.raises(kanalml.DataError, match="group values"):
        kanalml.evaluate(small_model, texts, labels, groups=["a"])
