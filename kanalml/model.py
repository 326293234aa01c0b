"""The classifier: one linear model per label over shared features, Platt-calibrated.

Scoring is one sparse-dense product for all labels at once followed by a
sigmoid per label. Training fits scikit-learn ``LogisticRegression`` models;
their calibration and thresholds come from out-of-fold decision values of a
stratified K-fold in which every fitted step (stem table, vocabulary, IDF,
classifier) is fitted on the training part of each fold only.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kanalml.features import Featurizer
from kanalml.preprocess import tokenize

PRIMARY_LABEL = "radikalisme"


class Model:
    """A fitted kanalml model: features, weights, calibration, thresholds, metadata.

    Fitted attributes: ``labels_``, ``featurizer_``, ``coef_`` (features x labels),
    ``intercept_``, ``calibration_`` (labels x 2: slope and offset of the sigmoid on
    the decision value), ``thresholds_`` and ``metadata_``. ``labels_[0]`` is the
    primary label, whose probability is the ``score``.
    """

    def __init__(self, labels: Sequence[str], featurizer: Featurizer, coef: np.ndarray,
                 intercept: np.ndarray, calibration: np.ndarray, thresholds: np.ndarray,
                 metadata: dict[str, Any]) -> None:
        self.labels_ = list(labels)
        self.featurizer_ = featurizer
        self.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.calibration_ = np.asarray(calibration, dtype=np.float64)
        self.thresholds_ = np.asarray(thresholds, dtype=np.float64)
        self.metadata_ = metadata

    @property
    def primary(self) -> str:
        return self.labels_[0]

    @property
    def threshold(self) -> float:
        """Decision threshold on ``score`` (the primary label's probability)."""
        return float(self.thresholds_[0])

    def save(self, directory: str | os.PathLike[str], card: str | None = None) -> Path:
        """Write the model to ``directory`` (see :mod:`kanalml.artifact`); ``card`` is its README."""
        from kanalml.artifact import save

        return save(self, directory, card)

    def decision_function(self, texts: Sequence[Any]) -> np.ndarray:
        """Raw linear scores, shape (n_texts, n_labels)."""
        return self.featurizer_.transform(texts) @ self.coef_ + self.intercept_

    def predict_proba(self, texts: Sequence[Any]) -> np.ndarray:
        """Calibrated probabilities, shape (n_texts, n_labels)."""
        return _sigmoid(self.decision_function(texts), self.calibration_)

    def explain(self, text: Any, top: int = 5) -> list[tuple[str, float]]:
        """Words of ``text``, as written, that pushed the primary score up most.

        Each feature's share of the linear score (TF-IDF value x weight) goes to
        the surface token that produced it; a bigram's share is split between its
        two tokens. Weights are in log-odds units before calibration.
        """
        feat = self.featurizer_
        row = feat.transform([text])
        value = dict(zip(row.indices.tolist(), row.data.tolist()))
        weight = self.coef_[:, 0]
        surface = tokenize(text)
        seq: list[tuple[str, int]] = []  # (stem, index of its surface token)
        for i, token in enumerate(surface):
            seq += [(s, i) for s in feat.preprocessor_.stems(token)]
        occurrences: dict[int, list[tuple[int, ...]]] = {}
        for stem, i in seq:
            j = feat.vocabulary_.get(stem)
            if j is not None:
                occurrences.setdefault(j, []).append((i,))
        if feat.ngram_max >= 2:
            for (a, i), (b, k) in zip(seq, seq[1:]):
                j = feat.vocabulary_.get(f"{a} {b}")
                if j is not None:
                    occurrences.setdefault(j, []).append((i, k))
        share: dict[str, float] = {}
        for j, places in occurrences.items():
            contribution = value[j] * weight[j] / sum(len(p) for p in places)
            for place in places:
                for i in place:
                    share[surface[i]] = share.get(surface[i], 0.0) + contribution
        ranked = sorted(share.items(), key=lambda kv: -kv[1])
        return [(word, round(float(w), 4)) for word, w in ranked[:top] if w > 0]


def _sigmoid(decision: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    z = decision * calibration[:, 0] + calibration[:, 1]
    return 1.0 / (1.0 + np.exp(-z))


def _fit_platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000).fit(decision.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _best_f1_threshold(proba: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def _fit_linear(X: Any, Y: np.ndarray, C: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((X.shape[1], Y.shape[1]))
    intercept = np.zeros(Y.shape[1])
    for k in range(Y.shape[1]):
        clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=1000)
        clf.fit(X, Y[:, k])
        coef[:, k], intercept[k] = clf.coef_[0], clf.intercept_[0]
    return coef, intercept


def train(texts: Iterable[Any], labels: Any, *, C: float = 10.0, ngram_max: int = 2,
          min_df: int = 2, folds: int = 5, random_state: int = 0,
          progress: Callable[[str], None] | None = None) -> Model:
    """Fit a model on ``texts`` and a 0/1 ``labels`` table (one column per label).

    ``labels`` is a pandas DataFrame (or a mapping of name -> sequence); its
    first column is the primary label unless it has a ``radikalisme`` column.
    Cross-validation (``folds`` stratified folds on the primary label) gives the
    reported metrics, the calibration and the per-label thresholds (best F1 on
    out-of-fold probabilities); the final model is then fitted on all rows.
    """
    import pandas as pd
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    texts = [t if isinstance(t, str) else ("" if t is None else str(t)) for t in texts]
    table = pd.DataFrame(labels).reset_index(drop=True)
    if len(table) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(table)} label rows")
    names = list(table.columns)
    if PRIMARY_LABEL in names:
        names.remove(PRIMARY_LABEL)
        names.insert(0, PRIMARY_LABEL)
    Y = table[names].to_numpy()
    if not np.isin(Y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    for k, name in enumerate(names):
        if Y[:, k].min() == Y[:, k].max():
            raise ValueError(f"label {name!r} has only one class")
    Y = Y.astype(np.int8)
    say = progress or (lambda message: None)
    params = {"ngram_max": ngram_max, "min_df": min_df}

    oof = np.zeros(Y.shape, dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    started = time.perf_counter()
    for fold, (tr, te) in enumerate(splitter.split(texts, Y[:, 0]), start=1):
        say(f"fold {fold}/{folds}")
        feat = Featurizer(**params).fit([texts[i] for i in tr])
        coef, intercept = _fit_linear(feat.transform([texts[i] for i in tr]), Y[tr], C)
        oof[te] = feat.transform([texts[i] for i in te]) @ coef + intercept

    calibration = np.array([_fit_platt(oof[:, k], Y[:, k]) for k in range(len(names))])
    proba = _sigmoid(oof, calibration)
    thresholds = np.array([_best_f1_threshold(proba[:, k], Y[:, k]) for k in range(len(names))])
    metrics = {}
    for k, name in enumerate(names):
        flagged = proba[:, k] >= thresholds[k]
        tp = int((flagged & (Y[:, k] == 1)).sum())
        metrics[name] = {
            "average_precision": round(float(average_precision_score(Y[:, k], oof[:, k])), 4),
            "roc_auc": round(float(roc_auc_score(Y[:, k], oof[:, k])), 4),
            "precision": round(tp / max(int(flagged.sum()), 1), 4),
            "recall": round(tp / max(int(Y[:, k].sum()), 1), 4),
            "positives": int(Y[:, k].sum()),
        }

    say("final fit on all rows")
    feat = Featurizer(**params).fit(texts)
    coef, intercept = _fit_linear(feat.transform(texts), Y, C)
    digest = hashlib.sha256()
    for text, row in zip(texts, Y):
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00" + bytes(row.tolist()) + b"\n")
    metadata = {
        "labels": names,
        "primary_label": names[0],
        "thresholds": {n: round(float(t), 6) for n, t in zip(names, thresholds)},
        "training_rows": len(texts),
        "training_sha256": digest.hexdigest(),
        "cv": {"folds": folds, "random_state": random_state, "metrics": metrics},
        "params": {"C": C, "class_weight": "balanced", "solver": "liblinear", **params},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return Model(names, feat, coef, intercept, calibration, thresholds, metadata)
