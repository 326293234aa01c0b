"""The shipped model learned content, not the voice of the corpus's writers (issue 19).

The model that came before scored "Kalian" 0.99, "Admin" 1.00 and a line of daily prayer as a
threat: its extremist examples speak as kami to kalian and end with "hubungi admin". These
tests hold the shipped model to words and posts from real text that the project did not write.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd
import pytest
from conftest import REPO_ROOT

import kanalml
from kanalml.preprocess import LEXICON, VOICE, tokenize

REAL_TEXT = {  # real posts in data/ (data/DATA_CARD.md): file -> (text column, encoding)
    REPO_ROOT / "data" / "third_party" / "netifier_train.csv.gz": ("original_text", "utf-8"),
    REPO_ROOT / "data" / "third_party" / "ibrohim2019_re_dataset.csv.gz": ("Tweet", "latin-1"),
}
VOICE_WORDS = ["kalian", "kami", "kita", "mereka", "kamu", "antum", "admin", "mimin", "wajib"]


@pytest.fixture(scope="module")
def real_posts() -> list[str]:
    texts: list[str] = []
    for path, (column, encoding) in REAL_TEXT.items():
        texts += pd.read_csv(path, usecols=[column], encoding=encoding)[column].tolist()
    return texts


@pytest.fixture(scope="module")
def frequent_words(real_posts) -> list[str]:
    counts = Counter(t for text in real_posts for t in tokenize(text)
                     if re.fullmatch(r"[a-z]{2,}", t))
    return [word for word, _ in counts.most_common(5000)]


def test_no_frequent_real_word_alone_is_flagged(default_model, frequent_words) -> None:
    assert len(frequent_words) == 5000
    for case in (str.lower, str.capitalize):  # "kalian" and "Kalian"
        scored = kanalml.score([case(w) for w in frequent_words], model=default_model)
        flagged = [w for w, f in zip(frequent_words, scored["flagged"]) if f]
        assert flagged == [], f"{len(flagged)} words flagged alone: {flagged[:20]}"


@pytest.mark.parametrize("post", ["Kalian", "Admin", "Kami", "Mereka", "Wajib dengar", "Mimin",
                                  "Mereka bilang kami tidak bisa, tapi kami buktikan kalian "
                                  "salah", "Tunjukilah kami jalan yang lurus"])
def test_voice_alone_scores_low(default_model, post) -> None:
    assert kanalml.score(post, model=default_model)["score"] < default_model.threshold / 4


def test_no_voice_word_among_the_largest_weights(default_model) -> None:
    names = default_model.featurizer_.get_feature_names_out()
    weights = default_model.coef_[:, 0]
    top = [str(names[j]) for j in weights.argsort()[::-1][:200]]
    assert all(weights[j] > 0 for j in weights.argsort()[::-1][:200])
    hits = [n for n in top if any(t in VOICE for t in n.strip().split())]
    assert hits == [], f"voice words among the 200 largest weights: {hits}"
    for word in VOICE_WORDS:  # as a word feature, or as a whole word inside a char n-gram
        assert word not in default_model.featurizer_.vocabulary_
        assert not any(re.search(rf"(^| ){word}( |$)", n) for n in top), word


def test_evidence_never_names_a_function_word_or_pronoun(default_model, real_posts) -> None:
    written = pd.read_csv(REPO_ROOT / "data" / "extremism_corpus.csv")
    posts = written.loc[written["label"] == 1, "text"].tolist()[::4] + real_posts[::40]
    function_words = LEXICON.stopwords | VOICE
    named = Counter()
    for post in posts:
        for word, _ in default_model.explain(post, top=5):
            named[word] += 1
    bad = {w: n for w, n in named.items() if w.lower() in function_words}
    assert named and bad == {}, f"evidence names function words or pronouns: {bad}"
