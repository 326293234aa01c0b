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
