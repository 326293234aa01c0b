"""Which words Sastrawi could stem to one of a given set of stems, told without stemming.

Stemming a word Sastrawi has not seen costs about 0.1 ms, most of a new post's
scoring cost. A model only needs the stems it has a column for: any other stem
scores zero. :class:`StemScreen` rules words out with Sastrawi's own affix rules
(PySastrawi 1.2.1, ``Sastrawi/Morphology/Disambiguator``) read as a necessary
condition, so a word it rules out cannot stem to a target:

* Sastrawi returns the word itself or a dictionary root;
* a root is what is left of the word after removing at most one particle
  (lah, kah, tah, pun), one possessive (ku, mu, nya) and one derivational
  suffix (i, kan, an, is, isme, isasi), then up to three rounds of prefixes
  (di, ke, se, ber, ter, me(ng|ny|m|n), pe(ng|ny|m|n|r), ku, kau and their
  variants) or infixes (el, em, er, in after the first letter);
* a prefix may put back one letter it replaced (``menulis`` -> ``tulis``), so
  only the root's first letter may be missing from the word, and the letters
  before the root must read as removal rounds.

The screen errs only one way: a word it lets through may still stem elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PARTICLES = ("lah", "kah", "tah", "pun")
_POSSESSIVES = ("ku", "mu", "nya")
_DERIVATIONAL = ("i", "kan", "an", "is", "isme", "isasi")
_PREFIXES = ("di|ke|se|be|ber|bel|te|ter|me|mem|men|meng|menge|meny|pe|pem|pen|peng|penge"
             "|peny|per|pel|ku|kau")
# A removal round in the letters before the root: a prefix; what is left of a prefix
# whose first letter an earlier round put back (menyeberang -> seberang -> berang
# strips "meny" + "e"); an infix, after a consonant or not (delilah -> dilah -> lah,
# mengelas -> kelas -> kas).
_ROUND = (rf"{_PREFIXES}|i|e|u|au|em|en|eng|enge|eny|er|el|in"
          r"|[b-df-hj-np-tv-z](?:el|em|er|in)")
# Prefixes that replace the root's first letter (meng+k, mem+p, meny+s, men+t), whole
# or after an infix round kept their first letter (minenuhan -> menuhan -> tuhan).
_RECODING = "meng|peng|mem|pem|meny|peny|men|pen|eng|em|eny|en"
_LEAD = re.compile(rf"(?:{_ROUND}){{0,3}}")
_LEAD_RECODED = re.compile(rf"(?:{_ROUND}){{0,2}}(?:{_RECODING})")
_INFIXES = ("el", "em", "er", "in")
_PLURAL_SUFFIX = re.compile(r"-(?:ku|mu|nya|lah|kah|tah|pun)$")


class StemScreen:
    """``screen(word)`` is False only if Sastrawi cannot stem ``word`` to any of ``targets``.

    ``roots`` is Sastrawi's dictionary: only those targets can be reached from
    another word; any other target is reached only by the word itself.
    """

    def __init__(self, targets: Iterable[str], roots: Iterable[str]) -> None:
        self.targets = frozenset(targets)
        self._roots = self.targets & frozenset(roots)
        self._first_letters: dict[str, str] = {}
        for root in self._roots:
            self._first_letters[root[1:]] = self._first_letters.get(root[1:], "") + root[0]

    def __call__(self, word: str) -> bool:
        if word in self.targets:
            return True
        if "-" not in word:
            return self._singular(word)
        # Sastrawi's plural rule: "a-b" stems to the shared stem of a and b, or stays.
        left, _, right = word.partition("-")
        if "-" in right or _PLURAL_SUFFIX.search(word):
            return True
        return left in self.targets or self._singular(left)

    def _singular(self, word: str) -> bool:
        if len(word) <= 3:  # Sastrawi leaves words this short as they are
            return False
        bases = {word}
        for suffixes in (_PARTICLES, _POSSESSIVES, _DERIVATIONAL):
            bases |= {b[:-len(s)] for b in bases for s in suffixes if b.endswith(s)}
        return any(self._reaches(base) for base in bases)

    def _reaches(self, base: str) -> bool:
        """Could a target root be ``base`` with prefixes and infixes removed?"""
        roots, first_letters = self._roots, self._first_letters
        for k in range(len(base)):
            tail, lead = base[k:], base[:k]
            if tail in roots and _LEAD.fullmatch(lead):
                return True
            firsts = first_letters.get(tail)
            if firsts is None:
                continue
            if _LEAD_RECODED.fullmatch(lead):  # the root's first letter was put back
                return True
            head = lead  # the root's first letter, then infixes removed from after it
            for _ in range(3):
                if head[-2:] not in _INFIXES:
                    break
                head = head[:-2]
                if head and head[-1] in firsts and _LEAD.fullmatch(head[:-1]):
                    return True
                if _LEAD_RECODED.fullmatch(head):
                    return True
        return False
