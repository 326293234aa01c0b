"""kanalml.stemmer against PySastrawi 1.2.1: mismatches on >= 1M generated forms, and speed.

    python benchmarks/bench_stemmer.py [--forms N]

1. Exactness: ``--forms`` distinct generated forms (default 1,000,000; tests/affixed.py,
   seeded: roots of Sastrawi's dictionary and random non-words under random stacks of
   prefixes, recodings, infixes, confixes, suffixes, reduplication, and text that
   PySastrawi normalises), each stemmed by both; PySastrawi's side runs in 2 processes.
   Prints the number of mismatches (target 0) and the first ones.
2. Speed (issue 22's target: >= 20x PySastrawi on uncached words), in one process after
   the pool has finished: CPU time (time.process_time), median of 3 repetitions with the
   two stemmers alternating, words/s and the ratio. Two cases: the first 50,000 generated
   forms, and the distinct alphabetic ASCII tokens of the re_dataset tweets, the words
   kanalml stems most (skipped without the shared data). Each of PySastrawi's repetitions
   uses a fresh stemmer, so every word is new to its cache; kanalml.stemmer has no cache.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from affixed import affixed_forms  # noqa: E402

from kanalml import stemmer  # noqa: E402

TWEETS = ROOT.parent / "shared" / "data" / "ibrohim2019" / "re_dataset.csv"
TARGET_RATIO = 20.0
SPEED_SAMPLE = 50_000
CHUNK = 10_000


def pysastrawi() -> Callable[[str], str]:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stem: Callable[[str], str] = StemmerFactory().create_stemmer().stem
    return stem


def reference_chunk(words: list[str]) -> list[str]:
    stem = pysastrawi()  # a fresh cache per chunk keeps the workers' memory flat
    return [stem(w) for w in words]


def distinct_forms(n: int) -> list[str]:
    roots = sorted(stemmer.default().words)
    forms: dict[str, None] = {}
    seed = 0
    while len(forms) < n:
        forms.update(dict.fromkeys(affixed_forms(roots, n - len(forms) + n // 10, seed)))
        seed += 1
    return list(forms)[:n]


def tweet_words() -> list[str]:
    """Distinct words kanalml would stem from the re_dataset tweets, in order of first sight."""
    import pandas as pd

    from kanalml import preprocess

    seen: dict[str, None] = {}
    for text in pd.read_csv(TWEETS, encoding="latin-1")["Tweet"]:
        for token in preprocess.tokenize(text):
            if token.isalpha() and token.isascii():
                seen[token] = None
    return list(seen)


def speed(case: str, words: list[str]) -> None:
    """Median words per CPU second of 3 repetitions for each side, the sides alternating so
    that both see the same load; PySastrawi gets a fresh stemmer (an empty cache) each time."""
    times: dict[str, list[float]] = {"PySastrawi": [], "kanalml.stemmer": []}
    for _ in range(3):
        for name, stem in (("PySastrawi", pysastrawi()), ("kanalml.stemmer", stemmer.stem)):
            start = time.process_time()
            for word in words:
                stem(word)
            times[name].append(time.process_time() - start)
    theirs, ours = (len(words) / statistics.median(times[name]) for name in times)
    ratio = ours / theirs
    print(f"  {case}: PySastrawi {theirs:,.0f} words/s ({1e6 / theirs:.0f} us/word), "
          f"kanalml.stemmer {ours:,.0f} words/s ({1e6 / ours:.1f} us/word), ratio {ratio:.1f}x "
          f"(target >= {TARGET_RATIO:.0f}x: {'met' if ratio >= TARGET_RATIO else 'NOT MET'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")

    forms = distinct_forms(args.forms)
    start = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        chunks = [forms[i:i + CHUNK] for i in range(0, len(forms), CHUNK)]
        expected = [s for part in pool.imap(reference_chunk, chunks) for s in part]
    reference_s = time.perf_counter() - start
    start = time.process_time()
    ours = [stemmer.stem(form) for form in forms]
    ours_s = time.process_time() - start
    mismatches = [(f, e, o) for f, e, o in zip(forms, expected, ours) if e != o]
    changed = sum(f != o for f, o in zip(forms, ours))
    print(f"exactness: {len(forms):,} distinct generated forms, {changed:,} stemmed to another "
          f"word; mismatches with PySastrawi: {len(mismatches)} (target 0: "
          f"{'met' if not mismatches else 'NOT MET'})")
    print(f"  PySastrawi took {reference_s:.0f} s wall in 2 processes, kanalml.stemmer "
          f"{ours_s:.1f} s CPU in one")
    for form, exp, got in mismatches[:20]:
        print(f"  {form!r}: PySastrawi {exp!r}, kanalml.stemmer {got!r}")

    print("speed (CPU time, median of 3, words not seen before):")
    speed(f"the first {min(SPEED_SAMPLE, len(forms)):,} generated forms", forms[:SPEED_SAMPLE])
    if TWEETS.is_file():
        words = tweet_words()
        speed(f"the {len(words):,} distinct alphabetic tokens of the re_dataset tweets", words)
    else:
        print(f"  {TWEETS} is not here: the tweets case is skipped")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
