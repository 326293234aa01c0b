"""The classifier: one linear model per label over shared features, Platt-calibrated.

Scoring is one linear map for all labels at once followed by a sigmoid per
label. Training fits scikit-learn ``LogisticRegression`` models on features
scaled by their naive-Bayes log-count ratio (NB-LR), then folds the scaling into
the weights. Calibration and thresholds come from out-of-fold decision values
of a stratified K-fold in which every fitted step (stem table, vocabularies, NB
ratios, classifier) is fitted on the training part of each fold only.
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
from kanalml.preprocess import as_text

PRIMARY_LABEL = "radikalisme"
THRESHOLD_BETA = 0.5


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
        """Write the model to ``directory`` (see :mod:`kanalml.artifact`); ``card``: README."""
        from kanalml.artifact import save

        return save(self, directory, card)

    def decision_function(self, texts: Sequence[Any]) -> np.ndarray:
        """Raw linear scores (log-odds before calibration), shape (n_texts, n_labels)."""
        return self.featurizer_.decision(texts, self.coef_) + self.intercept_

    def predict_proba(self, texts: Sequence[Any]) -> np.ndarray:
        """Calibrated probabilities, shape (n_texts, n_labels)."""
        return _sigmoid(self.decision_function(texts), self.calibration_)

    def explain(self, text: Any, top: int = 5) -> list[tuple[str, float]]:
        """Words of ``text``, as written, that pushed the primary score up most.

        Each feature's share of the linear score goes to the surface tokens that
        produced it (see :meth:`Featurizer.attribute`). Weights are in log-odds
        units before calibration.
        """
        share = self.featurizer_.attribute(text, self.coef_[:, 0])
        ranked = sorted(((w, round(v, 4)) for w, v in share.items()), key=lambda kv: -kv[1])
        return [(word, value) for word, value in ranked[:top] if value > 0]


def _sigmoid(decision: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    z = decision * calibration[:, 0] + calibration[:, 1]
    return 1.0 / (1.0 + np.exp(-z))


def _fit_platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000).fit(decision.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _best_threshold(proba: np.ndarray, y: np.ndarray, beta: float = THRESHOLD_BETA) -> float:
    """Probability that maximizes F-beta out of fold.

    beta 0.5 weighs precision twice as much as recall: a flag spends a moderator's
    time first, and the ranked queue still brings up what falls below it. (Best F1
    flagged 18 of the 100 hard negatives in data/; F0.5 flags 3.)
    """
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba)
    f = (1 + beta**2) * precision * recall / np.maximum(beta**2 * precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f[:-1]))])


def _precision_threshold(proba: np.ndarray, y: np.ndarray, target: float) -> tuple[float, str]:
    """Lowest probability whose out-of-fold precision reaches ``target`` (the most recall
    at that precision), and the rule as applied; the most precise threshold if none does."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba)
    reaching = np.flatnonzero(precision[:-1] >= target)
    if len(reaching):
        i = int(reaching[0])
        return float(thresholds[i]), (f"precision >= {target:g} out of fold "
                                      f"(precision {precision[i]:.3f}, recall {recall[i]:.3f})")
    i = int(np.argmax(precision[:-1]))
    return float(thresholds[i]), (f"precision {target:g} not reached out of fold; highest "
                                  f"precision {precision[i]:.3f} (recall {recall[i]:.3f})")


def _thresholds(proba: np.ndarray, Y: np.ndarray, names: list[str], beta: float,
                target_precision: float | None) -> tuple[np.ndarray, dict[str, str]]:
    if target_precision is None:
        rule = f"best F{beta:g} on out-of-fold calibrated probabilities"
        return (np.array([_best_threshold(proba[:, k], Y[:, k], beta) for k in range(len(names))]),
                dict.fromkeys(names, rule))
    chosen = [_precision_threshold(proba[:, k], Y[:, k], target_precision)
              for k in range(len(names))]
    return np.array([t for t, _ in chosen]), {n: r for n, (_, r) in zip(names, chosen)}


def _nb_ratio(X: Any, y: np.ndarray, alpha: float) -> np.ndarray:
    """Log-count ratio of feature presence between classes (Wang & Manning's NB-SVM)."""
    present = X.copy()
    present.data[:] = 1.0
    p = alpha + np.asarray(present[y == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(present[y == 0].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def _fit_linear(X: Any, Y: np.ndarray, C: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """One NB-scaled logistic regression per label; the scaling is folded into the weights."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((X.shape[1], Y.shape[1]))
    intercept = np.zeros(Y.shape[1])
    for k in range(Y.shape[1]):
        ratio = _nb_ratio(X, Y[:, k], alpha)
        clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=1000)
        clf.fit(X.multiply(ratio).tocsr(), Y[:, k])
        coef[:, k], intercept[k] = clf.coef_[0] * ratio, clf.intercept_[0]
    return coef, intercept


DEFAULTS: dict[str, Any] = {"C": 30.0, "nb_alpha": 0.5, "ngram_max": 2, "char_ngrams": (3, 6),
                            "min_df": 2, "word_weight": 0.5}
_FEATURIZER_PARAMS = ("ngram_max", "char_ngrams", "min_df", "word_weight")


def _label_matrix(labels: Any, n_texts: int) -> tuple[list[str], np.ndarray]:
    """Validate a 0/1 label table; the primary label goes first."""
    import pandas as pd

    table = pd.DataFrame(labels).reset_index(drop=True)
    if len(table) != n_texts:
        raise ValueError(f"{n_texts} texts but {len(table)} label rows")
    names = [str(n) for n in table.columns]
    table.columns = names
    if PRIMARY_LABEL in names:
        names.remove(PRIMARY_LABEL)
        names.insert(0, PRIMARY_LABEL)
    Y = table[names].to_numpy()
    if not np.isin(Y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    for k, name in enumerate(names):
        if Y[:, k].min() == Y[:, k].max():
            raise ValueError(f"label {name!r} has only one class")
    return names, Y.astype(np.int8)


def _options(options: dict[str, Any]) -> dict[str, Any]:
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown training options: {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **options}


def _fit(texts: list[str], Y: np.ndarray, opts: dict[str, Any]
         ) -> tuple[Featurizer, np.ndarray, np.ndarray]:
    feat = Featurizer(**{k: opts[k] for k in _FEATURIZER_PARAMS}).fit(texts)
    coef, intercept = _fit_linear(feat.transform(texts), Y, opts["C"], opts["nb_alpha"])
    return feat, coef, intercept


def cross_val_decision(texts: Iterable[Any], labels: Any, *, folds: int = 5,
                       random_state: int = 0,
                       views: dict[str, Callable[[str], str]] | None = None,
                       progress: Callable[[str], None] | None = None, **options: Any
                       ) -> tuple[list[str], np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Out-of-fold decision values of a stratified K-fold (on the primary label).

    Every fitted step is fitted on each fold's training part only. ``views``
    maps a name to a function applied to each test post before scoring (for
    example an obfuscation), giving out-of-fold decisions on altered test posts;
    the view ``"clean"`` is always included. Returns (label names, label
    matrix, {view: decisions}, fold number of each row).
    """
    from sklearn.model_selection import StratifiedKFold

    texts = [as_text(t) for t in texts]
    names, Y = _label_matrix(labels, len(texts))
    opts = _options(options)
    views = {"clean": lambda text: text, **(views or {})}
    oof = {name: np.zeros(Y.shape) for name in views}
    fold_of = np.zeros(len(texts), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for fold, (tr, te) in enumerate(splitter.split(texts, Y[:, 0]), start=1):
        if progress:
            progress(f"fold {fold}/{folds}")
        feat, coef, intercept = _fit([texts[i] for i in tr], Y[tr], opts)
        for name, view in views.items():
            oof[name][te] = feat.decision([view(texts[i]) for i in te], coef) + intercept
        fold_of[te] = fold
    return names, Y, oof, fold_of


def train(texts: Iterable[Any], labels: Any, *, folds: int = 5, random_state: int = 0,
          target_precision: float | None = None, beta: float = THRESHOLD_BETA,
          progress: Callable[[str], None] | None = None, **options: Any) -> Model:
    """Fit a model on ``texts`` and a 0/1 ``labels`` table (one column per label).

    ``labels`` is a pandas DataFrame (or a mapping of name -> sequence); its
    first column is the primary label unless it has a ``radikalisme`` column.
    Cross-validation (``folds`` stratified folds on the primary label) gives the
    reported metrics, the calibration and the per-label thresholds: best
    F-``beta`` on out-of-fold probabilities (0.5 by default; 1 for best F1) or,
    with ``target_precision``, the lowest threshold whose out-of-fold precision
    reaches it. The final model is then fitted on all rows.
    Options (defaults in ``DEFAULTS``): ``C`` (inverse regularization),
    ``nb_alpha`` (smoothing of the NB feature scaling) and the
    :class:`~kanalml.features.Featurizer` parameters ``ngram_max``,
    ``char_ngrams``, ``min_df`` and ``word_weight``.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    if target_precision is not None and not 0.0 < target_precision <= 1.0:
        raise ValueError(f"target_precision must be in (0, 1], got {target_precision}")
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    texts = [as_text(t) for t in texts]
    opts = _options(options)
    started = time.perf_counter()
    names, Y, oof_views, fold_of = cross_val_decision(
        texts, labels, folds=folds, random_state=random_state, progress=progress, **opts)
    oof = oof_views["clean"]
    calibration = np.array([_fit_platt(oof[:, k], Y[:, k]) for k in range(len(names))])
    proba = _sigmoid(oof, calibration)
    thresholds, rules = _thresholds(proba, Y, names, beta, target_precision)
    metrics = {}
    for k, name in enumerate(names):
        fold_ap = [average_precision_score(Y[fold_of == f, k], oof[fold_of == f, k])
                   for f in range(1, folds + 1)]
        flagged = proba[:, k] >= thresholds[k]
        tp = int((flagged & (Y[:, k] == 1)).sum())
        metrics[name] = {
            "average_precision": round(float(np.mean(fold_ap)), 4),
            "average_precision_folds": [round(float(ap), 4) for ap in fold_ap],
            "average_precision_pooled": round(float(average_precision_score(Y[:, k], oof[:, k])),
                                              4),
            "roc_auc": round(float(roc_auc_score(Y[:, k], oof[:, k])), 4),
            "precision": round(tp / max(int(flagged.sum()), 1), 4),
            "recall": round(tp / max(int(Y[:, k].sum()), 1), 4),
            "positives": int(Y[:, k].sum()),
        }

    if progress:
        progress("final fit on all rows")
    feat, coef, intercept = _fit(texts, Y, opts)
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
        "params": {**opts, "class_weight": "balanced", "solver": "liblinear"},
        "threshold_rule": rules[names[0]],
        "threshold_rules": rules,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    return Model(names, feat, coef, intercept, calibration, thresholds, metadata)
