"""kanalml.features.Featurizer against plain reference implementations of its two blocks."""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from kanalml.features import Featurizer
from kanalml.preprocess import LEXICON, tokenize

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


def word_reference(feat: Featurizer, texts: list) -> sp.csr_matrix:
    """Presence of stems and adjacent-stem bigrams, L2-normalized, times word_weight."""
    pre = feat.preprocessor_

    def analyzer(doc):
        stems = pre.analyze(doc)
        return stems + [f"{a} {b}" for a, b in pairwise(stems)] if feat.ngram_max > 1 else stems

    counts = CountVectorizer(analyzer=analyzer, binary=True, vocabulary=feat.vocabulary_)
    present = counts.transform(texts).astype(float).tocsr()
    # L2 norm of a row of presences, floored at min_words: a short post is not scaled up.
    norms = np.sqrt(np.maximum(present.getnnz(axis=1), max(feat.min_words, 1)))
    return feat.word_weight * sp.csr_matrix(present.multiply(1 / norms[:, None]))


def char_floor(feat: Featurizer) -> float:
    """min_words words' worth of char n-grams: a six-letter word (" abcdef " has 8 characters)
    and the n-grams crossing into the next word (n - 2 of each length)."""
    lo, hi = feat.char_ngrams
    return max(feat.min_words * sum((8 - n + 1) + (n - 2) for n in range(lo, hi + 1)), 1)


def char_units(feat: Featurizer, text) -> list[str]:
    """Char n-grams of the distinct words and distinct adjacent word pairs, written out plainly."""
    lo, hi = feat.char_ngrams
    forms = [f for f in (feat.preprocessor_.analyze_token(t)[1] for t in tokenize(text)) if f]
    grams = []
    for form in dict.fromkeys(forms):
        padded = f" {form} "
        grams += [padded[i:i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]
    for left, right in dict.fromkeys(pairwise(forms)):
        joined = f"{left} {right}"
        for n in range(lo, hi + 1):
            for i in range(len(joined) - n + 1):
                if i < len(left) < i + n - 1:  # holds a character of each word
                    grams.append(joined[i:i + n])
    return grams


def char_reference(feat: Featurizer, texts: list) -> sp.csr_matrix:
    rows = []
    for text in texts:
        counts = Counter(g for g in char_units(feat, text) if g in feat.char_vocabulary_)
        row = np.zeros(len(feat.char_vocabulary_))
        total = max(sum(counts.values()), char_floor(feat))
        for gram, n in counts.items():
            row[feat.char_vocabulary_[gram] - len(feat.vocabulary_)] = n / np.sqrt(total)
        rows.append(row)
    return sp.csr_matrix(np.array(rows).reshape(len(texts), -1))


def max_abs_diff(a, b) -> float:
    diff = abs(sp.csr_matrix(a) - sp.csr_matrix(b))
    return float(diff.max()) if diff.nnz else 0.0


@pytest.fixture(scope="module")
def fitted() -> Featurizer:
    return Featurizer(min_df=1).fit(TEXTS)


@pytest.mark.parametrize("texts", [TEXTS, NEW_TEXTS], ids=["training", "new"])
def test_blocks_equal_reference(fitted, texts) -> None:
    X = fitted.transform(texts)
    assert isinstance(X, sp.csr_matrix) and X.shape == (len(texts), fitted.n_features_)
    n_words = len(fitted.vocabulary_)
    assert max_abs_diff(X[:, :n_words], word_reference(fitted, texts)) < 1e-12
    assert max_abs_diff(X[:, n_words:], char_reference(fitted, texts)) < 1e-12


def test_vocabularies_follow_min_df() -> None:
    feat = Featurizer(min_df=2).fit(TEXTS)
    stems_df = Counter(t for text in TEXTS for t in set(feat.preprocessor_.analyze(text)))
    assert {t for t, n in stems_df.items() if n >= 2} <= set(feat.vocabulary_)
    assert all(stems_df[t] >= 2 for t in feat.vocabulary_ if " " not in t)
    chars_df = Counter(g for text in TEXTS for g in set(char_units(feat, text)))
    assert set(feat.char_vocabulary_) == {g for g, n in chars_df.items() if n >= 2}
    columns = sorted([*feat.vocabulary_.values(), *feat.char_vocabulary_.values()])
    assert columns == list(range(feat.n_features_))


def test_decision_equals_matrix_product(fitted) -> None:
    weights = np.random.default_rng(0).normal(size=(fitted.n_features_, 3))
    for texts in (TEXTS, NEW_TEXTS):
        expected = fitted.transform(texts) @ weights
        np.testing.assert_allclose(fitted.decision(texts, weights), expected, rtol=0, atol=1e-12)


def test_a_text_scores_the_same_in_any_batch(fitted) -> None:
    weights = np.random.default_rng(1).normal(size=(fitted.n_features_, 2))
    batch = fitted.decision(TEXTS + NEW_TEXTS, weights)
    for i, text in enumerate(TEXTS + NEW_TEXTS):
        assert np.array_equal(fitted.decision([text], weights)[0], batch[i])


def test_attribution_adds_up_to_the_score(fitted) -> None:
    weights = np.random.default_rng(2).normal(size=(fitted.n_features_, 1))
    for text in TEXTS + NEW_TEXTS:
        share = fitted.attribute(text, weights[:, 0])
        assert set(share) <= set(tokenize(text))
        total = fitted.decision([text], weights)[0, 0]
        assert sum(share.values()) == pytest.approx(total, abs=1e-9)


def test_obfuscated_spelling_gives_the_same_features(fitted) -> None:
    plain = fitted.transform(["lawan rezim thaghut, tegakkan khilafah"])
    for disguised in ["lawan rezim th4ghut, tegakkan khil4fah",
                      "LAWAN REZIM THAGHUT, TEGAKKAN KHILAFAH",
                      "lawan rezim tha\u200bghut, tegakkan khilaaaafah"]:
        assert max_abs_diff(fitted.transform([disguised]), plain) < 1e-12


def test_word_block_alone() -> None:
    feat = Featurizer(min_df=1, char_ngrams=None, ngram_max=1).fit(TEXTS)
    assert feat.char_vocabulary_ == {} and all(" " not in t for t in feat.vocabulary_)
    assert max_abs_diff(feat.transform(NEW_TEXTS), word_reference(feat, NEW_TEXTS)) < 1e-12


def test_empty_and_generator_inputs(fitted) -> None:
    assert fitted.transform([]).shape == (0, fitted.n_features_)
    assert fitted.decision([], np.ones((fitted.n_features_, 2))).shape == (0, 2)
    from_generator = fitted.transform(t for t in NEW_TEXTS)
    assert max_abs_diff(from_generator, fitted.transform(NEW_TEXTS)) == 0.0


def test_tiny_caches_give_the_same_result() -> None:
    big = Featurizer(min_df=1).fit(TEXTS)
    small = Featurizer(min_df=1, cache_size=2).fit(TEXTS)
    weights = np.random.default_rng(3).normal(size=(big.n_features_, 2))
    assert max_abs_diff(small.transform(NEW_TEXTS), big.transform(NEW_TEXTS)) == 0.0
    np.testing.assert_array_equal(small.decision(NEW_TEXTS, weights),
                                  big.decision(NEW_TEXTS, weights))


def test_params_and_feature_names(fitted) -> None:
    params = fitted.get_params()
    assert params["char_ngrams"] == (3, 6) and params["ngram_max"] == 2
    assert Featurizer().set_params(min_df=5).min_df == 5
    names = fitted.get_feature_names_out()
    assert len(names) == fitted.n_features_
    assert all(names[j] == term for term, j in fitted.vocabulary_.items())
    assert all(names[j] == gram for gram, j in fitted.char_vocabulary_.items())


def test_on_netifier(netifier_train) -> None:
    frame = pd.read_csv(netifier_train, nrows=1500)
    texts = frame["original_text"].tolist()
    feat = Featurizer().fit(texts[:1000])
    weights = np.random.default_rng(4).normal(size=(feat.n_features_, 2))
    held_out = texts[1000:]
    X = feat.transform(held_out)
    n_words = len(feat.vocabulary_)
    assert max_abs_diff(X[:, :n_words], word_reference(feat, held_out)) < 1e-12
    np.testing.assert_allclose(feat.decision(held_out, weights), X @ weights, rtol=0, atol=1e-10)
    assert max_abs_diff(X[:100, n_words:], char_reference(feat, held_out[:100])) < 1e-12


def test_threads_with_caches_replaced_mid_flight_match_serial() -> None:
    # Tiny caches: token and unit caches fill up and are replaced while other threads
    # still hold form ids and unit rows of the old ones.
    import threading

    serial_feat = Featurizer(min_df=1).fit(TEXTS)
    shared = Featurizer(min_df=1, cache_size=5).fit(TEXTS)
    weights = np.random.default_rng(5).normal(size=(serial_feat.n_features_, 2))
    texts = TEXTS + NEW_TEXTS + [f"{a} {b}" for a in TEXTS[:6] for b in NEW_TEXTS[:3]]
    expected = serial_feat.decision(texts, weights)
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def work(k: int) -> None:
        try:
            barrier.wait()
            for step in range(6):
                window = texts[(k + step) % 5::2]
                got = shared.decision(window, weights)
                np.testing.assert_array_equal(got, expected[(k + step) % 5::2])
        except BaseException as exc:  # re-raised in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[0]


def test_numpy_ngram_matching_equals_dict_lookups(fitted) -> None:
    from kanalml.features import _PAIR, _UnitCache

    units = _UnitCache(fitted.char_vocabulary_, fitted.char_ngrams, 1000)
    names = ["khilafah", "th4ghut", "a", "jalan sudirman", "anak-anak", "💣",
             "khilafah" + _PAIR + "solusi", "x" + _PAIR + "y", "bubarkan" + _PAIR + "thaghut"]
    weights = np.random.default_rng(6).normal(size=(fitted.n_features_, 2))
    rows = fitted._char_table().rows(names, weights)
    for name, row in zip(names, rows):
        cols = list(units[name])
        assert row[0] == len(cols)
        np.testing.assert_allclose(row[1:], weights[cols].sum(axis=0), rtol=0, atol=1e-12)


def test_big_batches_score_each_text_as_alone(fitted) -> None:
    # Hundreds of new word pairs take the bulk path of the pair tables; one text's few
    # pairs take the small one: both must add the same numbers in the same order.
    import random

    words = " ".join(TEXTS).split()
    rng = random.Random(7)
    texts = [" ".join(rng.choices(words, k=rng.randint(1, 12))) for _ in range(300)]
    weights = np.random.default_rng(8).normal(size=(fitted.n_features_, 2))
    batch = fitted.decision(texts, weights)
    np.testing.assert_allclose(batch, fitted.transform(texts) @ weights, rtol=0, atol=1e-12)
    for i in range(0, len(texts), 7):
        assert np.array_equal(fitted.decision([texts[i]], weights)[0], batch[i])


@pytest.mark.parametrize("min_df", [3, 50])
def test_small_and_empty_char_vocabularies(min_df) -> None:
    feat = Featurizer(min_df=min_df).fit(TEXTS)
    weights = np.random.default_rng(9).normal(size=(max(feat.n_features_, 1), 2))
    weights = weights[:feat.n_features_]
    for texts in (TEXTS, NEW_TEXTS):
        np.testing.assert_allclose(feat.decision(texts, weights),
                                   feat.transform(texts) @ weights, rtol=0, atol=1e-12)


def test_warm_up_builds_the_tables_and_changes_no_score() -> None:
    cold = Featurizer(min_df=1).fit(TEXTS)
    warm = Featurizer(min_df=1).fit(TEXTS)
    weights = np.random.default_rng(10).normal(size=(cold.n_features_, 2))
    warm.warm_up(weights)
    assert warm._chars is not None and warm._scores is not None
    assert warm._scores.weights is weights and "roots" in LEXICON.__dict__
    np.testing.assert_array_equal(warm.decision(NEW_TEXTS, weights),
                                  cold.decision(NEW_TEXTS, weights))


def test_edge_classes_in_numpy_equal_dict_look_ups(fitted) -> None:
    # classes() packs a form's edge characters into integers from _FEW_FORMS forms on: the
    # same classes as the dict look-ups, for forms of any length and any characters.
    import random

    from kanalml.features import _FEW_FORMS

    cross = fitted._char_tables()[1]
    names = [name for table in (*cross.suffixes, *cross.prefixes) for name in table]
    rng = random.Random(5)
    alphabet = "".join(sorted(set("".join(names)))) + "é💣\U0010ffff"
    forms = ["", "a", "ab", "x y", "💣 bom", *fitted._tokens.forms, *names]
    forms += [rng.choice(names) + rng.choice(names) for _ in range(300)]
    forms += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 7))) for _ in range(600)]
    few = [cross.classes(forms[i:i + 50]) for i in range(0, len(forms), 50)]
    assert len(forms) >= _FEW_FORMS > 50
    assert np.array_equal(cross.classes(forms), np.concatenate(few))


def test_pair_sums_add_each_text_alone(fitted) -> None:
    from kanalml.features import _cross_ngrams, _CrossTable

    weights = np.random.default_rng(11).normal(size=(fitted.n_features_, 3))
    fitted.decision(TEXTS + NEW_TEXTS, weights)  # interns the forms
    cross = fitted._char_tables()[1]
    assert isinstance(cross, _CrossTable)
    forms = [*fitted._tokens.forms, "khilafah", "x", "ab", "💣 bom"]
    classes = cross.classes(forms)
    rng = np.random.default_rng(12)
    left, right = rng.integers(0, len(forms), (2, 600))
    doc = np.sort(rng.integers(0, 40, 600))
    bulk = cross.pair_sums(doc, classes[left], classes[right], weights, 40)
    assert bulk[:, 0].max() > 0  # some pairs do cross into the vocabulary
    for d in range(40):
        at = doc == d
        alone = cross.pair_sums(np.zeros(at.sum(), dtype=np.int64), classes[left[at]],
                                classes[right[at]], weights, 1)
        assert np.array_equal(alone[0], bulk[d])
        cols = [fitted.char_vocabulary_[g] for a, b in zip(left[at], right[at])
                for g in _cross_ngrams(forms[a], forms[b], *fitted.char_ngrams)
                if g in fitted.char_vocabulary_]
        assert bulk[d, 0] == len(cols)
        np.testing.assert_allclose(bulk[d, 1:], weights[cols].sum(axis=0), rtol=0, atol=1e-12)


def test_sparse_and_gathered_sums_agree(fitted, monkeypatch) -> None:
    import kanalml.features as features

    weights = np.random.default_rng(13).normal(size=(fitted.n_features_, 3))
    texts = TEXTS + NEW_TEXTS
    gathered = fitted.decision(texts, weights)
    monkeypatch.setattr(features, "_csr_matvecs", None)  # scipy's public product
    assert np.array_equal(fitted.decision(texts, weights), gathered)


# Posts whose chunks' tokens depend on their neighbours (see preprocess.chunk_tokens): the
# cached chunk path must send them to tokenize whole, in a batch and alone.
CONTEXT_TEXTS = [
    "[quote=abu jihad]bubarkan thaghut[/quote] setuju",
    "<a href=x title='k a f i r'>link</a> khilafah",
    "hubungi 0812 3456 7890 sekarang, thaghut",
    "ini b o m 💣 bukan mainan",
    "(b . o . m) dan b.o.m 💣",
    "kata x lalu y khilafah",
    "Www.contoh.com dan www.lain.com",
    "nomor 0812&#10;3456&#10;7890 ok",
    "tegakkan khilafah!!! tegakkan, khilafah.",
]


@pytest.mark.parametrize("size", [1, 20])
def test_chunk_path_equals_reference_on_context_texts(fitted, size) -> None:
    texts = CONTEXT_TEXTS + TEXTS
    n_words = len(fitted.vocabulary_)
    for start in range(0, len(texts), size):
        batch = texts[start:start + size]
        X = fitted.transform(batch)
        assert max_abs_diff(X[:, :n_words], word_reference(fitted, batch)) < 1e-12
        assert max_abs_diff(X[:, n_words:], char_reference(fitted, batch)) < 1e-12


def test_tables_saved_and_read_back_score_the_same(fitted) -> None:
    """A featurizer rebuilt from :meth:`Featurizer.scoring_tables` (a format-2 model) scores
    as the one that built them, and reads its vocabularies only when asked."""
    from kanalml.preprocess import Preprocessor

    weights = np.random.default_rng(13).normal(size=(fitted.n_features_, 3))
    arrays, strings = fitted.scoring_tables()
    reads = []

    def read_terms():
        reads.append(1)
        words = sorted(fitted.vocabulary_, key=fitted.vocabulary_.__getitem__)
        return words, sorted(fitted.char_vocabulary_, key=fitted.char_vocabulary_.__getitem__)

    pre = Preprocessor()
    pre.stem_table_ = dict(fitted.preprocessor_.stem_table_)
    loaded = Featurizer.from_tables(fitted.get_params(), pre, dict(arrays),
                                    json.loads(json.dumps(strings)), read_terms)
    for texts in (TEXTS, NEW_TEXTS, NEW_TEXTS[:1]):
        np.testing.assert_array_equal(loaded.decision(texts, weights),
                                      fitted.decision(texts, weights))
    assert not reads
    assert (loaded.transform(NEW_TEXTS) != fitted.transform(NEW_TEXTS)).nnz == 0
    assert reads == [1] and loaded.vocabulary_ == fitted.vocabulary_
