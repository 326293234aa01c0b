"""PySastrawi 1.2.1's ``stem()``, reimplemented exactly and much faster.

Owns: what ``StemmerFactory().create_stemmer().stem(text)`` returns for any str - its text
normalisation, plural handling (``kata-kata``, ``malaikat-malaikat-nya``,
``meniru-nirukan``) and the ECS confix stripping of each word, with its dictionary
(``kata-dasar.txt``, read through PySastrawi), its rule order and precedence, its
disambiguators' choices and loop-pengembalian-akhiran, quirks included. Must not know
kanalml's tokens, slang, stopwords or models: ``kanalml.preprocess`` decides what to stem.

How (PySastrawi's ``Sastrawi/Stemmer`` modules, read as a specification):

* A word's stem depends only on the word and the dictionary, so the Visitor/Context
  objects become plain functions over str: a list of suffix removals is the only state
  loop-pengembalian-akhiran needs, and the word restored before it is always the
  original word.
* A prefix round tries PySastrawi's 41 prefix visitors in order until one removes
  something. Each rule's regex is a test on the word's first letters, so a round only
  tries the rules for its first letter (``b``: rules 1-5, ``m``: 10-19, ...) and the
  infix rules 37-40, written as slices and set tests (no regex). Rounds 2 and 3 of a
  ``remove_prefixes`` are skipped when round 1 removed nothing: they would see the same
  word.
* PySastrawi computes each removed part with ``re.sub(result, '', word)``, compiling a
  new pattern per word, and its ~60 fixed patterns go through ``re``'s 512-entry cache,
  which new words keep evicting: 37% of its time on new words is ``re._compile``
  (cProfile). The removed part is the word's tail here; the rest is its interpretive
  overhead (objects, visitors, a regex per rule tried).

Measured (``benchmarks/bench_stemmer.py``, one run, CPU time, medians of 3, words new to
both): 1.6 us a word against PySastrawi's 70 us on the re_dataset tweets' distinct words
(44.9x), 3.9 us against 202 us on generated affixed forms (51.3x); 0 mismatches on 1M
generated forms. No table of affixed forms: a dict of 1M generated forms took 55 MB
beyond its keys (tracemalloc) and ~16 s CPU to build, to save ~4 us on the words it holds
only; any other word would still take this path. tests/test_stemmer.py checks every
corpus token and every word the preprocessor stems from them against PySastrawi.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

_VOWELS = frozenset("aiueo")
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxyz")  # PySastrawi's [bcdfghjklmnpqrstvwxyz]
_NOT_R = _CONSONANTS - {"r"}  # rule 5's class
_NO_LMNRWY = frozenset("bcdfghjkpqstvxz")  # rules 35 and 36
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")  # [a-z], ASCII without re.IGNORECASE
_MEMP_NEXT = _LETTERS - {"e", "n"}  # rule 19
_INFIXES = frozenset(("er", "el", "em", "in"))  # rules 37-40
# Letters the rules name; sets, since a slice past the end ("") is in every str.
_LRWY, _BFV, _CDJSTZ, _GHQK, _WY = map(frozenset, ("lrwy", "bfv", "cdjstz", "ghqk", "wy"))
_PARTICLES = ("lah", "kah", "tah", "pun")
_POSSESSIVES = ("nya", "ku", "mu")
_PLURAL_SUFFIXES = frozenset(("ku", "mu", "nya", "lah", "kah", "tah", "pun"))
# Sastrawi.Stemmer.Filter.TextNormalizer's patterns and flags, verbatim.
_NOT_KEPT = re.compile(r"[^a-z0-9 -]", re.IGNORECASE | re.MULTILINE)
_SPACES = re.compile(r"( +)", re.IGNORECASE | re.MULTILINE)
# Text that normalisation leaves as it is and that is one word.
_NORMAL_WORD = re.compile(r"[a-z0-9-]*")


def normalize(text: str) -> str:
    """TextNormalizer.normalize_text: lower case, other characters to spaces, spaces squeezed."""
    return _SPACES.sub(" ", _NOT_KEPT.sub(" ", text.lower())).strip()


class Stemmer:
    """``stem(text)`` equals PySastrawi 1.2.1's ``stem(text)`` for a stemmer on ``words``.

    Immutable after construction, so one instance serves every thread.
    """

    def __init__(self, words: Iterable[str]) -> None:
        # ArrayDictionary.add skips empty and blank entries.
        self.words = frozenset(w for w in words if w and w.strip())

    def stem(self, text: str) -> str:
        """Stems of the words of ``text`` after normalisation, space-joined."""
        if _NORMAL_WORD.fullmatch(text):
            return self._stem_word(text)
        return " ".join(self._stem_word(word) for word in normalize(text).split(" "))

    def _stem_word(self, word: str) -> str:
        # Stemmer.is_plural: a hyphen, not counting a last "-nya"-like suffix.
        if "-" not in word:
            return self._singular(word)
        head, _, tail = word.rpartition("-")
        if tail in _PLURAL_SUFFIXES and "-" not in head:
            return self._singular(word)
        return self._plural(word, head, tail)

    def _plural(self, plural: str, first: str, second: str) -> str:
        """Stemmer.stem_plural_word, given the word split at its last hyphen."""
        if second in _PLURAL_SUFFIXES and "-" in first:  # malaikat-malaikat-nya
            first, _, rest = first.rpartition("-")
            second = rest + "-" + second
        stem1 = self._singular(first)
        stem2 = self._singular(second)
        if stem2 == second and second not in self.words:  # meniru-nirukan
            stem2 = self._singular("me" + second)
        return stem1 if stem1 == stem2 else plural

    def _singular(self, word: str) -> str:
        """Context.execute: the first dictionary word the ECS steps reach, else ``word``."""
        words = self.words
        if word in words:
            return word
        short = len(word) <= 3  # DontStemShortWord stops each later visitor list after one
        if _prefix_first(word):  # PrecedenceAdjustmentSpecification
            current = self._remove_prefixes(word, short)
            if current in words:
                return current
            current = self._remove_suffixes(current, short, None)
            if current in words:
                return current
        removals: list[tuple[str, str]] = []  # (word before, word after) of suffix removals
        current = self._remove_suffixes(word, short, removals)
        if current in words:
            return current
        current = self._remove_prefixes(current, short)
        if current in words:
            return current
        # Loop pengembalian akhiran: put suffixes back, innermost first, and strip prefixes.
        for before, after in reversed(removals):
            if before == after + "kan":  # the removed part is "kan"
                current = self._remove_prefixes(after + "k", short)
                if current in words:
                    return current
            current = self._remove_prefixes(before, short)
            if current in words:
                return current
        return word

    def _remove_suffixes(self, word: str, short: bool,
                         removals: list[tuple[str, str]] | None) -> str:
        """Particle, possessive, derivational suffix: each visitor list stops at a
        dictionary word, and after the first visitor for a short word."""
        words = self.words
        if word.endswith(_PARTICLES):  # -*(lah|kah|tah|pun)$
            result = word[:-3].rstrip("-")
            if removals is not None:
                removals.append((word, result))
            word = result
        if word in words or short:
            return word
        if word.endswith(_POSSESSIVES):  # -*(ku|mu|nya)$
            result = word[:-3 if word.endswith("nya") else -2].rstrip("-")
            if removals is not None:
                removals.append((word, result))
            word = result
            if word in words:
                return word
        # (is|isme|isasi|i|kan|an)$: the leftmost match is the longest suffix.
        if word.endswith("i"):
            result = word[:-5] if word.endswith("isasi") else word[:-1]
        elif word.endswith("s"):
            result = word[:-2] if word.endswith("is") else word
        elif word.endswith("isme"):
            result = word[:-4]
        elif word.endswith("an"):
            result = word[:-3] if word.endswith("kan") else word[:-2]
        else:
            return word
        if result != word and removals is not None:
            removals.append((word, result))
        return result

    def _remove_prefixes(self, word: str, short: bool) -> str:
        """Context.remove_prefixes: up to three rounds, stopping at a dictionary word."""
        words = self.words
        for _ in range(3):
            result = self._prefix_round(word, short)
            if result is None:  # the next rounds would see the same word
                return word
            word = result
            if word in words:
                return word
        return word

    def _prefix_round(self, word: str, short: bool) -> str | None:
        """The word after the first prefix visitor that removes something, or None."""
        if word.startswith(("di", "ke", "se")):  # RemovePlainPrefix
            return word[2:]
        # Each visitor list stops after its first visitor at a dictionary word or when
        # the word is short.
        if short or word in self.words:
            return None
        first = word[:1]
        if first == "m":
            found = self._me(word)
        elif first == "p":
            found = self._pe(word)
        elif first == "b":
            found = self._be(word)
        elif first == "t":
            found = self._te(word)
        else:
            found = None
        if found is not None:
            return found
        if first in _CONSONANTS and word[1:3] in _INFIXES and word[3:4] in _VOWELS:
            return first + word[3:]  # rules 37-40: the a-variant keeps the word, not a root
        if first == "k":
            if word.startswith("ku"):  # rule 41
                return word[2:]
            if word.startswith("kau"):  # rule 42
                return word[3:]
        return None

    def _either(self, first: str, second: str) -> str:
        """A two-disambiguator visitor: the first result if it is a dictionary word."""
        return first if first in self.words else second

    def _be(self, word: str) -> str | None:
        """Rules 1-5."""
        if word.startswith("ber"):
            third = word[3:4]
            if third in _VOWELS:  # 1a, 1b
                return self._either(word[3:], "r" + word[3:])
            if third in _CONSONANTS and word[4:5] in _LETTERS:
                if not word.startswith("er", 5):  # 2
                    return word[3:]
                if third != "r" and word[7:8] in _VOWELS:  # 3
                    return word[3:]
        if word == "belajar":  # 4
            return "ajar"
        if word[2:3] in _NOT_R and word.startswith("be") and word.startswith("er", 3) \
                and word[5:6] in _CONSONANTS:  # 5
            return word[2:]
        return None

    def _te(self, word: str) -> str | None:
        """Rules 6-9 and 35."""
        if word.startswith("ter"):
            third = word[3:4]
            if third in _VOWELS:  # 6a, 6b
                return self._either(word[3:], "r" + word[3:])
            if third in _CONSONANTS and third != "r":
                if word.startswith("er", 4):
                    if word[6:7] in _VOWELS:  # 7
                        return word[3:]
                else:  # 8
                    return word[3:]
        if word.startswith("te") and word[2:3] in _NOT_R and word.startswith("er", 3) \
                and word[5:6] in _CONSONANTS:  # 9
            return word[2:]
        if word.startswith("ter") and word[3:4] in _NO_LMNRWY and word.startswith("er", 4) \
                and word[6:7] in _CONSONANTS:  # 35
            return word[3:]
        return None

    def _me(self, word: str) -> str | None:
        """Rules 10-19."""
        if not word.startswith("me"):
            return None
        third = word[2:3]
        if third in _LRWY and word[3:4] in _VOWELS:  # 10
            return word[2:]
        if third == "m":
            fourth = word[3:4]
            if fourth in _BFV:  # 11
                return word[3:]
            if word.startswith("pe", 3):  # 12
                return word[3:]
            if fourth in _VOWELS:  # 13a, 13b
                return self._either("m" + word[3:], "p" + word[3:])
            if fourth == "p" and word[4:5] in _MEMP_NEXT:  # 19
                return word[3:]
            return None
        if third != "n":
            return None
        fourth = word[3:4]
        if fourth in _CDJSTZ:  # 14
            return word[3:]
        if fourth in _VOWELS:  # 15a, 15b
            return self._either("n" + word[3:], "t" + word[3:])
        if fourth == "g":
            fifth = word[4:5]
            if fifth in _GHQK:  # 16
                return word[4:]
            if fifth in _VOWELS:  # 17a-d
                words, rest = self.words, word[4:]
                if rest in words:
                    return rest
                if "k" + rest in words:
                    return "k" + rest
                if fifth == "e" and word[5:] in words:
                    return word[5:]
                return "ng" + rest
            return None
        if fourth == "y" and word[4:5] in _VOWELS:  # 18a, 18b
            return self._either("ny" + word[4:], "s" + word[4:])
        return None

    def _pe(self, word: str) -> str | None:
        """Rules 20-34 and 36."""
        if not word.startswith("pe"):
            return None
        words = self.words
        third, fourth = word[2:3], word[3:4]
        if third in _WY and fourth in _VOWELS:  # 20
            return word[2:]
        if third == "r":
            if fourth in _VOWELS:  # 21a, 21b
                return self._either(word[3:], word[2:])
            if fourth in _CONSONANTS and word[4:5] in _LETTERS:
                if not word.startswith("er", 5):  # 23
                    return word[3:]
                if fourth != "r" and word[7:8] in _VOWELS:  # 24
                    return word[3:]
        elif third == "m":
            if fourth in _BFV:  # 25
                return word[3:]
            if fourth in _VOWELS:  # 26a, 26b
                return self._either("m" + word[3:], "p" + word[3:])
        elif third == "n":
            if fourth in _CDJSTZ:  # 27
                return word[3:]
            if fourth in _VOWELS:  # 28a, 28b
                return self._either("n" + word[3:], "t" + word[3:])
            fifth = word[4:5]
            if fourth == "g":
                if fifth in _CONSONANTS:  # 29
                    return word[4:]
                if fifth in _VOWELS:  # 30a-c: no removal when none applies
                    rest = word[4:]
                    if rest in words:
                        return rest
                    if "k" + rest in words:
                        return "k" + rest
                    if fifth == "e":
                        return word[5:]
            elif fourth == "y" and fifth in _VOWELS:  # 31a, 31b
                return self._either("ny" + word[4:], "s" + word[4:])
        if word == "pelajar":  # 32
            return "ajar"
        if third == "l" and fourth in _VOWELS:  # 32
            return word[2:]
        if third in _CONSONANTS and not word.startswith("er", 3):  # 34
            return word[2:]
        if third in _NO_LMNRWY and word.startswith("er", 3) and word[5:6] in _CONSONANTS:  # 36
            return word[2:]
        return None


def _prefix_first(word: str) -> bool:
    """PrecedenceAdjustmentSpecification: be-lah, be-an, me-i, di-i, pe-i, ter-i."""
    # The affixes cannot overlap in a word, so no length test is needed.
    if word.endswith("i"):
        return word.startswith(("me", "di", "pe", "ter"))
    return word.startswith("be") and word.endswith(("lah", "an"))


_LOCK = threading.Lock()
_DEFAULT: list[Stemmer] = []


def default() -> Stemmer:
    """The stemmer on PySastrawi's own dictionary, built on first use (~30 ms)."""
    if not _DEFAULT:
        with _LOCK:
            if not _DEFAULT:
                from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

                _DEFAULT.append(Stemmer(StemmerFactory().get_words()))
    return _DEFAULT[0]


def stem(text: str) -> str:
    """PySastrawi 1.2.1's ``stem(text)``, on its own dictionary."""
    return default().stem(text)
