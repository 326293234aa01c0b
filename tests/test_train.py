"""kanalml.train: end-to-end signal, options, metadata and input validation."""

from __future__ import annotations

import math
import re
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from conftest import NEGATIVE_LIKE, POSITIVE_LIKE, SMALL_LABELS, make_corpus

import kanalml
from kanalml.preprocess import Preprocessor

PROMO_LIKE = [
    "diskon besar sepatu murah, gratis ongkir",
    "promo cashback paket data, order sekarang",
    "jual murah kualitas bagus, diskon hari ini",
]


def pairwise_order(high: np.ndarray, low: np.ndarray) -> float:
    """Share of (high, low) pairs in which the high-group item scores higher (ROC-AUC)."""
    return float(np.mean([h > lo for h in high for lo in low]))


def same_fit(a, b) -> None:
    assert a.labels_ == b.labels_
    assert a.featurizer_.vocabulary_ == b.featurizer_.vocabulary_
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    np.testing.assert_array_equal(a.calibration_, b.calibration_)
    np.testing.assert_array_equal(a.thresholds_, b.thresholds_)


# --- end to end ---------------------------------------------------------------------------

def test_trained_model_ranks_held_out_posts(small_model) -> None:
    pos = kanalml.score(POSITIVE_LIKE, model=small_model)
    neg = kanalml.score(NEGATIVE_LIKE, model=small_model)
    assert pos["score"].mean() > neg["score"].mean()
    assert pairwise_order(pos["score"].to_numpy(), neg["score"].to_numpy()) >= 0.75
    assert pos["flagged"].mean() > neg["flagged"].mean()


def test_trained_model_second_label_has_signal(small_model) -> None:
    promo = kanalml.score(PROMO_LIKE, model=small_model)["promosi"].to_numpy()
    other = kanalml.score(NEGATIVE_LIKE + POSITIVE_LIKE, model=small_model)["promosi"].to_numpy()
    assert promo.mean() > other.mean()
    assert pairwise_order(promo, other) >= 0.75


def test_trained_model_sees_through_obfuscation(small_model) -> None:
    plain = kanalml.score("tegakkan khilafah, bubarkan thaghut", model=small_model)["score"]
    disguised = kanalml.score("T3GAKKAN #Khilafah, bubarkaaan th4ghut", model=small_model)["score"]
    everyday = kanalml.score(NEGATIVE_LIKE, model=small_model)["score"]
    assert disguised > everyday.max()
    assert disguised == pytest.approx(plain, abs=0.2)


# --- the fitted model ---------------------------------------------------------------------

def test_model_attributes_and_metadata(small_model, corpus) -> None:
    texts, labels = corpus
    m = small_model
    assert m.labels_ == SMALL_LABELS and m.primary == "radikalisme"
    n_features = m.featurizer_.n_features_
    assert n_features == len(m.featurizer_.vocabulary_) + len(m.featurizer_.char_vocabulary_)
    assert len(m.featurizer_.vocabulary_) > 20
    assert m.coef_.shape == (n_features, 2)
    assert m.intercept_.shape == (2,) and m.calibration_.shape == (2, 2)
    assert m.thresholds_.shape == (2,) and ((m.thresholds_ > 0) & (m.thresholds_ < 1)).all()
    assert m.threshold == m.thresholds_[0]
    meta = m.metadata_
    assert meta["labels"] == SMALL_LABELS
    assert set(meta["thresholds"]) == set(SMALL_LABELS)
    assert meta["thresholds"]["radikalisme"] == pytest.approx(m.threshold, abs=1e-6)
    assert meta["training_rows"] == len(texts) == 64
    assert re.fullmatch(r"[0-9a-f]{64}", meta["training_sha256"])
    assert meta["cv"]["folds"] == 3 and meta["cv"]["random_state"] == 0
    for label in SMALL_LABELS:
        metrics = meta["cv"]["metrics"][label]
        assert metrics["positives"] == int(labels[label].sum())
        for key in ("average_precision", "roc_auc", "precision", "recall"):
            assert 0.0 <= metrics[key] <= 1.0
    # the clear-cut primary label is learnable out of fold
    assert meta["cv"]["metrics"]["radikalisme"]["roc_auc"] >= 0.8
    assert meta["params"]["ngram_max"] == 2 and meta["params"]["min_df"] == 2
    assert pd.Timestamp(meta["created"]).tzinfo is not None


def test_training_is_deterministic(small_model, corpus) -> None:
    texts, labels = corpus
    again = kanalml.train(texts, labels, folds=3, random_state=0)
    same_fit(again, small_model)
    assert again.metadata_["training_sha256"] == small_model.metadata_["training_sha256"]
    assert again.metadata_["cv"] == small_model.metadata_["cv"]


def test_training_sha256_depends_on_labels(small_model, corpus) -> None:
    texts, labels = corpus
    flipped = labels.copy()
    flipped.loc[0, "promosi"] = 1 - flipped.loc[0, "promosi"]
    other = kanalml.train(texts, flipped, folds=3, random_state=0)
    assert other.metadata_["training_sha256"] != small_model.metadata_["training_sha256"]


def test_primary_label_is_radikalisme_wherever_it_is(small_model, corpus) -> None:
    texts, labels = corpus
    reordered = kanalml.train(texts, labels[["promosi", "radikalisme"]], folds=3, random_state=0)
    same_fit(reordered, small_model)


def test_first_column_is_primary_without_radikalisme(corpus) -> None:
    texts, labels = corpus
    renamed = labels.rename(columns={"radikalisme": "ekstrem"})[["promosi", "ekstrem"]]
    model = kanalml.train(texts, renamed, folds=3, random_state=0)
    assert model.labels_ == ["promosi", "ekstrem"]
    out = kanalml.score(PROMO_LIKE[0], model=model)
    assert list(out) == ["score", "promosi", "ekstrem", "flagged"]
    assert out["score"] == out["promosi"]


def test_labels_as_mapping(small_model, corpus) -> None:
    texts, labels = corpus
    mapping = {name: labels[name].tolist() for name in labels.columns}
    same_fit(kanalml.train(tuple(texts), mapping, folds=3, random_state=0), small_model)


def test_series_texts_with_any_index(small_model, corpus) -> None:
    texts, labels = corpus
    index = pd.Index([f"id{i}" for i in range(len(texts))][::-1])
    model = kanalml.train(pd.Series(texts, index=index), labels.set_axis(index), folds=3,
                          random_state=0)
    same_fit(model, small_model)


def test_options_change_the_model(small_model, corpus) -> None:
    texts, labels = corpus
    model = kanalml.train(texts, labels, ngram_max=1, min_df=1, folds=4, random_state=5)
    vocab = model.featurizer_.vocabulary_
    assert not any(" " in term for term in vocab)
    pre = Preprocessor(content_only=True).fit(texts)
    assert set(vocab) == {s for text in texts for s in pre.analyze(text)}  # min_df=1: every stem
    assert model.metadata_["params"]["ngram_max"] == 1
    assert model.metadata_["params"]["min_df"] == 1
    assert model.metadata_["cv"]["folds"] == 4 and model.metadata_["cv"]["random_state"] == 5


def test_option_min_df_prunes_rare_terms(small_model, corpus) -> None:
    texts, labels = corpus
    model = kanalml.train(texts, labels, min_df=6, folds=3, random_state=0)
    vocab = set(model.featurizer_.vocabulary_)
    assert vocab and vocab < set(small_model.featurizer_.vocabulary_)
    pre = model.featurizer_.preprocessor_
    terms = []
    for text in texts:
        stems = pre.analyze(text)
        terms.append({*stems, *(f"{a} {b}" for a, b in pairwise(stems))})
    for term in vocab:
        assert sum(term in doc for doc in terms) >= 6


def test_option_c_sets_regularization(small_model, corpus) -> None:
    texts, labels = corpus
    strong = kanalml.train(texts, labels, C=0.1, folds=3, random_state=0)
    assert strong.metadata_["params"]["C"] == 0.1
    assert strong.featurizer_.vocabulary_ == small_model.featurizer_.vocabulary_
    assert np.linalg.norm(strong.coef_) < np.linalg.norm(small_model.coef_)


# --- input validation ---------------------------------------------------------------------

def test_mismatched_lengths(corpus) -> None:
    texts, labels = corpus
    with pytest.raises(kanalml.DataError, match="63"):
        kanalml.train(texts[:-1], labels)
    with pytest.raises(kanalml.DataError):
        kanalml.train(texts, labels.iloc[:-1])


@pytest.mark.parametrize("bad", [2, -1, 0.5, "1", "ya"], ids=repr)
def test_labels_must_be_0_or_1(bad, corpus) -> None:
    texts, labels = corpus
    broken = labels.astype(object)
    broken.loc[5, "promosi"] = bad
    with pytest.raises(kanalml.DataError, match="0, 1 or empty"):
        kanalml.train(texts, broken)


def test_an_empty_label_is_unknown_not_an_error(corpus) -> None:
    texts, labels = corpus
    partial = labels.astype(object)
    partial.loc[5, "promosi"] = math.nan
    model = kanalml.train(texts, partial, folds=3, random_state=0)
    assert model.metadata_["cv"]["metrics"]["promosi"]["rows"] == len(texts) - 1


def test_boolean_and_float_labels_are_accepted(small_model, corpus) -> None:
    texts, labels = corpus
    model = kanalml.train(texts, labels.astype(bool), folds=3, random_state=0)
    same_fit(model, small_model)


@pytest.mark.parametrize(("label", "value"), [("promosi", 0), ("promosi", 1),
                                              ("radikalisme", 0)])
def test_label_with_one_class(label, value, corpus) -> None:
    texts, labels = corpus
    constant = labels.copy()
    constant[label] = value
    with pytest.raises(kanalml.DataError, match=label):
        kanalml.train(texts, constant)


def test_missing_and_bytes_texts_train_like_they_score() -> None:
    """A missing text is an empty post and bytes are UTF-8, in training as in scoring."""
    texts, labels = make_corpus()
    extra = [None, math.nan, math.nan, b"tegakkan khilafah"]
    as_scored = ["", "", "", "tegakkan khilafah"]
    table = pd.DataFrame(labels)
    table = pd.concat([table, pd.DataFrame({"radikalisme": [0, 0, 0, 1],
                                            "promosi": [0, 0, 0, 0]})], ignore_index=True)
    raw = kanalml.train(texts + extra, table, folds=3, random_state=0)
    clean = kanalml.train(texts + as_scored, table, folds=3, random_state=0)
    assert "nan" not in raw.featurizer_.vocabulary_
    same_fit(raw, clean)


# --- threshold rules ------------------------------------------------------------------------

def _precision_at(proba: np.ndarray, y: np.ndarray, t: float) -> float:
    flagged = proba >= t
    return float(y[flagged].mean()) if flagged.any() else 0.0


@pytest.mark.parametrize("target", [0.5, 0.7, 0.85])
def test_precision_threshold_is_the_lowest_reaching_the_target(target) -> None:
    from kanalml.model import _precision_threshold

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    proba = np.clip(0.35 * y + rng.normal(0.4, 0.2, 400), 0, 1)
    t, rule = _precision_threshold(proba, y, target)
    assert _precision_at(proba, y, t) >= target
    lower = np.unique(proba[proba < t])
    assert all(_precision_at(proba, y, s) < target for s in lower)
    assert rule.startswith(f"precision >= {target:g}")


def test_unreachable_precision_falls_back_to_the_most_precise_threshold() -> None:
    from kanalml.model import _precision_threshold

    proba = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    y = np.array([0, 1, 1, 0, 1, 0])
    t, rule = _precision_threshold(proba, y, 1.0)
    assert t == 0.7  # precision 2/3, the best any threshold reaches
    assert "not reached" in rule


def test_train_records_the_threshold_rule_per_label(corpus) -> None:
    texts, labels = corpus
    noisy = labels.copy()
    noisy.loc[:5, "radikalisme"] = 1 - noisy.loc[:5, "radikalisme"]  # some wrong labels
    by_precision = kanalml.train(texts, noisy, folds=3, target_precision=0.9)
    rules = by_precision.metadata_["threshold_rules"]
    assert set(rules) == set(SMALL_LABELS)
    assert all("precision" in rule and "0.9" in rule for rule in rules.values())
    assert by_precision.metadata_["threshold_rule"] == rules["radikalisme"]
    best_f1 = kanalml.train(texts, noisy, folds=3, beta=1.0)
    assert best_f1.metadata_["threshold_rule"].startswith("best F1 ")
    # same folds, same calibration: only the rule differs
    np.testing.assert_array_equal(best_f1.calibration_, by_precision.calibration_)


@pytest.mark.parametrize("options", [{"target_precision": 0.0}, {"target_precision": 1.5},
                                     {"beta": 0.0}])
def test_threshold_options_are_checked(corpus, options) -> None:
    texts, labels = corpus
    with pytest.raises(ValueError, match=next(iter(options))):
        kanalml.train(texts, labels, folds=3, **options)


# --- scikit-learn's estimator rules: Featurizer parameters, repr, not fitted ---------------

def test_featurizer_params_are_read_from_init() -> None:
    import inspect

    from sklearn.base import clone

    from kanalml.features import Featurizer

    names = sorted(p for p in inspect.signature(Featurizer.__init__).parameters if p != "self")
    feat = Featurizer(min_df=1, char_ngrams=(2, 4))
    assert sorted(feat.get_params()) == names
    assert feat.get_params()["min_df"] == 1 and feat.get_params()["char_ngrams"] == (2, 4)
    same = clone(feat)  # scikit-learn rebuilds it from get_params() and checks every value
    assert same is not feat and same.get_params() == feat.get_params()


def test_featurizer_set_params_returns_self_and_refuses_unknown_names() -> None:
    from kanalml.features import Featurizer

    feat = Featurizer()
    assert feat.set_params(ngram_max=1, word_weight=2.0) is feat
    assert feat.ngram_max == 1 and feat.word_weight == 2.0
    assert feat.set_params() is feat
    for bad in ({"min_dff": 3}, {"preprocessor_": None}, {"min_df__x": 1}):
        with pytest.raises(ValueError, match="Invalid parameter"):
            feat.set_params(**bad)
    assert feat.get_params() == Featurizer(ngram_max=1, word_weight=2.0).get_params()


def test_featurizer_repr_shows_the_changed_parameters(small_model) -> None:
    from kanalml.features import Featurizer

    assert repr(Featurizer()) == "Featurizer()"
    assert repr(Featurizer(min_df=1, char_ngrams=None)) == "Featurizer(char_ngrams=None, min_df=1)"
    assert repr(small_model.featurizer_) == "Featurizer()"
    assert repr(small_model).startswith("Model(labels=['radikalisme', 'promosi']")


def test_unfitted_featurizer_raises_not_fitted_error() -> None:
    from sklearn.exceptions import NotFittedError

    from kanalml.features import Featurizer

    feat = Featurizer()
    for call in (lambda: feat.transform(["teks"]), lambda: feat.get_feature_names_out(),
                 lambda: feat.decision(["teks"], np.zeros((1, 1))),
                 lambda: feat.attribute("teks", np.zeros(1)), feat.warm_up):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()
    feat.fit(["satu dua", "satu tiga", "dua tiga"])
    assert feat.transform(["satu dua"]).shape == (1, feat.n_features_)


def test_train_reuses_a_cross_validation_of_the_same_inputs(corpus) -> None:
    """A notebook that compared settings with cross_val_decision trains without a second
    cross-validation; the model is the one train would have made, and a cross-validation of
    other labels or folds is refused."""
    from kanalml.model import cross_val_decision

    texts, labels = corpus
    cv = cross_val_decision(texts, labels, folds=4, random_state=3, C=5.0)
    reused = kanalml.train(texts, labels, folds=4, random_state=3, C=5.0, cross_validation=cv)
    fresh = kanalml.train(texts, labels, folds=4, random_state=3, C=5.0)
    assert np.array_equal(reused.coef_, fresh.coef_)
    assert np.array_equal(reused.calibration_, fresh.calibration_)
    assert np.array_equal(reused.thresholds_, fresh.thresholds_)
    with pytest.raises(ValueError, match="other labels, folds"):
        kanalml.train(texts, labels, folds=3, random_state=3, C=5.0, cross_validation=cv)
    with pytest.raises(ValueError, match="other labels, folds"):
        kanalml.train(texts, labels.iloc[::-1], folds=4, random_state=3, C=5.0,
                      cross_validation=cv)
