"""The extremism lexicon: terms of jihadist propaganda in Indonesian usage, their variants,
categories and sources.

Owns the table of terms and :func:`canonical`, which maps a spelling or transliteration
variant (``thoghut``, ``toghut``, ``taghut``) to one form (``thaghut``) so that variants share
one feature. Preprocessing calls it per distinct token, once, and caches the result. It knows
nothing about scoring: a term here is a hint for features and explanations, never a verdict.
Many terms (``jihad``, ``hijrah``, ``syahid``, ``khilafah``) have ordinary religious meanings;
the annotation guide (docs/annotation-guide.md, rule 4) says they count only with an act.

Sources, cited per term (``source``):

* ``kbbi``: the word is in Kamus Besar Bahasa Indonesia (KBBI), the standard dictionary.
* ``uu5_2018``: the notion is named in UU No. 5 Tahun 2018 (terrorism law: incitement,
  recruitment, paramilitary training) or UU No. 9 Tahun 2013 (terrorism financing).
* ``ipac``: Institute for Policy Analysis of Conflict (IPAC), public reports on Indonesian
  pro-ISIS online activity, e.g. "Online Activism and Social Media Usage among Indonesian
  Extremists" (Report No. 24, 2015), which describe this vocabulary in Indonesian channels.
* ``court``: public court rulings and government designations naming Indonesian terrorist
  organisations (e.g. the 2018 South Jakarta District Court ruling on JAD).
* ``arabic``: a standard transliteration of an Arabic term of jihadist usage, as used in the
  guide's categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

CATEGORIES = ("hasutan", "glorifikasi", "rekrutmen", "takfir", "pendanaan", "ancaman")
"""The guide's categories of extremist content (section 3), in its order of precedence."""


@dataclass(frozen=True)
class Term:
    form: str
    """The one form every variant maps to."""
    variants: tuple[str, ...]
    category: str
    source: str
    ambiguous: bool = False
    """Has an ordinary meaning too (guide rule 4): evidence only with an act."""


def _t(form: str, variants: str, category: str, source: str, ambiguous: bool = False) -> Term:
    return Term(form, tuple(variants.split()), category, source, ambiguous)


TERMS: tuple[Term, ...] = (
    # takfir and delegitimising the state
    _t("thaghut", "thoghut thogut taghut toghut thagut tagut thaghuut thoghuut taghuut thaghout "
       "thoughut thagout", "takfir", "kbbi"),
    _t("ansharut", "anshorut ansorut ansharud anshoruth", "takfir", "ipac"),
    _t("murtadin", "murtaddin murtadiin murtaddiin murtadun", "takfir", "arabic"),
    _t("murtad", "murtadd", "takfir", "kbbi", ambiguous=True),
    _t("kuffar", "kufar kuffaar kufaar", "takfir", "arabic", ambiguous=True),
    _t("musyrikin", "musyrikiin musyrikun", "takfir", "arabic", ambiguous=True),
    _t("salibis", "shalibis salibiyin shalibiyin salibiyyin", "takfir", "ipac"),
    _t("muwahhid", "muwahid muwahhidin muwahidin muwahhidun muwahidun", "takfir", "ipac"),
    _t("tawaghit", "thawaghit thowaghit tawagit", "takfir", "arabic"),
    _t("demokrasi", "dimokrasi", "takfir", "kbbi", ambiguous=True),
    # state and group
    _t("daulah", "dawlah daula daulahh", "rekrutmen", "ipac", ambiguous=True),
    _t("khilafah", "khilafa khilafaah kilafah khilafat", "rekrutmen", "kbbi",
       ambiguous=True),
    _t("anshar", "anshor ansar", "rekrutmen", "ipac", ambiguous=True),
    _t("jad", "j.a.d", "rekrutmen", "court"),
    _t("jat", "j.a.t", "rekrutmen", "court"),
    _t("mit", "m.i.t", "rekrutmen", "court", ambiguous=True),
    # recruitment, allegiance, training
    _t("baiat", "bai'at baiah bai'ah baiatt", "rekrutmen", "kbbi", ambiguous=True),
    _t("hijrah", "hijroh hijra hijrahh", "rekrutmen", "kbbi", ambiguous=True),
    _t("idad", "i'dad i'daad idaad", "rekrutmen", "uu5_2018"),
    _t("tadrib", "tadriib tadreeb", "rekrutmen", "uu5_2018"),
    _t("nafir", "nafiir nafeer", "rekrutmen", "arabic"),
    _t("ribath", "ribat ribaath", "rekrutmen", "arabic"),
    # incitement
    _t("jihad", "jihaad jehad", "hasutan", "kbbi", ambiguous=True),
    _t("qital", "qitaal", "hasutan", "arabic"),
    _t("perangi", "perangilah", "hasutan", "kbbi", ambiguous=True),
    _t("mujahidin", "mujahiddin mujahidiin mujahidun mujahideen", "hasutan", "kbbi",
       ambiguous=True),
    _t("mujahid", "mujahed", "hasutan", "kbbi", ambiguous=True),
    # glorification
    _t("amaliyah", "amaliah amaliyyah amaliyat", "glorifikasi", "ipac"),
    _t("istisyhadiyah", "istisyhadiah istisyhadiyyah istishadiyah", "glorifikasi", "arabic"),
    _t("istisyhad", "istisyhaad istishad istishhad", "glorifikasi", "arabic"),
    _t("inghimasi", "inghimasy inghimaasi ingimasi", "glorifikasi", "arabic"),
    _t("syuhada", "syuhadaa syuhadak suhada shuhada", "glorifikasi", "kbbi", ambiguous=True),
    _t("syahid", "syaheed syahiid shahid shaheed syahidah", "glorifikasi", "kbbi",
       ambiguous=True),
    _t("ghazwah", "ghazwa gazwah ghozwah", "glorifikasi", "arabic"),
    _t("pengantin", "", "glorifikasi", "ipac", ambiguous=True),
    # financing
    _t("fai", "fa'i fa'ie fay'", "pendanaan", "arabic"),
    _t("ghanimah", "ghonimah ganimah ghanima", "pendanaan", "arabic"),
    _t("infaq", "infak infaaq", "pendanaan", "kbbi", ambiguous=True),
    _t("ikhwan", "ikhwah ikhwaan", "pendanaan", "arabic", ambiguous=True),
    # threats
    _t("pembalasan", "", "ancaman", "kbbi", ambiguous=True),
    _t("densus", "", "ancaman", "uu5_2018", ambiguous=True),
)

_BY_VARIANT: dict[str, Term] = {}
for _term in TERMS:
    for _v in (_term.form, *_term.variants):
        _BY_VARIANT.setdefault(_v.replace("'", ""), _term)

# Words a skeleton would map to a term but which mean something else: NU's youth wing Ansor
# (a counter-extremism voice), sovereignty, the caliph as in "manusia khalifah di bumi", names.
_NOT_TERMS = frozenset("ansor daulat kedaulatan khalifah khalifa sahid amalia bayat jihat".split())

_DIGRAPHS = (("th", "t"), ("dh", "d"), ("kh", "k"), ("gh", "g"), ("sy", "s"), ("sh", "s"),
             ("ts", "s"), ("q", "k"), ("w", "u"), ("o", "a"), ("ee", "i"), ("iy", "i"))
_RUNS = re.compile(r"(\w)\1+")
_FIRST = itemgetter(1)  # a function, not the template r"\1": Python 3.11 expands a template
#                         in Python per match, 1.6 against 0.85 us a word (measured)


def skeleton(word: str) -> str:
    """A transliteration-blind key: digraphs folded, runs of a letter collapsed, trailing h cut.

    ``thoghut``, ``toghut`` and ``thaghut`` share ``tagut``; ``khilafa`` and ``khilafah``
    share ``kilafa``.
    """
    key = word.replace("'", "").replace("-", "")
    for a, b in _DIGRAPHS:
        key = key.replace(a, b)
    key = _RUNS.sub(_FIRST, key)
    return key[:-1] if key.endswith("h") and len(key) > 4 else key


def _skeletons(words: list[str]) -> list[str]:
    """:func:`skeleton` of many words at once: each step over the words joined by NULs, which
    no step crosses. The guard below takes ~35,000 skeletons; one at a time they were most of
    the model's warm-up (profiled)."""
    joined = "\x00".join(words)
    if joined.count("\x00") != max(len(words) - 1, 0):
        return [skeleton(w) for w in words]
    joined = joined.replace("'", "").replace("-", "")
    for a, b in _DIGRAPHS:
        joined = joined.replace(a, b)
    keys = _RUNS.sub(_FIRST, joined).split("\x00") if words else []
    return [k[:-1] if k.endswith("h") and len(k) > 4 else k for k in keys]


# Skeletons of term spellings that an ordinary word (Sastrawi's roots, the slang list, the
# stopwords) also has: the skeleton rule never matches them. Kept here rather than computed at
# every model load, where its ~35,000 skeletons took ~0.05 s CPU of the warm-up (profiled);
# tests/test_lexicon.py recomputes it from the installed word lists and with ordinary_skeletons.
_ORDINARY_SKELETONS = frozenset({"jat"})


def ordinary_skeletons(known: Iterable[str]) -> frozenset[str]:
    """The term skeletons an ordinary word of ``known`` also has (slow: for checking
    :data:`_ORDINARY_SKELETONS` when terms or word lists change; pass
    ``kanalml.preprocess.LEXICON.known``, the word lists - this module sits below
    preprocessing and does not import it)."""
    ordinary = set(_skeletons([w for w in known if w not in _BY_VARIANT]))
    return frozenset(k for k in _term_skeletons() if k in ordinary)


def _term_skeletons() -> dict[str, Term]:
    table: dict[str, Term] = {}
    for term in TERMS:
        for v in (term.form, *term.variants):
            table.setdefault(skeleton(v), term)
    return table


@lru_cache(maxsize=1)
def _by_skeleton() -> dict[str, Term]:
    """Skeleton -> term, minus any skeleton an ordinary Indonesian word also has.

    Without that guard a skeleton would turn a dictionary word into a propaganda term (the
    check runs against Sastrawi's roots, the slang list and the stopwords).
    """
    return {k: t for k, t in _term_skeletons().items()
            if k not in _ORDINARY_SKELETONS and len(k) >= 4}


def lookup(word: str) -> Term | None:
    """The term a lower-case word is a variant of, or None."""
    term = _BY_VARIANT.get(word)
    if term is None and len(word) >= 4 and word.isascii() and word.isalpha() \
            and word not in _NOT_TERMS:
        term = _by_skeleton().get(skeleton(word))
    return term


def canonical(word: str) -> str | None:
    """The one form of a domain term spelled ``word``, or None if it is no term."""
    term = lookup(word)
    return term.form if term else None


FORMS = frozenset(term.form for term in TERMS)
"""The canonical forms: kept as they are by the stemmer."""
