"""The classifier: one linear model per label over shared features, Platt-calibrated,
and a category model over the primary label's categories.

Scoring is one linear map for all labels (and categories) at once followed by a
sigmoid per label. Training fits scikit-learn ``LogisticRegression`` models on features
scaled by their naive-Bayes log-count ratio (NB-LR), then folds the scaling into
the weights. Calibration and thresholds come from out-of-fold decision values
of a stratified K-fold in which every fitted step (stem table, vocabularies, NB
ratios, classifier) is fitted on the training part of each fold only.

Labels may be unknown for some rows (empty or NaN): rows from a corpus that was
labelled for extremist content only say nothing about Netifier's other labels.
Each label's classifier, calibration, threshold and metrics use the rows that
know it; the features are fitted on all rows.

A model is saved as a bundle of :mod:`kanalml.artifact` (:data:`LAYOUT`): this module says
what goes into it and checks every value it reads back; the bundle format checks the files.
"""

from __future__ import annotations

import datetime as _dt
import gc
import hashlib
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from kanalml import artifact
from kanalml.errors import DataError, ModelError
from kanalml.features import Featurizer
from kanalml.preprocess import PLACEHOLDERS, Preprocessor, as_text, tokenize

PRIMARY_LABELS = ("ekstremisme", "radikalisme")
"""The first of these that a label table has is its primary label (else its first column)."""
THRESHOLD_BETA = 0.5
PREVALENCE = 0.001
"""The share of extremist posts in the public channels a team watches that the default
calibration assumes (1 in 1,000; why, in the README and the model card): a score is the
probability that a post is extremist in such a stream, not in the half-extremist training mix."""

# A saved model: the bundle's files (see Model.save). Format 2 (kanalml 0.x since issue 22)
# is read in place: its weights and the featurizer's look-up tables are uncompressed, aligned
# arrays, so a load inflates, parses and builds almost nothing. Format 1 (deflated weights, the
# tables built from the vocabularies at load) still loads, to the same scores.
FORMAT = "kanalml-model"
FORMAT_VERSION = 2
ARRAYS = "weights.npz"
TABLES = "tables.npz"  # the featurizer's look-up tables (format 2)
TABLE_STRINGS = "tables.json"  # their strings and counts (format 2)
VOCABULARY = "vocabulary.json"
CHAR_VOCABULARY = "char_vocabulary.json"
STEMS = "stems.json"
METADATA = "metadata.json"
CARD = "README.md"
TRAINING_KEYS = "training_keys.json"  # token hashes of the training posts (text_key)
# Limits checked before a file is parsed, far above any model trained here (the shipped one:
# 453k features, 23k training keys, 6 KB of metadata), so a crafted file costs little to refuse.
MAX_FEATURES = 4_000_000
MAX_BYTES_PER_FEATURE = 256  # vocabulary bytes per feature, JSON quoting included
MAX_TRAINING_KEYS = 2_000_000
MAX_METADATA_BYTES = 4 << 20
LAYOUT_V1 = artifact.Layout(FORMAT, 1,
                            required=(ARRAYS, VOCABULARY, CHAR_VOCABULARY, STEMS, METADATA),
                            optional=(CARD, TRAINING_KEYS), noun="kanalml model")
LAYOUT = artifact.Layout(FORMAT, FORMAT_VERSION,
                         required=(ARRAYS, TABLES, TABLE_STRINGS, VOCABULARY, CHAR_VOCABULARY,
                                   STEMS, METADATA),
                         optional=(CARD, TRAINING_KEYS), noun="kanalml model")


class Prediction(NamedTuple):
    """Calibrated probabilities (n_texts x n_labels) and, for a model with categories, the
    most likely category of each text (else None)."""

    proba: np.ndarray
    category: np.ndarray | None


class Model:
    """A fitted kanalml model: features, weights, calibration, thresholds, metadata.

    Fitted attributes: ``labels_``, ``featurizer_``, ``coef_`` (features x labels),
    ``intercept_``, ``calibration_`` (labels x 2: slope and offset of the sigmoid on
    the decision value), ``thresholds_`` and ``metadata_``. ``labels_[0]`` is the
    primary label, whose probability is the ``score``. A model trained with
    categories also has ``categories_``, ``category_coef_`` (features x categories)
    and ``category_intercept_``: a multinomial model of which category an extremist
    post belongs to (see docs/annotation-guide.md).
    """

    def __init__(self, labels: Sequence[str], featurizer: Featurizer, coef: np.ndarray,
                 intercept: np.ndarray, calibration: np.ndarray, thresholds: np.ndarray,
                 metadata: dict[str, Any], categories: Sequence[str] = (),
                 category_coef: np.ndarray | None = None,
                 category_intercept: np.ndarray | None = None) -> None:
        self.labels_ = list(labels)
        self.featurizer_ = featurizer
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.calibration_ = np.asarray(calibration, dtype=np.float64)
        self.thresholds_ = np.asarray(thresholds, dtype=np.float64)
        self.metadata_ = metadata
        self.categories_ = list(categories)
        n_cat = len(self.categories_)
        coef = np.asarray(coef, dtype=np.float64)
        if category_coef is None:
            category_coef = np.zeros((coef.shape[0], n_cat))
        self.category_intercept_ = np.zeros(n_cat) if category_intercept is None \
            else np.asarray(category_intercept, dtype=np.float64)
        self._set_weights(np.hstack((coef, np.asarray(category_coef, dtype=np.float64))))

    def _set_weights(self, weights: np.ndarray) -> None:
        """Labels and categories in one product (the features are the cost, not the columns),
        held once: coef_ and category_coef_ are views of it."""
        self._weights = weights
        self.coef_ = weights[:, :len(self.labels_)]
        self.category_coef_ = weights[:, len(self.labels_):]

    def __repr__(self) -> str:
        cats = f", categories={self.categories_}" if self.categories_ else ""
        return (f"Model(labels={self.labels_}{cats}, threshold={self.threshold:.4g}, "
                f"features={self.coef_.shape[0]})")

    @property
    def primary(self) -> str:
        return self.labels_[0]

    @property
    def threshold(self) -> float:
        """Decision threshold on ``score`` (the primary label's probability)."""
        return float(self.thresholds_[0])

    def save(self, directory: str | os.PathLike[str], card: str | None = None) -> Path:
        """Write the model to ``directory`` (new or empty, else DataError) as a verified bundle
        (:data:`LAYOUT`); ``card``: its README. Returns the directory."""
        from kanalml.provenance import package_versions

        feat = self.featurizer_
        weights = {"weights": self._weights, "intercept": self.intercept_,
                   "calibration": self.calibration_, "thresholds": self.thresholds_}
        if self.categories_:
            weights["category_intercept"] = self.category_intercept_
        tables, strings = feat.scoring_tables()
        versions = package_versions()
        metadata = {
            **{k: v for k, v in self.metadata_.items() if k != "training_keys"},
            "labels": self.labels_,
            "categories": self.categories_,
            "featurizer": feat.get_params(),
            "kanalml_version": versions["kanalml"],
            "sklearn_version": versions["scikit-learn"],
            "numpy_version": versions["numpy"],
        }
        table = feat.preprocessor_.stem_table_
        if any(not stem or " " in stem for stems, _ in table.values() for stem in stems):
            raise ValueError("a stem is empty or holds a space: stems.json joins them by spaces")
        documents = {
            VOCABULARY: sorted(feat.vocabulary_, key=feat.vocabulary_.__getitem__),
            CHAR_VOCABULARY: sorted(feat.char_vocabulary_, key=feat.char_vocabulary_.__getitem__),
            # Three flat lists parse in half the time of one list per token (measured).
            STEMS: {"tokens": list(table), "forms": [form for _, form in table.values()],
                    "stems": [" ".join(stems) for stems, _ in table.values()]},
            TABLE_STRINGS: strings,
            METADATA: metadata,
        }
        if "training_keys" in self.metadata_:
            documents[TRAINING_KEYS] = self.metadata_["training_keys"]
        return artifact.write(directory, LAYOUT, documents=documents,
                              tables={ARRAYS: weights, TABLES: tables},
                              texts={} if card is None else {CARD: card})

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Model:
        """Read a model saved by :meth:`save` (format 2) or by an earlier kanalml (format 1):
        the bundle verified first, then every value checked (labels, featurizer parameters,
        array shapes, table indices) before the model is built."""
        bundle = artifact.read(directory, LAYOUT_V1, LAYOUT)
        meta_path = bundle.root / METADATA
        metadata = bundle.object(METADATA, MAX_METADATA_BYTES)
        categories = artifact.expect_strings(metadata.get("categories", []), meta_path)
        labels = artifact.expect_strings(metadata.get("labels"), meta_path)
        for kind, values in (("labels", labels), ("categories", categories)):
            if len(set(values)) != len(values) or not all(values):
                raise ModelError(f"{meta_path}: {kind} must be distinct, non-empty names")
        if not labels:
            raise ModelError(f"{meta_path}: the model has no labels")
        _check_featurizer(metadata.get("featurizer"), meta_path)
        # Models saved before content_only and min_words were trained without them.
        params = {"content_only": False, "min_words": 0, **metadata["featurizer"]}
        read = _load_v2 if bundle.version == 2 else _load_v1
        # The cyclic GC is off while the stem table's ~110k tuples are made: its passes over
        # them took ~50 ms of a 0.27 s load (measured); nothing made here is a cycle.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return read(cls, bundle, labels, categories, metadata, params)
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ModelError(f"{bundle.root}: inconsistent model files "
                             f"({type(exc).__name__}: {exc})") from None
        finally:
            if collecting:
                gc.enable()

    def decision_function(self, texts: Sequence[Any]) -> np.ndarray:
        """Raw linear scores (log-odds before calibration), shape (n_texts, n_labels)."""
        # Always the one weights matrix: the featurizer caches per-form scores for it.
        return self.featurizer_.decision(texts, self._weights)[:, :len(self.labels_)] \
            + self.intercept_

    def warm_up(self) -> Model:
        """Pay the first score's one-time costs now (tables, lexicon, caches); returns self."""
        self.featurizer_.warm_up(self._weights)
        return self

    def predict_proba(self, texts: Sequence[Any]) -> np.ndarray:
        """Calibrated probabilities, shape (n_texts, n_labels)."""
        return _sigmoid(self.decision_function(texts), self.calibration_)

    def predict(self, texts: Sequence[Any]) -> Prediction:
        """Probabilities and most likely categories, from one pass over the features."""
        decision = self.featurizer_.decision(texts, self._weights)
        if not self.categories_:
            return Prediction(_sigmoid(decision + self.intercept_, self.calibration_), None)
        n = len(self.labels_)
        proba = _sigmoid(decision[:, :n] + self.intercept_, self.calibration_)
        best = np.argmax(decision[:, n:] + self.category_intercept_, axis=1)
        return Prediction(proba, np.asarray(self.categories_, dtype=object)[best])

    def predict_one(self, text: str) -> tuple[list[float], str | None]:
        """:meth:`predict` of one text as Python values: its probabilities, one per label,
        and its most likely category (None without categories). The same arithmetic on one
        row, without the batch's column slicing and object array: ~15 us of a 0.3 ms call
        (measured, warm single-post scoring)."""
        decision = self.featurizer_.decision([text], self._weights)
        n = len(self.labels_)
        if not self.categories_:
            return _sigmoid(decision + self.intercept_, self.calibration_)[0].tolist(), None
        proba = _sigmoid(decision[:, :n] + self.intercept_, self.calibration_)[0].tolist()
        best = int(np.argmax(decision[0, n:] + self.category_intercept_))
        return proba, self.categories_[best]

    def explain(self, text: Any, top: int = 5) -> list[tuple[str, float]]:
        """Content words of ``text``, as written, that pushed the primary score up most.

        Each feature's share of the linear score goes to the surface tokens that
        produced it (see :meth:`Featurizer.attribute`). Weights are in log-odds
        units before calibration. Only content words are named: a stopword
        (``di``, ``ada``), a number or a placeholder carries part of a character
        n-gram's weight but tells a moderator nothing; a token that fuses words
        (``pki..ganyang``) is named as its words.
        """
        share = self.featurizer_.attribute(text, self.coef_[:, 0])
        words: dict[str, float] = {}
        analyze = self.featurizer_.preprocessor_.analyze_token
        for token, value in share.items():
            stems, form = analyze(token)
            if not stems or token in PLACEHOLDERS or not any(c.isalpha() for c in token):
                continue
            parts = [w for w in form.split() if analyze(w)[0]] if _FUSED.search(token) else []
            for word in parts if len(parts) > 1 else [token]:
                words[word] = words.get(word, 0.0) + value / max(len(parts), 1)
        ranked = sorted(((w, round(v, 4)) for w, v in words.items()), key=lambda kv: -kv[1])
        return [(word, value) for word, value in ranked[:top] if value > 0]


def _n_features(bundle: artifact.Bundle, n_features: int) -> int:
    """``n_features`` as the weights declare it, refused over :data:`MAX_FEATURES`."""
    if n_features > MAX_FEATURES:
        raise ModelError(f"{bundle.root / ARRAYS}: {n_features:,} features, over the "
                         f"{MAX_FEATURES:,} a kanalml model may have")
    return n_features


def _budget(n_features: int) -> int:
    """Bytes a vocabulary of ``n_features`` may take: known before any string is parsed (a
    10M-entry vocabulary cost 846 MB)."""
    return n_features * MAX_BYTES_PER_FEATURE + (1 << 16)


def _training_keys(bundle: artifact.Bundle, metadata: dict[str, Any]) -> None:
    if TRAINING_KEYS in bundle:
        metadata["training_keys"] = bundle.strings(TRAINING_KEYS, 64 * MAX_TRAINING_KEYS,
                                                   MAX_TRAINING_KEYS)


def _load_v1(cls: type[Model], bundle: artifact.Bundle, labels: list[str],
             categories: list[str], metadata: dict[str, Any], params: dict[str, Any]) -> Model:
    """A format-1 model: deflated weights; the look-up tables built from the vocabularies."""
    shape = bundle.array_shape(ARRAYS, "coef")
    if len(shape) != 2 or shape[1] != len(labels):
        raise ModelError(f"{bundle.root / ARRAYS}: array 'coef' has shape {shape}, expected "
                         f"(features, {len(labels)}) float64")
    n_features = _n_features(bundle, shape[0])
    budget = _budget(n_features)
    words = bundle.strings(VOCABULARY, budget, n_features)
    chars = bundle.strings(CHAR_VOCABULARY, budget, n_features - len(words))
    stems = bundle.json(STEMS, budget * 4, 8 * n_features + 1024)
    _training_keys(bundle, metadata)
    n_features, n_labels = len(words) + len(chars), len(labels)
    shapes = {"coef": (n_features, n_labels), "intercept": (n_labels,),
              "calibration": (n_labels, 2), "thresholds": (n_labels,)}
    if categories:
        shapes.update(category_coef=(n_features, len(categories)),
                      category_intercept=(len(categories),))
    arrays = bundle.arrays(ARRAYS, shapes)
    preprocessor = Preprocessor()
    preprocessor.stem_table_ = _stem_table(stems, bundle.root / STEMS)
    featurizer = Featurizer.from_fitted(params, words, chars, preprocessor)
    return cls(labels, featurizer, arrays["coef"], arrays["intercept"], arrays["calibration"],
               arrays["thresholds"], metadata, categories, arrays.get("category_coef"),
               arrays.get("category_intercept"))


def _load_v2(cls: type[Model], bundle: artifact.Bundle, labels: list[str],
             categories: list[str], metadata: dict[str, Any], params: dict[str, Any]) -> Model:
    """A format-2 model: weights and tables read in place; the vocabularies, which scoring
    does not read, parsed on first need (explaining a score, transform, pickling)."""
    n_labels, n_cat = len(labels), len(categories)
    specs: dict[str, tuple[str, tuple[int | None, ...]]] = {
        "weights": ("<f8", (None, n_labels + n_cat)), "intercept": ("<f8", (n_labels,)),
        "calibration": ("<f8", (n_labels, 2)), "thresholds": ("<f8", (n_labels,))}
    if categories:
        specs["category_intercept"] = ("<f8", (n_cat,))
    arrays = bundle.tables(ARRAYS, specs)
    n_features = _n_features(bundle, arrays["weights"].shape[0])
    budget = _budget(n_features)
    table_specs: dict[str, tuple[str, tuple[int | None, ...]]] = dict.fromkeys(
        ("unigram", "bigram_keys", "bigram_cols"), ("<i8", (None,)))
    if params.get("char_ngrams") is not None:
        table_specs.update(dict.fromkeys(("char_alphabet", "char_keys", "char_columns"),
                                         ("<i8", (None,))),
                           **dict.fromkeys(("cross_at", "cross_columns"), ("<i4", (None,))))
    tables = bundle.tables(TABLES, table_specs)
    strings = bundle.object(TABLE_STRINGS, budget * 3, 3 * n_features + 1024)
    for key in ("stems", *(("suffixes", "prefixes") if "char_alphabet" in tables else ())):
        value = strings.get(key)
        nested = value if key != "stems" and isinstance(value, list) else [value]
        for item in nested:
            artifact.expect_strings(item, bundle.root / TABLE_STRINGS)
    stems = bundle.object(STEMS, budget * 4, 3 * n_features + 1024)
    columns = [artifact.expect_strings(stems.get(key), bundle.root / STEMS)
               for key in ("tokens", "forms", "stems")]
    if len({len(c) for c in columns}) != 1:
        raise ModelError(f"{bundle.root / STEMS}: tokens, forms and stems differ in length")
    _training_keys(bundle, metadata)
    tokens, forms, token_stems = columns
    empty: tuple[str, ...] = ()
    preprocessor = Preprocessor()
    preprocessor.stem_table_ = dict(zip(tokens, zip(
        [tuple(s.split(" ")) if s else empty for s in token_stems], forms)))

    # The vocabularies are parsed on first need, but checked now for what costs nothing: their
    # size, and their string counts against the tables' (counted in C, ~2 ms).
    for name, expected in ((VOCABULARY, strings["words"]), (CHAR_VOCABULARY, strings["chars"])):
        data, path = bundle.data(name), bundle.root / name
        if len(data) > budget:
            raise ModelError(f"{path}: {len(data):,} bytes, over the {budget:,} this file may "
                             "have")
        if (found := artifact.string_literals(data)) != expected:
            raise ModelError(f"{path}: holds {found:,} strings, "
                             f"{'more' if found > expected else 'fewer'} than the {expected:,} "
                             "columns the tables have")

    # Only the vocabularies' verified bytes are kept for later, not the whole bundle's.
    kept = artifact.Bundle(bundle.root, {name: bundle.data(name)
                                         for name in (VOCABULARY, CHAR_VOCABULARY)},
                           bundle.version)

    def read_terms() -> tuple[list[str], list[str]]:
        words = kept.strings(VOCABULARY, budget, n_features)
        return words, kept.strings(CHAR_VOCABULARY, budget, n_features - len(words))

    featurizer = Featurizer.from_tables(params, preprocessor, tables, strings, read_terms)
    if featurizer.n_features_ != n_features:
        raise ModelError(f"{bundle.root / ARRAYS}: weights for {n_features:,} features, the "
                         f"tables have {featurizer.n_features_:,}")
    model = cls(labels, featurizer, np.zeros((0, n_labels)), arrays["intercept"],
                arrays["calibration"], arrays["thresholds"], metadata, categories,
                np.zeros((0, n_cat)), arrays.get("category_intercept"))
    model._set_weights(arrays["weights"])
    return model


def _check_featurizer(params: Any, path: Path) -> None:
    """Featurizer parameters in the ranges kanalml trains with: an edited model must not load
    and then fail (or run for hours) at its first score."""
    if not isinstance(params, dict):
        raise ModelError(f"{path}: 'featurizer' must be an object")
    chars = params.get("char_ngrams")
    checks = {
        "ngram_max": params.get("ngram_max") in (1, 2),
        "char_ngrams": chars is None or (isinstance(chars, list) and len(chars) == 2
                                         and all(type(n) is int for n in chars)
                                         and 1 <= chars[0] <= chars[1] <= 10),
        "min_df": type(params.get("min_df")) is int and params["min_df"] >= 1,
        "word_weight": isinstance(params.get("word_weight"), (int, float))
        and math.isfinite(params["word_weight"]) and params["word_weight"] >= 0,
        "cache_size": type(params.get("cache_size", 1)) is int and params.get("cache_size", 1) > 0,
        "content_only": type(params.get("content_only", False)) is bool,
        "min_words": type(params.get("min_words", 0)) is int and 0 <= params.get("min_words", 0)
        <= 1000,
    }
    bad = [name for name, ok in checks.items() if not ok]
    unknown = sorted(set(params) - set(checks))
    if bad or unknown:
        raise ModelError(f"{path}: featurizer parameter(s) out of range or unknown: "
                         f"{', '.join(bad + unknown)}")


_FUSED = re.compile(r"[.\-_*|]{2,}|\w[.,][^\W\d]{2,}")  # words run together by punctuation


def _stem_table(stems: Any, path: Path) -> dict[str, tuple[tuple[str, ...], str]]:
    """The preprocessor's stem table from ``stems.json`` (token -> [form, *stems]), every
    entry a non-empty list of strings; else ModelError naming ``path``.

    Checked as a whole (the set of entry types, of item types, the shortest entry) in
    C-level passes: 0.02 s for the default model's 38,545 entries instead of 0.2 s for a
    per-entry generator of isinstance calls (measured, within the model's load).
    """
    if not isinstance(stems, dict):
        raise ModelError(f"{path}: expected a JSON object")
    entries = list(stems.values())
    if (not set(map(type, entries)) <= {list} or not all(entries)
            or not set(map(type, chain.from_iterable(entries))) <= {str}):
        raise ModelError(f"{path}: malformed entries")
    forms = map(itemgetter(0), entries)
    return dict(zip(stems, zip(map(tuple, map(itemgetter(slice(1, None)), entries)), forms)))


def _sigmoid(decision: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    z = decision * calibration[:, 0] + calibration[:, 1]
    proba: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return proba


def _fit_platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, max_iter=1000).fit(decision.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _prior_weights(y: np.ndarray, prevalence: float) -> np.ndarray:
    """Row weights that give the positives the share ``prevalence``: precision and F-beta
    weighed with them read as they would in a stream with that share of extremist posts."""
    share = float(y.mean())
    weights: np.ndarray = np.where(y == 1, prevalence / share, (1 - prevalence) / (1 - share))
    return weights


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _best_threshold(proba: np.ndarray, y: np.ndarray, beta: float = THRESHOLD_BETA,
                    weight: np.ndarray | None = None) -> float:
    """Probability that maximizes F-beta out of fold.

    beta 0.5 weighs precision twice as much as recall: a flag spends a moderator's
    time first, and the ranked queue still brings up what falls below it. (Best F1
    flagged 18 of the 100 hard negatives in data/; F0.5 flags 3.)
    """
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba, sample_weight=weight)
    f = (1 + beta**2) * precision * recall / np.maximum(beta**2 * precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f[:-1]))])


def _precision_threshold(proba: np.ndarray, y: np.ndarray, target: float,
                         weight: np.ndarray | None = None) -> tuple[float, str]:
    """Lowest probability whose out-of-fold precision reaches ``target`` (the most recall
    at that precision), and the rule as applied; the most precise threshold if none does."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba, sample_weight=weight)
    reaching = np.flatnonzero(precision[:-1] >= target)
    if len(reaching):
        i = int(reaching[0])
        return float(thresholds[i]), (f"precision >= {target:g} out of fold "
                                      f"(precision {precision[i]:.3f}, recall {recall[i]:.3f})")
    i = int(np.argmax(precision[:-1]))
    return float(thresholds[i]), (f"precision {target:g} not reached out of fold; highest "
                                  f"precision {precision[i]:.3f} (recall {recall[i]:.3f})")


def _thresholds(proba: np.ndarray, Y: np.ndarray, names: list[str], beta: float,
                target_precision: float | None, prevalence: float | None
                ) -> tuple[np.ndarray, dict[str, str]]:
    """Per label, on the rows that know it; the primary label's rows weighed to
    ``prevalence`` (see :func:`_prior_weights`) when it is given."""
    known = [Y[:, k] >= 0 for k in range(len(names))]
    weights = [_prior_weights(Y[m, k], prevalence) if k == 0 and prevalence is not None
               else None for k, m in enumerate(known)]
    at = f" at prevalence {prevalence:g}" if prevalence is not None else ""
    if target_precision is None:
        rules = {n: f"best F{beta:g} on out-of-fold calibrated probabilities"
                 + (at if k == 0 else "") for k, n in enumerate(names)}
        return (np.array([_best_threshold(proba[m, k], Y[m, k], beta, weights[k])
                          for k, m in enumerate(known)]), rules)
    chosen = [_precision_threshold(proba[m, k], Y[m, k], target_precision, weights[k])
              for k, m in enumerate(known)]
    return np.array([t for t, _ in chosen]), {n: r + (at if k == 0 else "")
                                              for k, (n, (_, r)) in enumerate(zip(names, chosen))}


def _nb_ratio(X: Any, y: np.ndarray, alpha: float) -> np.ndarray:
    """Log-count ratio of feature presence between classes (Wang & Manning's NB-SVM)."""
    present = X.copy()
    present.data[:] = 1.0
    p = alpha + np.asarray(present[y == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(present[y == 0].sum(axis=0)).ravel()
    ratio: np.ndarray = np.log((p / p.sum()) / (q / q.sum()))
    return ratio


def _fit_linear(X: Any, Y: np.ndarray, C: float, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """One NB-scaled logistic regression per label, on the rows that know the label; the
    scaling is folded into the weights."""
    from sklearn.linear_model import LogisticRegression

    coef = np.zeros((X.shape[1], Y.shape[1]))
    intercept = np.zeros(Y.shape[1])
    for k in range(Y.shape[1]):
        rows = np.flatnonzero(Y[:, k] >= 0)
        Xk = X if len(rows) == X.shape[0] else X[rows]
        ratio = _nb_ratio(Xk, Y[rows, k], alpha)
        clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", max_iter=1000)
        clf.fit(Xk.multiply(ratio).tocsr(), Y[rows, k])
        coef[:, k], intercept[k] = clf.coef_[0] * ratio, clf.intercept_[0]
    return coef, intercept


def _fit_categories(X: Any, cat: np.ndarray, n_cat: int, C: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression over the categories of the rows that have one (cat >= 0).

    Plain features, no NB scaling: the ratios are defined for two classes.
    """
    from sklearn.linear_model import LogisticRegression

    rows = np.flatnonzero(cat >= 0)
    # Only the features the positives have: under L2 the others' weights are exactly 0, and
    # L-BFGS's cost is per weight. On the default training set (452k features, 1,789
    # positives): 24.3 -> 10.1 s CPU, weights equal to 1e-11 (measured).
    Xr = X[rows]
    used = np.unique(Xr.indices)
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
    clf.fit(Xr[:, used], cat[rows])
    coef = np.zeros((X.shape[1], n_cat))
    intercept = np.full(n_cat, -1e6)  # a category with no training row is never chosen
    if len(clf.classes_) == 2:  # one row of weights, for the second class against the first
        coef[used, clf.classes_[1]] = clf.coef_[0]
        intercept[clf.classes_] = (0.0, clf.intercept_[0])
    else:
        coef[np.ix_(used, clf.classes_)] = clf.coef_.T
        intercept[clf.classes_] = clf.intercept_
    return coef, intercept


# Chosen on a new writer's pass planted among held-out real text (issue 19; scripts and
# figures in the model card): content_only and min_words took "Kalian", "Admin" and short real
# posts off the top; word_weight 1.0 and C 1.0 (from 0.5 and 30) ranked the new writer's
# extremist posts above real posts better (AP 0.69 -> 0.74) and flagged fewer real posts at
# the same recall (1.4% -> 0.86%).
DEFAULTS: dict[str, Any] = {"C": 1.0, "nb_alpha": 0.5, "ngram_max": 2, "char_ngrams": (3, 6),
                            "min_df": 2, "word_weight": 1.0, "category_C": 10.0,
                            "content_only": True, "min_words": 8}
_FEATURIZER_PARAMS = ("ngram_max", "char_ngrams", "min_df", "word_weight", "content_only",
                      "min_words")


def _label_matrix(labels: Any, n_texts: int) -> tuple[list[str], np.ndarray]:
    """Validate a label table of 0, 1 and unknown (NaN/None -> -1); the primary label goes
    first (see ``PRIMARY_LABELS``)."""
    import pandas as pd

    table = pd.DataFrame(labels).reset_index(drop=True)
    if len(table) != n_texts:
        raise DataError(f"{n_texts} texts but {len(table)} label rows")
    names = [str(n) for n in table.columns]
    table.columns = names
    primary = next((p for p in PRIMARY_LABELS if p in names), None)
    if primary is not None:
        names.remove(primary)
        names.insert(0, primary)
    values = table[names].apply(pd.to_numeric, errors="coerce")
    text = table[names].map(lambda v: isinstance(v, (str, bytes)))  # "1" is no label: say 1
    if text.any().any() or not (values.isna() | values.isin((0, 1))).all().all() or \
            (values.isna() & table[names].notna()).any().any():
        raise DataError("labels must be 0, 1 or empty (unknown)")
    Y = values.fillna(-1).to_numpy().astype(np.int8)
    for k, name in enumerate(names):
        known = Y[:, k][Y[:, k] >= 0]
        if not len(known) or known.min() == known.max():
            raise DataError(f"label {name!r} has only one class")
    return names, Y


def _category_codes(categories: Sequence[Any] | None, Y: np.ndarray
                    ) -> tuple[list[str], np.ndarray | None]:
    """Category names (sorted) and a code per row: -1 where the row is no known positive of the
    primary label or has no category."""
    if categories is None:
        return [], None
    values = [None if c is None or c != c or c == "" else str(c) for c in categories]
    if len(values) != len(Y):
        raise DataError(f"{len(Y)} texts but {len(values)} categories")
    names = sorted({c for c, y in zip(values, Y[:, 0]) if c is not None and y == 1})
    if len(names) < 2:
        raise DataError("categories need at least two values among the primary label's positives")
    index = {c: i for i, c in enumerate(names)}
    codes = np.array([index[c] if c is not None and y == 1 else -1
                      for c, y in zip(values, Y[:, 0])])
    return names, codes


def _options(options: dict[str, Any]) -> dict[str, Any]:
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown training options: {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **options}


class _Fitted(NamedTuple):
    featurizer: Featurizer
    coef: np.ndarray
    intercept: np.ndarray
    category_coef: np.ndarray | None
    category_intercept: np.ndarray | None


def _fit(texts: list[str], Y: np.ndarray, opts: dict[str, Any], cat: np.ndarray | None = None,
         n_cat: int = 0) -> _Fitted:
    feat = Featurizer(**{k: opts[k] for k in _FEATURIZER_PARAMS}).fit(texts)
    X = feat.transform(texts)
    coef, intercept = _fit_linear(X, Y, opts["C"], opts["nb_alpha"])
    if cat is None:
        return _Fitted(feat, coef, intercept, None, None)
    return _Fitted(feat, coef, intercept, *_fit_categories(X, cat, n_cat, opts["category_C"]))


class CrossValidation(NamedTuple):
    """Out-of-fold results: label names, the label matrix (-1 unknown), decisions per view,
    the fold number of each row and, with categories, the out-of-fold category codes."""

    names: list[str]
    Y: np.ndarray
    decisions: dict[str, np.ndarray]
    fold_of: np.ndarray
    category: np.ndarray | None


def _fold_numbers(folds: int | Sequence[int], Y: np.ndarray, random_state: int) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    if not isinstance(folds, int):
        fold_of = np.asarray(folds, dtype=np.int64)
        if fold_of.shape != (len(Y),) or fold_of.min() < 1:
            raise ValueError("folds: one fold number (1, 2, ...) per text")
        return fold_of
    fold_of = np.zeros(len(Y), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    for fold, (_, te) in enumerate(splitter.split(np.zeros(len(Y)), Y[:, 0]), start=1):
        fold_of[te] = fold
    return fold_of


def cross_val_decision(texts: Iterable[Any], labels: Any, *, folds: int | Sequence[int] = 5,
                       random_state: int = 0, categories: Sequence[Any] | None = None,
                       views: dict[str, Callable[[str], str]] | None = None,
                       progress: Callable[[str], None] | None = None, **options: Any
                       ) -> CrossValidation:
    """Out-of-fold decision values of a K-fold stratified on the primary label (its unknown
    rows are a stratum of their own), or of the fold numbers given as ``folds``.

    Every fitted step is fitted on each fold's training part only. ``views``
    maps a name to a function applied to each test post before scoring (for
    example an obfuscation), giving out-of-fold decisions on altered test posts;
    the view ``"clean"`` is always included.
    """
    texts = [as_text(t) for t in texts]
    names, Y = _label_matrix(labels, len(texts))
    cat_names, cat = _category_codes(categories, Y)
    opts = _options(options)
    views = {"clean": lambda text: text, **(views or {})}
    oof = {name: np.zeros(Y.shape) for name in views}
    oof_cat = None if cat is None else np.full(len(texts), -1)
    fold_of = _fold_numbers(folds, Y, random_state)
    n_folds = int(fold_of.max())
    # Folds are independent: one process per core. Each fold's work is deterministic, so the
    # result does not depend on how many processes ran it.
    jobs = _fold_jobs(n_folds) if len(texts) >= _PARALLEL_ROWS else 1
    if progress:
        progress(f"cross-validation: {n_folds} folds, {jobs} at a time")
    results = _parallel(jobs)(
        _delayed(_fold_decisions)(texts, Y, opts, cat, len(cat_names), fold_of, fold, views)
        for fold in range(1, n_folds + 1))
    for fold, (decisions, fold_cat) in enumerate(results, start=1):
        te = np.flatnonzero(fold_of == fold)
        for name, decision in decisions.items():
            oof[name][te] = decision
        if oof_cat is not None and fold_cat is not None:
            oof_cat[te] = fold_cat
        if progress:
            progress(f"fold {fold}/{n_folds} done")
    return CrossValidation(names, Y, oof, fold_of, oof_cat)


# Below this many posts the folds run in this process: starting a pool of processes and
# sending them the texts costs more than a small fold takes.
_PARALLEL_ROWS = 5000


def _fold_jobs(n_folds: int) -> int:
    return max(1, min(n_folds, os.cpu_count() or 1))


def _parallel(jobs: int) -> Any:
    from joblib import Parallel

    return Parallel(n_jobs=jobs, return_as="generator")


def _delayed(function: Callable[..., Any]) -> Any:
    from joblib import delayed

    return delayed(function)


def _fold_decisions(texts: list[str], Y: np.ndarray, opts: dict[str, Any],
                    cat: np.ndarray | None, n_cat: int, fold_of: np.ndarray, fold: int,
                    views: dict[str, Callable[[str], str]]
                    ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """One fold: fit on the other folds, then the decisions of its rows under each view
    (and their most likely categories, for the clean view)."""
    tr, te = np.flatnonzero(fold_of != fold), np.flatnonzero(fold_of == fold)
    fitted = _fit([texts[i] for i in tr], Y[tr], opts, None if cat is None else cat[tr], n_cat)
    weights = fitted.coef if fitted.category_coef is None \
        else np.hstack((fitted.coef, fitted.category_coef))
    n = Y.shape[1]
    decisions: dict[str, np.ndarray] = {}
    fold_cat = None
    for name, view in views.items():
        decision = fitted.featurizer.decision([view(texts[i]) for i in te], weights)
        decisions[name] = decision[:, :n] + fitted.intercept
        if name == "clean" and fitted.category_coef is not None:
            fold_cat = np.argmax(decision[:, n:] + fitted.category_intercept, axis=1)
    return decisions, fold_cat


def text_key(text: Any) -> str:
    """A 64-bit hex key of a post's tokens: the same post with other case, spacing or
    punctuation has the same key. Models keep the keys of their training posts so that an
    evaluation can tell when it is scoring them again."""
    joined = " ".join(tokenize(text))
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _label_metrics(oof: np.ndarray, proba: np.ndarray, y: np.ndarray, fold_of: np.ndarray,
                   threshold: float) -> dict[str, Any]:
    from sklearn.metrics import average_precision_score, roc_auc_score

    known = y >= 0
    fold_ap = [average_precision_score(y[known & (fold_of == f)], oof[known & (fold_of == f)])
               for f in np.unique(fold_of[known])
               if len(np.unique(y[known & (fold_of == f)])) == 2]
    y, oof, proba = y[known], oof[known], proba[known]
    flagged = proba >= threshold
    tp = int((flagged & (y == 1)).sum())
    return {
        "average_precision": round(float(np.mean(fold_ap)), 4),
        "average_precision_folds": [round(float(ap), 4) for ap in fold_ap],
        "average_precision_pooled": round(float(average_precision_score(y, oof)), 4),
        "roc_auc": round(float(roc_auc_score(y, oof)), 4),
        "precision": round(tp / max(int(flagged.sum()), 1), 4),
        "recall": round(tp / max(int(y.sum()), 1), 4),
        "positives": int(y.sum()),
        "rows": len(y),
    }


def train(texts: Iterable[Any], labels: Any, *, folds: int | Sequence[int] = 5,
          random_state: int = 0, categories: Sequence[Any] | None = None,
          target_precision: float | None = None, beta: float = THRESHOLD_BETA,
          prevalence: float | None = PREVALENCE, cross_validation: CrossValidation | None = None,
          progress: Callable[[str], None] | None = None, **options: Any) -> Model:
    """Fit a model on ``texts`` and a label table (one column per label: 0, 1, or empty
    where a row does not know the label).

    ``labels`` is a pandas DataFrame (or a mapping of name -> sequence); its
    primary label is ``ekstremisme`` or else ``radikalisme`` if it has one,
    else its first column. ``categories``: per row, the category of a positive
    of the primary label (docs/annotation-guide.md), used to fit the category
    model; empty for other rows. Cross-validation (``folds`` stratified folds
    on the primary label, or a fold number per row) gives the reported metrics,
    the calibration and the per-label thresholds: best F-``beta`` on
    out-of-fold probabilities (0.5 by default; 1 for best F1) or, with
    ``target_precision``, the lowest threshold whose out-of-fold precision
    reaches it. ``prevalence``: the share of extremist posts in the channels the model
    will score (:data:`PREVALENCE` by default; None keeps the training set's own share).
    The primary label's calibration is moved from the training set's share to it (Bayes'
    rule on the odds), and its threshold is chosen on out-of-fold rows weighed to it, so
    the score is a probability and the threshold's precision is that of such a stream.
    The final model is then fitted on all rows. ``cross_validation``: the result of
    :func:`cross_val_decision` on the same texts, labels, folds, categories and options
    (a notebook that compared settings has one), used instead of running it again; its
    labels, folds and categories are checked, its texts and options cannot be.
    Options (defaults in ``DEFAULTS``): ``C`` (inverse regularization),
    ``nb_alpha`` (smoothing of the NB feature scaling), ``category_C`` and the
    :class:`~kanalml.features.Featurizer` parameters ``ngram_max``,
    ``char_ngrams``, ``min_df`` and ``word_weight``.
    """
    if target_precision is not None and not 0.0 < target_precision <= 1.0:
        raise ValueError(f"target_precision must be in (0, 1], got {target_precision}")
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    if prevalence is not None and not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence must be in (0, 1), got {prevalence}")
    texts = [as_text(t) for t in texts]
    opts = _options(options)
    started = time.perf_counter()
    if cross_validation is None:
        cv = cross_val_decision(texts, labels, folds=folds, random_state=random_state,
                                categories=categories, progress=progress, **opts)
    else:
        names, Y = _label_matrix(labels, len(texts))
        cv = cross_validation
        if (cv.names != names or not np.array_equal(cv.Y, Y)
                or not np.array_equal(cv.fold_of, _fold_numbers(folds, Y, random_state))
                or (cv.category is None) != (categories is None)):
            raise ValueError("cross_validation was run on other labels, folds or categories "
                             "than these")
    names, Y, oof = cv.names, cv.Y, cv.decisions["clean"]
    calibration = np.array([_fit_platt(oof[Y[:, k] >= 0, k], Y[Y[:, k] >= 0, k])
                            for k in range(len(names))])
    if prevalence is not None:  # the training set's odds -> the stream's odds
        calibration[0, 1] += _logit(prevalence) - _logit(float(Y[Y[:, 0] >= 0, 0].mean()))
    proba = _sigmoid(oof, calibration)
    thresholds, rules = _thresholds(proba, Y, names, beta, target_precision, prevalence)
    metrics = {name: _label_metrics(oof[:, k], proba[:, k], Y[:, k], cv.fold_of, thresholds[k])
               for k, name in enumerate(names)}
    if prevalence is not None:  # what a moderator's flags would be worth in such a stream
        m = Y[:, 0] >= 0
        w, flagged = _prior_weights(Y[m, 0], prevalence), proba[m, 0] >= thresholds[0]
        metrics[names[0]]["precision_at_prevalence"] = round(float(
            w[flagged & (Y[m, 0] == 1)].sum() / max(w[flagged].sum(), 1e-12)), 4)
    cat_names, cat = _category_codes(categories, Y)
    if cat is not None and cv.category is not None:
        has = cat >= 0
        metrics[names[0]]["category_accuracy"] = round(float((cv.category[has] == cat[has])
                                                             .mean()), 4)

    if progress:
        progress("final fit on all rows")
    fitted = _fit(texts, Y, opts, cat, len(cat_names))
    digest = hashlib.sha256()
    for text, row in zip(texts, Y):
        digest.update(text.encode("utf-8", "surrogatepass") + b"\x00"
                      + bytes((row + 1).tolist()) + b"\n")
    metadata = {
        "labels": names,
        "primary_label": names[0],
        "categories": cat_names,
        "thresholds": {n: round(float(t), 6) for n, t in zip(names, thresholds)},
        "training_rows": len(texts),
        "training_sha256": digest.hexdigest(),
        "cv": {"folds": int(cv.fold_of.max()), "random_state": random_state,
               "metrics": metrics},
        "params": {**opts, "class_weight": "balanced", "solver": "liblinear"},
        "prevalence": prevalence,
        "threshold_rule": rules[names[0]],
        "threshold_rules": rules,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "train_seconds": round(time.perf_counter() - started, 1),
        "training_keys": sorted({text_key(t) for t in texts}),
    }
    return Model(names, fitted.featurizer, fitted.coef, fitted.intercept, calibration,
                 thresholds, metadata, cat_names, fitted.category_coef,
                 fitted.category_intercept)
