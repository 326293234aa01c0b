"""The extremism lexicon: variants share one form, ordinary words are never taken for terms."""

from __future__ import annotations

import pytest

from kanalml import lexicon
from kanalml.preprocess import LEXICON, Preprocessor, tokenize

SOURCES = {"kbbi", "uu5_2018", "ipac", "court", "arabic"}


def stems(text: str) -> list[str]:
    pre = Preprocessor()
    return [s for token in tokenize(text) for s in pre.stems(token)]


@pytest.mark.parametrize("term", lexicon.TERMS, ids=lambda t: t.form)
def test_every_variant_reaches_its_form(term) -> None:
    for variant in (term.form, *term.variants):
        assert stems(variant) == [term.form], variant


@pytest.mark.parametrize("written", [
    "thoghut", "THOGHUT", "toghut", "taghut", "th4ghut", "t.h.a.g.h.u.t", "thaghuuuut",
    "th0ghut", "#Thoghut",
])
def test_disguised_spellings_share_one_feature(written) -> None:
    assert stems(f"lawan {written} negeri") == ["lawan", "thaghut", "negeri"]


def test_unlisted_transliterations_found_by_skeleton() -> None:
    assert lexicon.canonical("thooghut") == "thaghut"
    assert lexicon.canonical("killafah") == "khilafah"
    assert lexicon.canonical("istisyhaadiyah") == "istisyhadiyah"


@pytest.mark.parametrize("word", ["ansor", "daulat", "khalifah", "perang", "sahid", "bayat",
                                  "jihat", "bara", "amalia", "rumah", "pasar"])
def test_ordinary_words_are_not_terms(word) -> None:
    assert lexicon.lookup(word) is None
    assert stems(word) != [] and stems(word)[0] not in lexicon.FORMS - {word}


def test_no_dictionary_word_is_turned_into_a_term() -> None:
    """The skeleton rule must never map an ordinary Indonesian word to a propaganda term."""
    variants = {v.replace("'", "") for t in lexicon.TERMS for v in (t.form, *t.variants)}
    taken = sorted(w for w in LEXICON.known
                   if w not in variants and lexicon.lookup(w) is not None)
    assert taken == []


def test_the_guard_kept_in_the_code_matches_the_word_lists() -> None:
    # the guard is written out to keep it off every model load; the lists it comes from are
    # PySastrawi's and indoNLP's, so a new version or a new term must show up here
    assert lexicon.ordinary_skeletons(LEXICON.known) == lexicon._ORDINARY_SKELETONS


def test_terms_are_tagged_and_sourced() -> None:
    forms = [t.form for t in lexicon.TERMS]
    assert len(forms) == len(set(forms))
    for term in lexicon.TERMS:
        assert term.category in lexicon.CATEGORIES, term
        assert term.source in SOURCES, term
    assert {t.category for t in lexicon.TERMS} == set(lexicon.CATEGORIES)


def test_domain_terms_are_not_stemmed_into_other_words() -> None:
    # Sastrawi would make "perangi" (fight them) the noun "perang" (war) of news reports.
    assert stems("perangilah mereka") == ["perangi", "mereka"]
    assert stems("perang dunia") == ["perang", "dunia"]


def test_scraped_byte_escapes_are_not_words() -> None:
    assert tokenize(r"bom dia \xf0\x9f\x98\x82 amigos") == ["bom", "dia", "amigos"]
