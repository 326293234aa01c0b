"""kanalml.stemmer against PySastrawi 1.2.1 itself, word for word: every token of the
project's corpora, every word the preprocessor stems from them, and generated affixed forms.
PySastrawi's answers are computed here, never stored."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from affixed import affixed_forms
from conftest import NETIFIER_TRAIN, REPO_ROOT, SHARED_DATA

from kanalml import preprocess, stemmer
from kanalml.preprocess import Preprocessor, tokenize

TWEETS = SHARED_DATA / "ibrohim2019" / "re_dataset.csv"


@pytest.fixture(scope="module")
def reference() -> Iterator[object]:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    yield StemmerFactory().create_stemmer()


def _mismatches(words: set[str], reference: object) -> list[tuple[str, str, str]]:
    """(word, PySastrawi's stem, ours) for every word where they differ."""
    ref = reference.stem  # type: ignore[attr-defined]
    return [(w, ref(w), stemmer.stem(w)) for w in sorted(words) if stemmer.stem(w) != ref(w)]


def _texts(corpus: str) -> list[str]:
    if corpus == "data":
        frames = [pd.read_csv(path) for path in sorted((REPO_ROOT / "data").glob("*.csv"))]
        texts = [t for frame in frames if "text" in frame for t in frame["text"].tolist()]
        assert len(texts) > 3000  # demo export, labelled demo, extremism corpus, hard negatives
        return texts
    path, column, encoding = {"netifier": (NETIFIER_TRAIN, "original_text", "utf-8"),
                              "re_dataset": (TWEETS, "Tweet", "latin-1")}[corpus]
    if not Path(path).is_file():
        pytest.skip(f"{path} is not here (shared data next to the repository)")
    return pd.read_csv(path, encoding=encoding)[column].tolist()


@pytest.mark.parametrize("corpus", ["data", "netifier", "re_dataset"])
def test_every_corpus_token_and_stemmed_word_stems_as_pysastrawi(
        corpus: str, reference: object, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = {token for text in _texts(corpus) for token in tokenize(text)}
    # The words the preprocessor stems from these tokens (decoded, deleeted, split,
    # expanded slang), recorded while PySastrawi answers for the stemmer.
    stemmed: set[str] = set()

    def recording(word: str) -> str:
        stemmed.add(word)
        return reference.stem(word) or word  # type: ignore[attr-defined]

    monkeypatch.setattr(preprocess, "_stem", recording)
    analyzer = Preprocessor()
    for token in tokens:
        analyzer.analyze_token(token)
    monkeypatch.undo()
    assert len(stemmed) > len(tokens) // 3
    assert _mismatches(tokens | stemmed, reference) == []


def test_generated_affixed_forms_stem_as_pysastrawi(reference: object) -> None:
    forms = set(affixed_forms(sorted(stemmer.default().words), 20_000, seed=22))
    stems = {stemmer.stem(form) for form in forms}
    assert len(stems) > len(forms) // 4  # not all left alone, not all one stem
    assert sum(stem in stemmer.default().words for stem in stems) > len(stems) // 4
    assert _mismatches(forms, reference) == []


# PySastrawi's quirks: each would differ from a straightforward ECS stemmer.
QUIRKS = [
    "lah", "dia", "kan", "", "   ", "a  b", "Kapal-Kapal!", "ſaya", "ıbu", "İbu", "ke\nrja",
    "pengaruh",         # rule 30: no removal when neither 30a nor 30b reaches a root
    "mengebom",         # rule 17c before 17d
    "abal-abal",        # a hyphenated root is stemmed as a plural, not looked up
    "meniru-nirukan",   # the second half gets me- back
    "malaikat-malaikat-nya", "anak-nya", "a-b-nya", "anak-", "-anak", "kata-kata-kata",
    "belajar", "pelajar", "mengajarkannya", "kebanyakan", "dimakan", "berterbangan",
    "menyebarluaskan", "pertanggungjawaban", "ketidakadilan", "tegakkannya", "kinerja",
    "gerigi", "telemaatku", "minenuhan", "delilah", "penge", "menge", "meng", "ber2an",
]


@pytest.mark.parametrize("word", QUIRKS)
def test_quirks_stem_as_pysastrawi(word: str, reference: object) -> None:
    assert _mismatches({word}, reference) == []


def test_preprocess_stems_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from Sastrawi.Stemmer.Stemmer import Stemmer

    def unused(self: object, word: str) -> str:
        raise AssertionError("PySastrawi stemmed " + word)

    monkeypatch.setattr(Stemmer, "stem_word", unused)
    assert preprocess._stem("dikirimkannyalah") == "kirim"
    assert preprocess._stem("xqzv") == "xqzv"
    assert Preprocessor().stems("dimakannya") == ("makan",)


def test_threads_share_one_stemmer() -> None:
    forms = affixed_forms(sorted(stemmer.default().words), 4000, seed=5)
    expected = [stemmer.stem(form) for form in forms]
    results: list[list[str]] = [[] for _ in range(4)]

    def run(i: int) -> None:
        results[i] = [stemmer.stem(form) for form in forms]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 4
