"""kanalml.morphology.StemScreen against PySastrawi itself: it may let a word through
needlessly, but must never rule out a word that Sastrawi stems to a target."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from conftest import DEMO_EXPORT, HARD_NEGATIVES, SHARED_DATA

from kanalml.morphology import StemScreen
from kanalml.preprocess import LEXICON, _stem

# (word, what Sastrawi stems it to): one case per way a root hides in a word.
REACHED = [
    ("makanan", "makan"),            # suffix
    ("ditegakkannya", "tegak"),      # prefix, suffix, possessive
    ("menulis", "tulis"),            # men- puts back t
    ("memukul", "pukul"),            # mem- puts back p
    ("menyapu", "sapu"),             # meny- puts back s
    ("mengirimkan", "kirim"),        # meng- puts back k
    ("memperkenalkan", "kenal"),     # two prefixes
    ("kinerja", "kerja"),            # infix -in-
    ("delilah", "lah"),              # infix, then a prefix across it
    ("minenuhan", "tuhan"),          # infix, then men- puts back t
    ("telemaatku", "taat"),          # two infixes
    ("anak-anak", "anak"),           # reduplication
    ("berbalas-balasan", "balas"),   # plural with affixes
]


@pytest.mark.parametrize(("word", "stem"), REACHED)
def test_words_that_stem_to_a_target_pass(word: str, stem: str) -> None:
    assert _stem(word) == stem  # the case is real
    assert StemScreen({stem}, LEXICON.roots)(word)


@pytest.mark.parametrize("word", ["jakarta", "sepeda", "tegakkan", "tulisan", "xqzv",
                                  "thaghut", "menyanyi", "bi", "rezim-rezim"])
def test_words_that_cannot_reach_the_targets_are_ruled_out(word: str) -> None:
    targets = {"makan", "pukul", "lah", "kafir"}
    assert _stem(word) not in targets
    assert not StemScreen(targets, LEXICON.roots)(word)


def test_a_target_that_is_no_root_is_reached_only_by_itself() -> None:
    screen = StemScreen({"thaghut"}, LEXICON.roots)
    assert screen("thaghut")
    assert not screen("thaghutnya") and not screen("menthaghut")


def _affixed(roots: list[str], n: int, seed: int) -> list[str]:
    """Random stacks of prefixes, recodings, infixes and suffixes around real roots."""
    rng = random.Random(seed)
    prefixes = ["di", "ke", "se", "ber", "be", "ter", "te", "me", "mem", "men", "meng", "meny",
                "menge", "pe", "pem", "pen", "peng", "peny", "per", "ku", "kau"]
    suffixes = ["", "i", "an", "kan", "nya", "lah", "kannya", "isme", "ku", "pun", "kah"]
    words = []
    for _ in range(n):
        root = rng.choice(roots)
        core = root[1:] if rng.random() < 0.3 else root
        if rng.random() < 0.15:
            core = root[0] + rng.choice(["el", "em", "er", "in"]) + root[1:]
        lead = "".join(rng.choice(prefixes) for _ in range(rng.randint(0, 3)))
        if rng.random() < 0.15:
            lead = rng.choice("bdgklmnprst") + rng.choice(["el", "er", "in"]) + lead
        words.append(lead + core + rng.choice(suffixes) + rng.choice(["", "", "lah", "nya"]))
    return words


def test_never_rules_out_a_word_sastrawi_stems_to_a_target() -> None:
    roots = sorted(LEXICON.roots)
    targets = set(random.Random(1).sample(roots, 3000))
    screen = StemScreen(targets, LEXICON.roots)
    words = _affixed(sorted(targets), 4000, seed=2) + _affixed(roots, 4000, seed=3)
    ruled_out = [w for w in words if not screen(w)]
    assert len(ruled_out) > len(words) // 5  # the screen does screen
    wrong = [(w, _stem(w)) for w in ruled_out if _stem(w) in targets]
    assert not wrong


def _texts() -> list[str]:
    texts = pd.read_csv(DEMO_EXPORT)["text"].tolist() + pd.read_csv(HARD_NEGATIVES)["text"].tolist()
    tweets = SHARED_DATA / "ibrohim2019" / "re_dataset.csv"
    if tweets.is_file():
        sample = pd.read_csv(tweets, encoding="latin-1")["Tweet"].sample(3000, random_state=0)
        texts += sample.tolist()
    return texts


def test_screened_scores_equal_fully_stemmed_scores() -> None:
    import kanalml
    from kanalml.api import default_model_path

    texts = _texts()
    screened = kanalml.load_model(default_model_path()).decision_function(texts)
    exact = kanalml.load_model(default_model_path())
    exact.featurizer_._tokens._screen = lambda word: True  # stem every new word
    np.testing.assert_array_equal(screened, exact.decision_function(texts))
