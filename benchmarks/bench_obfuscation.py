"""Obfuscation suite: average precision (ekstremisme) lost when test posts are disguised.

    python benchmarks/bench_obfuscation.py

5-fold cross-validation on the default model's training set (scripts/training_data.py: the
written corpus's training passes and Netifier, in their folds) with
``kanalml.model.cross_val_decision``: every fitted step is fitted on each fold's
training part, and each view below is applied to the fold's test posts only.
Views are deterministic (seeded per view and text) and act on words outside
markup, URLs and mentions:

- leetspeak: a->4 e->3 i->1 o->0 s->5 in ~30% of words longer than 3 letters;
- elongation: one vowel repeated 3-5 times in ~30% of words of 3+ letters;
- dotted: ``b.o.m`` in ~10% of words of 3-6 letters;
- zero-width: U+200B inserted inside ~30% of words of 2+ letters;
- look-alike: Cyrillic а е о р с х (Greek ο for o in some words) in ~30% of words;
- all: all of the above, each word at most one of them.

Prints, for ekstremisme, the mean over folds of average precision per view, its drop vs
clean (target: drop <= 0.01 for every view), the per-fold drops and pooled AP; then
mean AP of the other labels, how often the default model's preprocessing maps an
obfuscated post back to the clean post's tokens, and example obfuscated posts.
Takes several minutes (each fold trains a model).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
NETIFIER = SHARED / "netifier" / "train.csv"
sys.path.insert(0, str(ROOT / "scripts"))
MODEL_DIR = ROOT / "models" / "ekstremisme-v3"
PRIMARY = "ekstremisme"
TARGET_DROP = 0.01

# Spans that are not words a poster would disguise: BBCode/HTML tags, entities,
# escaped newlines, URLs, mentions and emails. Everything else: runs of letters.
_SPAN = re.compile(r"(?P<keep>\[[^\]\n]{0,200}\]|<[^<>\n]{0,200}>|&#?\w+;|\\[nrt]"
                   r"|(?:[a-z][a-z0-9+.-]*://|www\.)\S+|[\w.+-]*@\w+(?:\.\w+)*)"
                   r"|(?P<word>[^\W\d_]+)", re.I)

_LEET = str.maketrans("aeiosAEIOS", "4310543105")
_VOWELS = "aiueoAIUEO"
_CYRILLIC = str.maketrans("aeopcxAEOPCX", "аеорсхАЕОРСХ")
_GREEK_O = str.maketrans("oO", "οΟ")
ZERO_WIDTH = "\u200b"

Transform = Callable[[str, random.Random], str]


def leet(word: str, rng: random.Random) -> str:
    return word.translate(_LEET) if len(word) > 3 else word


def elongate(word: str, rng: random.Random) -> str:
    spots = [i for i, c in enumerate(word) if c in _VOWELS]
    if len(word) < 3 or not spots:
        return word
    i = rng.choice(spots)
    return word[:i] + word[i] * rng.randint(3, 5) + word[i + 1:]


def dotted(word: str, rng: random.Random) -> str:
    return ".".join(word) if 3 <= len(word) <= 6 else word


def zero_width(word: str, rng: random.Random) -> str:
    if len(word) < 2:
        return word
    i = rng.randint(1, len(word) - 1)
    return word[:i] + ZERO_WIDTH + word[i:]


def lookalike(word: str, rng: random.Random) -> str:
    if rng.random() < 0.25:
        word = word.translate(_GREEK_O)
    return word.translate(_CYRILLIC)


TRANSFORMS: dict[str, tuple[Transform, float]] = {
    "leetspeak": (leet, 0.30),
    "elongation": (elongate, 0.30),
    "dotted": (dotted, 0.10),
    "zero-width": (zero_width, 0.30),
    "look-alike": (lookalike, 0.30),
}


def obfuscate(name: str, text: str) -> tuple[str, int, int]:
    """(text with view ``name`` applied, words, words changed); ``all``: at most one per word."""
    rng = random.Random(f"{name}\x00{text}")
    counts = [0, 0]

    def word(match: re.Match[str]) -> str:
        w = match.group("word")
        if w is None:
            return match.group()
        counts[0] += 1
        items = list(TRANSFORMS.values()) if name == "all" else [TRANSFORMS[name]]
        if name == "all":
            rng.shuffle(items)
        for transform, share in items:
            if rng.random() < share:
                changed = transform(w, rng)
                if changed != w:
                    counts[1] += 1
                    return changed
        return w

    return _SPAN.sub(word, text), counts[0], counts[1]


def make_view(name: str) -> Callable[[str], str]:
    return lambda text: obfuscate(name, text)[0]


def changed_share(texts: list[str], name: str) -> float:
    """Share of the words (letter runs outside markup/URLs/mentions) that view ``name`` changes."""
    words = changed = 0
    for text in texts:
        _, n, c = obfuscate(name, text)
        words += n
        changed += c
    return changed / max(words, 1)


def visible(text: str) -> str:
    """Zero-width characters shown as <zw>, look-alike letters as {x}, for printing."""
    marks = {c: "{" + latin + "}" for c, latin in zip("аеорсхАЕОРСХοΟ", "aeopcxAEOPCXoO")}
    return "".join("<zw>" if c == ZERO_WIDTH else marks.get(c, c) for c in text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    if not NETIFIER.is_file():
        print(f"shared data not found ({NETIFIER}); nothing to measure")
        return 0

    import numpy as np
    import training_data
    from sklearn.metrics import average_precision_score

    from kanalml.model import cross_val_decision

    data = training_data.load()
    texts = data.texts
    views = {name: make_view(name) for name in [*TRANSFORMS, "all"]}
    print(f"the default model's training set: {len(texts):,} posts, "
          f"{int(data.labels[PRIMARY].sum()):,} {PRIMARY} positives; its 5 folds, views applied "
          "to the test posts")
    started = time.perf_counter()
    cv = cross_val_decision(
        texts, data.labels, folds=data.folds, categories=data.categories, views=views,
        progress=lambda msg: print(f"  {msg} ({time.perf_counter() - started:.0f} s)",
                                   flush=True))
    names, Y, oof, fold_of = cv.names, cv.Y, cv.decisions, cv.fold_of
    print(f"cross-validation done in {time.perf_counter() - started:.0f} s")

    def fold_aps(view: str, k: int) -> np.ndarray:
        known = Y[:, k] >= 0
        return np.array([average_precision_score(Y[known & (fold_of == f), k],
                                                 oof[view][known & (fold_of == f), k])
                         for f in range(1, int(fold_of.max()) + 1)])

    k = names.index(PRIMARY)
    clean = fold_aps("clean", k)
    pos = Y[:, k] == 1
    known = Y[:, k] >= 0
    print()
    print(f"{PRIMARY}, average precision (mean over folds):")
    print(f"{'view':12} {'words changed':>13} {'mean AP':>8} {'drop':>8} "
          f"{'fold drops (min..max)':>22} {'pooled AP':>9} "
          f"{'mean Δdecision, positives':>26}  target drop <= {TARGET_DROP}")
    for view in ["clean", *views]:
        aps = fold_aps(view, k)
        drops = clean - aps
        pooled = average_precision_score(Y[known, k], oof[view][known, k])
        share = "" if view == "clean" else f"{changed_share(texts, view):.1%}"
        delta = float(np.mean(oof[view][pos, k] - oof["clean"][pos, k]))
        verdict = "" if view == "clean" else ("MET" if drops.mean() <= TARGET_DROP else "NOT MET")
        print(f"{view:12} {share:>13} {aps.mean():>8.4f} {drops.mean():>+8.4f} "
              f"{drops.min():>+10.4f}..{drops.max():<+10.4f} {pooled:>9.4f} {delta:>+26.3f}  "
              f"{verdict}")

    print()
    print("other labels, mean AP over folds (drop vs clean):")
    others = [n for n in names if n != PRIMARY]
    print(f"{'view':12} " + " ".join(f"{n:>28}" for n in others))
    for view in ["clean", *views]:
        cells = []
        for name in others:
            j = names.index(name)
            aps = fold_aps(view, j)
            base = fold_aps("clean", j).mean()
            cells.append(f"{aps.mean():.4f} ({aps.mean() - base:+.4f})")
        print(f"{view:12} " + " ".join(f"{c:>28}" for c in cells))

    # the default model's own preprocessing: do obfuscated posts map back to the clean ones?
    import kanalml
    from kanalml.preprocess import tokenize

    model = kanalml.load_model(MODEL_DIR)
    pre = model.featurizer_.preprocessor_
    sample = random.Random(0).sample(texts, 1000)

    def analysis(text: str) -> list[tuple[tuple[str, ...], str]]:
        return [pre.analyze_token(t) for t in tokenize(text)]

    print()
    print("default model's preprocessing, 1,000 random posts: share whose obfuscated form")
    print("gives exactly the clean post's stems and word forms (what the features see)")
    for view, fn in views.items():
        same = sum(analysis(fn(t)) == analysis(t) for t in sample)
        print(f"  {view:12} {same / len(sample):6.1%}")

    print()
    print(f"examples ({PRIMARY} positives that every view changes; <zw> = U+200B,\n"
          "{x} = Cyrillic/Greek look-alike of x):")
    shown = 0
    for text in (t for t, y in zip(texts, Y[:, k]) if y == 1):
        if not (60 <= len(text) <= 160) or "[" in text \
                or not all(obfuscate(view, text)[2] for view in views):
            continue
        print(f"  original   : {text}")
        for view, fn in views.items():
            print(f"  {view:11}: {visible(fn(text))}")
        print()
        shown += 1
        if shown == 3:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
