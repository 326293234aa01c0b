"""Metrics of a model on labelled posts: ranking quality, flag quality and calibration."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from kanalml.model import Model, _label_matrix
from kanalml.preprocess import as_text


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over equal-width bins, weighted by bin size."""
    edges = np.minimum((proba * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = edges == b
        if inside.any():
            error += inside.mean() * abs(y[inside].mean() - proba[inside].mean())
    return float(error)


def evaluate(model: Model, texts: Iterable[Any], labels: Any, *, k: int = 100,
             budget: float = 0.05) -> dict[str, dict[str, float]]:
    """Per label: ROC-AUC, average precision, precision/recall/F1 at the model's threshold,
    precision at the top ``k``, recall when reviewing the top ``budget`` share of posts,
    Brier score and expected calibration error.

    ``labels`` is a table of 0/1 columns named like the model's labels; labels the
    model does not know are ignored.
    """
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    texts = [as_text(t) for t in texts]
    names, Y = _label_matrix(labels, len(texts))
    proba = model.predict_proba(texts)
    report: dict[str, dict[str, float]] = {}
    for name in names:
        if name not in model.labels_:
            continue
        j = model.labels_.index(name)
        y, p = Y[:, names.index(name)], proba[:, j]
        flagged = p >= model.thresholds_[j]
        tp = int((flagged & (y == 1)).sum())
        precision = tp / max(int(flagged.sum()), 1)
        recall = tp / max(int(y.sum()), 1)
        order = np.argsort(-p, kind="stable")
        top_k = order[:min(k, len(p))]
        reviewed = order[:max(1, round(budget * len(p)))]
        report[name] = {
            "roc_auc": float(roc_auc_score(y, p)),
            "average_precision": float(average_precision_score(y, p)),
            "precision": precision,
            "recall": recall,
            "f1": 2 * precision * recall / max(precision + recall, 1e-12),
            f"precision_at_{k}": float(y[top_k].mean()),
            f"recall_at_{budget:g}_budget": float(y[reviewed].sum() / max(y.sum(), 1)),
            "brier": float(brier_score_loss(y, p)),
            "ece": expected_calibration_error(y, p),
            "positives": int(y.sum()),
            "rows": len(y),
        }
    return report
