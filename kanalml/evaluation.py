"""Metrics of a model on labelled posts: ranking quality, flag quality and calibration.

Owns the metrics and the training-overlap warning; knows nothing of files or the command line.
Labelled data that does not fit (lengths, values) raises :class:`kanalml.DataError`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from kanalml.errors import DataError
from kanalml.model import Model, text_key
from kanalml.preprocess import as_text


def training_overlap(model: Model, texts: Iterable[Any]) -> int:
    """How many of ``texts`` the model was trained on (same tokens: case, spacing and
    punctuation aside). A model scores its own training posts far better than new ones, so
    metrics over them say little about the posts moderators will see."""
    keys = set(model.metadata_.get("training_keys", ()))
    return sum(text_key(t) in keys for t in texts) if keys else 0


def overlap_warning(overlap: int, rows: int) -> str:
    """The one sentence every evaluation output shows when it scores training posts."""
    return (f"WARNING: {overlap:,} of {rows:,} evaluated posts ({overlap / max(rows, 1):.0%}) "
            "are in the model's own training data; these metrics overstate how well it does on "
            "new posts. Evaluate on posts it was not trained on.")


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - mean probability| over equal-width bins, weighted by bin size."""
    edges = np.minimum((proba * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = edges == b
        if inside.any():
            error += inside.mean() * abs(y[inside].mean() - proba[inside].mean())
    return float(error)


def metrics(y: np.ndarray, proba: np.ndarray, threshold: float, *, k: int = 100,
            budget: float = 0.05) -> dict[str, float]:
    """The metrics of :func:`evaluate` for one label: 0/1 truths, probabilities, threshold.

    Metrics a set cannot define are NaN, not 0: ROC-AUC and average precision
    need both classes, recall and F1 a positive, precision a flagged post.
    """
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    both = 0 < y.sum() < len(y)
    flagged = proba >= threshold
    tp = int((flagged & (y == 1)).sum())
    precision = tp / flagged.sum() if flagged.any() else math.nan
    recall = tp / y.sum() if y.any() else math.nan
    order = np.argsort(-proba, kind="stable")
    top_k = order[:min(k, len(proba))]
    reviewed = order[:max(1, round(budget * len(proba)))]
    return {
        "roc_auc": float(roc_auc_score(y, proba)) if both else math.nan,
        "average_precision": float(average_precision_score(y, proba)) if both else math.nan,
        "precision": precision,
        "recall": recall,
        "f1": 2 * tp / (flagged.sum() + y.sum()) if y.any() else math.nan,
        f"precision_at_{k}": float(y[top_k].mean()) if len(y) else math.nan,
        f"recall_at_{budget:g}_budget": float(y[reviewed].sum() / y.sum()) if y.any()
        else math.nan,
        "brier": float(brier_score_loss(y, proba, pos_label=1)) if len(y) else math.nan,
        "ece": expected_calibration_error(y, proba),
        "flagged": int(flagged.sum()),
        "positives": int(y.sum()),
        "rows": len(y),
    }


def evaluate(model: Model, texts: Iterable[Any], labels: Any, *, k: int = 100,
             budget: float = 0.05, groups: Sequence[Any] | None = None
             ) -> dict[str, dict[str, Any]]:
    """Per label: ROC-AUC, average precision, precision/recall/F1 at the model's threshold,
    precision at the top ``k``, recall when reviewing the top ``budget`` share of posts,
    Brier score and expected calibration error.

    ``labels`` is a table of 0/1 columns named like the model's labels; labels the
    model does not know are ignored. Posts the model was trained on raise a
    ``UserWarning`` that says how many (see :func:`training_overlap`). With
    ``groups`` (one value per post, e.g. its source), each label's metrics also
    have ``by_group``: the same metrics per group value (ROC-AUC and average
    precision are NaN in a group with one class).
    """
    import pandas as pd

    texts = [as_text(t) for t in texts]
    table = pd.DataFrame(labels).reset_index(drop=True)
    if len(table) != len(texts):
        raise DataError(f"{len(texts)} texts but {len(table)} label rows")
    table.columns = [str(name) for name in table.columns]
    known = [name for name in model.labels_ if name in table.columns]  # primary label first
    overlap = training_overlap(model, texts)
    if overlap:
        warnings.warn(overlap_warning(overlap, len(texts)), stacklevel=2)
    group_of = None
    if groups is not None:
        cleaned = pd.Series(list(groups), dtype=object).fillna("").astype(str).str.strip()
        group_of = cleaned.replace("", "(missing)").to_numpy()
        if len(group_of) != len(texts):
            raise DataError(f"{len(texts)} texts but {len(group_of)} group values")
    proba = model.predict_proba(texts)
    report: dict[str, dict[str, Any]] = {}
    for name in known:
        y = table[name].to_numpy()
        if not np.isin(y, (0, 1)).all():
            raise DataError(f"label {name!r}: values must be 0 or 1")
        y = y.astype(np.int8)
        j = model.labels_.index(name)
        threshold = float(model.thresholds_[j])
        report[name] = metrics(y, proba[:, j], threshold, k=k, budget=budget)
        if group_of is not None:
            report[name]["by_group"] = {
                str(g): metrics(y[group_of == g], proba[group_of == g, j], threshold, k=k,
                                budget=budget)
                for g in sorted(set(group_of))}
    return report


def metrics_table(report: dict[str, dict[str, Any]]) -> Any:
    """:func:`evaluate`'s result as one DataFrame row per (label, group); group "(all)" is
    every post."""
    import pandas as pd

    rows = []
    for label, values in report.items():
        overall = {key: value for key, value in values.items() if key != "by_group"}
        rows.append({"label": label, "group": "(all)", **overall})
        for group, group_values in values.get("by_group", {}).items():
            rows.append({"label": label, "group": group, **group_values})
    return pd.DataFrame(rows)
