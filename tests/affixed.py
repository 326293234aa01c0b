"""Generated affixed forms of Sastrawi's roots, for the stemmer's test and benchmark.

Each form is a root of Sastrawi's dictionary (or, one time in eight, a random string of
letters: a non-word) with a random stack of what Sastrawi's rules look for: plain and
nasal prefixes, the nasal's recoding (``menulis`` from ``tulis``), infixes, confixes,
derivational suffixes, possessives and particles (with and without a hyphen), and
reduplication. Combinations are drawn independently, so most are not Indonesian: invalid
stacks exercise the rules' order as much as valid words do. One form in forty goes through
PySastrawi's text normalisation (case, punctuation, spaces, digits, non-ASCII letters).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

PREFIXES = ("di", "ke", "se", "ber", "be", "bel", "ter", "te", "me", "mem", "men", "meng",
            "meny", "menge", "mempe", "memp", "pe", "pem", "pen", "peng", "peny", "penge", "per",
            "pel", "ku", "kau", "memper", "diper", "keber", "seper", "ter")
# A nasal prefix takes the place of these first letters (meN-, peN- recoding).
RECODING = {"k": ("meng", "peng"), "p": ("mem", "pem"), "s": ("meny", "peny"), "t": ("men", "pen"),
            "m": ("mem", "pem"), "n": ("men", "pen")}
CONFIXES = (("ke", "an"), ("pe", "an"), ("per", "an"), ("ber", "an"), ("peng", "an"),
            ("pem", "an"), ("pen", "an"), ("peny", "an"), ("se", "nya"), ("me", "kan"),
            ("me", "i"), ("di", "kan"), ("di", "i"), ("memper", "kan"), ("memper", "i"),
            ("diper", "kan"), ("ter", "kan"), ("ter", "i"), ("ber", "kan"), ("ke", "i"),
            ("be", "lah"), ("pe", "i"))
DERIVATIONAL = ("i", "an", "kan", "is", "isme", "isasi")
POSSESSIVES = ("ku", "mu", "nya", "-ku", "-mu", "-nya")
PARTICLES = ("lah", "kah", "tah", "pun", "-lah", "-pun")
INFIXES = ("el", "em", "er", "in")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def affixed_forms(roots: Sequence[str], n: int, seed: int) -> list[str]:
    """``n`` forms (repeats possible) from ``roots``, the same for the same seed."""
    rng = random.Random(seed)
    return [_form(roots, rng) for _ in range(n)]


def _form(roots: Sequence[str], rng: random.Random) -> str:
    if rng.random() < 0.125:
        root = "".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 9)))
    else:
        root = rng.choice(roots)
    core = root
    if rng.random() < 0.1 and len(core) > 1:
        core = core[0] + rng.choice(INFIXES) + core[1:]
    lead, end = "", ""
    shape = rng.random()
    if shape < 0.25 and core[0] in RECODING:
        lead = rng.choice(RECODING[core[0]])
        core = core[1:]
    elif shape < 0.45:
        lead, end = rng.choice(CONFIXES)
    elif shape < 0.55:
        core = core[1:]  # a recoding with any prefix, valid or not
    lead = "".join(rng.choice(PREFIXES) for _ in range(rng.choice((0, 0, 1, 1, 2)))) + lead
    if not end and rng.random() < 0.5:
        end = rng.choice(DERIVATIONAL)
    if rng.random() < 0.3:
        end += rng.choice(POSSESSIVES)
    if rng.random() < 0.2:
        end += rng.choice(PARTICLES)
    word = lead + core + end
    kind = rng.random()
    if kind < 0.06:  # kata-kata, berbalas-balasan, anak-anaknya
        word = rng.choice((root, word)) + "-" + rng.choice((root, word, core + end))
    elif kind < 0.07:  # meniru-nirukan
        word = word + "-" + root[1:] + rng.choice(("", "kan", "an", "i"))
    elif kind < 0.08:  # malaikat-malaikat-nya, three parts
        word = f"{root}-{word}-{rng.choice(POSSESSIVES + PARTICLES).lstrip('-')}"
    elif kind < 0.085:
        word = rng.choice(("-", "--", "2", "a-", "")) + word + rng.choice(("-", "2", "-an", ""))
    elif kind < 0.11:  # PySastrawi's text normalisation
        word = rng.choice((word.upper(), word.title(), f"{word} {root}", f"{word}, {root}!",
                           f" {word}\t", "ſ" + word, word + "ı", "İ" + word,
                           word.replace("a", "á"), word + "\n", f"{word}2{root}", ""))
    return word
