"""kanalml.features.Featurizer against scikit-learn's TfidfVectorizer as the reference."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from kanalml.features import Featurizer
from kanalml.preprocess import Preprocessor

TEXTS = [
    "Bubarkan pemerintah thaghut, tegakkan khilafah!",
    "bubarkan pemerintah thaghut sekarang juga",
    "demokrasi sistem kafir, hanya khilafah solusi umat",
    "tegakkan khilafah, tegakkan khilafah, tegakkan khilafah",
    "thaghut thaghut thaghut thaghut, bubarkan pemerintah",
    "cuaca hari ini cerah, jalan sudirman lancar",
    "jalan sudirman macet parah, hujan deras",
    "makan siang nasi padang enak bangeeet",
    "mati syahid demi khilafah, lawan rezim th4ghut 💣",
    "hujan deras dari pagi, jalan macet",
    "anak2 libur sekolah, jalan-jalan ke taman",
    "",
    "!!! ???",
]
NEW_TEXTS = [
    "khilafah solusi, bubarkan thaghut, k4f1r semua",
    "hujan deras, jalan sudirman macet lagi",
    "kata yang belum pernah terlihat sebelumnya",
    "",
    None,
    "tegakkan tegakkan tegakkan khilafah khilafah",
]


def reference(featurizer: Featurizer) -> TfidfVectorizer:
    """TfidfVectorizer with the featurizer's analyzer (stems + adjacent-stem bigrams)."""
    pre = featurizer.preprocessor_

    def analyzer(doc):
        stems = pre.analyze(doc)
        if featurizer.ngram_max < 2:
            return stems
        return stems + [f"{a} {b}" for a, b in pairwise(stems)]

    return TfidfVectorizer(analyzer=analyzer, sublinear_tf=True,
                           vocabulary=featurizer.vocabulary_)


def max_abs_diff(a: sp.spmatrix, b: sp.spmatrix) -> float:
    assert a.shape == b.shape
    diff = abs(sp.csr_matrix(a) - sp.csr_matrix(b))
    return float(diff.max()) if diff.nnz else 0.0


@pytest.fixture(scope="module")
def fitted() -> Featurizer:
    return Featurizer(ngram_max=2, min_df=2).fit(TEXTS)


def test_transform_returns_l2_normalized_csr(fitted: Featurizer) -> None:
    X = fitted.transform(TEXTS)
    assert sp.issparse(X) and X.format == "csr"
    assert X.shape == (len(TEXTS), len(fitted.vocabulary_))
    assert X.dtype == np.float64
    X.check_format(full_check=True)
    assert X.has_sorted_indices
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    empty = np.diff(X.indptr) == 0
    assert np.allclose(norms[~empty], 1.0, atol=1e-12)
    pre = fitted.preprocessor_
    has_terms = [bool(set(pre.analyze(t)) & fitted.vocabulary_.keys()) for t in TEXTS]
    assert list(~empty) == has_terms
    assert empty[-2] and empty[-1]  # "" and punctuation only
    assert (X.data > 0).all()


def test_equals_sklearn_on_training_texts(fitted: Featurizer) -> None:
    ours = fitted.transform(TEXTS)
    theirs = reference(fitted).fit_transform(TEXTS)
    assert ours.nnz == theirs.nnz
    assert max_abs_diff(ours, theirs) < 1e-12


def test_equals_sklearn_on_new_texts(fitted: Featurizer) -> None:
    vec = reference(fitted).fit(TEXTS)
    np.testing.assert_allclose(vec.idf_, fitted.idf_, rtol=0, atol=1e-12)
    ours = fitted.transform(NEW_TEXTS)
    assert max_abs_diff(ours, vec.transform(NEW_TEXTS)) < 1e-12
    assert ours[0].nnz > 0  # shares vocabulary with the training texts


def test_unigrams_only_equals_sklearn() -> None:
    feat = Featurizer(ngram_max=1, min_df=1).fit(TEXTS)
    assert not any(" " in term for term in feat.vocabulary_)
    assert max_abs_diff(feat.transform(TEXTS), reference(feat).fit_transform(TEXTS)) < 1e-12


def test_vocabulary_respects_min_df(fitted: Featurizer) -> None:
    pre = fitted.preprocessor_
    df: Counter[str] = Counter()
    for text in TEXTS:
        stems = pre.analyze(text)
        df.update(set(stems) | {f"{a} {b}" for a, b in pairwise(stems)})
    assert set(fitted.vocabulary_) == {t for t, n in df.items() if n >= 2}
    assert "bubar perintah" in fitted.vocabulary_  # bigrams are "a b"
    assert sorted(fitted.vocabulary_.values()) == list(range(len(fitted.vocabulary_)))
    names = fitted.get_feature_names_out()
    assert all(names[j] == term for term, j in fitted.vocabulary_.items())


def test_max_features_keeps_most_frequent() -> None:
    full = Featurizer(min_df=1).fit(TEXTS)
    small = Featurizer(min_df=1, max_features=5).fit(TEXTS)
    assert len(small.vocabulary_) == 5
    df = np.asarray((full.transform(TEXTS) > 0).sum(axis=0)).ravel()
    kept_df = sorted((df[full.vocabulary_[t]] for t in small.vocabulary_), reverse=True)
    assert kept_df == sorted(df, reverse=True)[:5]


def test_empty_and_generator_inputs(fitted: Featurizer) -> None:
    empty = fitted.transform([])
    assert empty.shape == (0, len(fitted.vocabulary_))
    from_gen = fitted.transform(t for t in NEW_TEXTS)
    assert max_abs_diff(from_gen, fitted.transform(list(NEW_TEXTS))) == 0.0
    from_array = fitted.transform(np.array(TEXTS, dtype=object))
    assert max_abs_diff(from_array, fitted.transform(TEXTS)) == 0.0


def test_tiny_cache_gives_identical_matrix() -> None:
    feat = Featurizer(cache_size=2).fit(TEXTS)
    reference_feat = Featurizer().fit(TEXTS)
    assert feat.vocabulary_ == reference_feat.vocabulary_
    for texts in (TEXTS, NEW_TEXTS, TEXTS):
        assert max_abs_diff(feat.transform(texts), reference_feat.transform(texts)) == 0.0


def test_fit_with_given_preprocessor() -> None:
    pre = Preprocessor().fit(TEXTS + NEW_TEXTS[:3])
    feat = Featurizer(min_df=1).fit(TEXTS, preprocessor=pre)
    assert feat.preprocessor_ is pre
    expected = reference(feat).fit(TEXTS).transform(NEW_TEXTS)
    assert max_abs_diff(feat.transform(NEW_TEXTS), expected) < 1e-12


def test_fit_transform_equals_fit_then_transform() -> None:
    a = Featurizer().fit_transform(TEXTS)
    b = Featurizer().fit(TEXTS).transform(TEXTS)
    assert max_abs_diff(a, b) == 0.0


def test_equals_sklearn_on_netifier(netifier_train) -> None:
    import pandas as pd

    texts = pd.read_csv(netifier_train, nrows=1500)["original_text"].tolist()
    assert len(texts) == 1500
    feat = Featurizer().fit(texts)
    ours = feat.transform(texts)
    theirs = reference(feat).fit_transform(texts)
    assert len(feat.vocabulary_) > 1000
    assert ours.nnz == theirs.nnz
    assert max_abs_diff(ours, theirs) < 1e-12
