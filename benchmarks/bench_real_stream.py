"""The model on a real stream: extremist posts by writers it never saw, planted at 0.5% among
real Indonesian posts from sources it never trained on.

    python benchmarks/bench_real_stream.py [--model DIR] [--passes 9] [--real DIR]

Real text: a folder with ``SOURCES.json`` (a list of ``{"name", "file", "genre", "role"}``;
``role: "independent_check"`` marks scripture, reported apart and never planted) and one
gzip CSV with a ``text`` column per source: ``--real``, else ``$KANALML_REAL_TEXT``, else
``../shared/data/real`` beside the checkout. The benchmark skips (exit 0) when there is none.
Whole sources are held out: a source the model trained on (``TRAINED_SOURCES``) is left out,
and so is any other post whose token key is among the model's training keys.

Positives: the extremist posts of the written corpus's ``--passes`` (default: the final test
pass, written after the modelling choices were frozen). They are planted at ``SHARE`` among
disjoint draws of the real posts (as many draws as the real text fills, at most ``DRAWS``);
AP and P@100 are the medians over draws. Flag rates are over every held-out real post.

Prints AP, P@100, recall at the model's threshold (per writer and per register), the test
passes' own negatives flagged, real posts flagged overall and per source, scripture flagged,
and the 20 highest-scoring real posts with their evidence; then the targets of issue 19.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import training_data  # noqa: E402

import kanalml  # noqa: E402
from kanalml.model import text_key  # noqa: E402

SHARE = 0.005
DRAWS = 5
MIN_REAL = 50_000
# Sources of the real-text folder that the default model trains on (data/third_party holds
# other copies of them): never planted, never counted as held out.
TRAINED_SOURCES = {"netifier", "id_multilabel_hatespeech"}
TARGETS = {"AP": 0.90, "P@100": 0.90, "real flagged %": 0.05, "recall": 0.85,
           "register recall": 0.75, "negatives flagged %": 2.0}


def real_folder(given: str | None) -> Path | None:
    for candidate in (given, os.environ.get("KANALML_REAL_TEXT"),
                      str(ROOT.parent / "shared" / "data" / "real")):
        if candidate and (Path(candidate) / "SOURCES.json").is_file():
            return Path(candidate)
    return None


def read_real(folder: Path, model: kanalml.model.Model) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(held-out real posts with their source, scripture posts)."""
    trained = set(model.metadata_.get("training_keys", []))
    held, scripture = [], []
    for source in json.loads((folder / "SOURCES.json").read_text(encoding="utf-8")):
        if source["name"] in TRAINED_SOURCES:
            continue
        frame = pd.read_csv(folder / source["file"], usecols=["text"], dtype=str).dropna()
        frame["source"] = source["name"]
        if source.get("role") == "independent_check":
            scripture.append(frame)
            continue
        keys = frame["text"].map(text_key)
        held.append(frame[~keys.isin(trained)])
    return (pd.concat(held, ignore_index=True),
            pd.concat(scripture, ignore_index=True) if scripture else pd.DataFrame())


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, s))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory (default: the shipped model)")
    parser.add_argument("--passes", type=int, nargs="+", default=[training_data.TEST_PASS])
    parser.add_argument("--real", help="real-text folder (see the module docstring)")
    args = parser.parse_args()
    folder = real_folder(args.real)
    if folder is None:
        print("bench_real_stream: no real-text folder (--real, $KANALML_REAL_TEXT or "
              "../shared/data/real with SOURCES.json); skipped")
        return 0
    model = kanalml.load_model(args.model)
    written = training_data.corpus(tuple(args.passes))
    if written.empty:
        print(f"bench_real_stream: data/extremism_corpus.csv has no pass {args.passes}; skipped")
        return 0
    real, scripture = read_real(folder, model)
    print(f"model {args.model or 'default'} (threshold {model.threshold:.4f}); real text "
          f"{folder}: {len(real):,} held-out posts from {real['source'].nunique()} sources; "
          f"test passes {args.passes}: {int(written['label'].sum())} extremist, "
          f"{int((written['label'] == 0).sum())} not")

    def scored(texts: pd.Series) -> np.ndarray:
        return np.asarray(kanalml.score(texts.tolist(), model=model)["score"])

    threshold = model.threshold
    real_score = scored(real["text"])
    written_score = scored(written["text"])
    y = written["label"].to_numpy()
    pos = written_score[y == 1]
    per_draw = round(len(pos) * (1 - SHARE) / SHARE)
    draws = min(DRAWS, len(real) // per_draw)
    if draws == 0:
        print(f"bench_real_stream: {len(real):,} real posts cannot hold {len(pos)} positives at "
              f"{SHARE:.1%}; skipped")
        return 0
    order = np.random.default_rng(0).permutation(len(real))
    aps, p100s = [], []
    for d in range(draws):
        pick = real_score[order[d * per_draw:(d + 1) * per_draw]]
        s = np.concatenate((pos, pick))
        truth = np.concatenate((np.ones(len(pos)), np.zeros(len(pick))))
        aps.append(average_precision(truth, s))
        p100s.append(float(truth[np.argsort(-s, kind="stable")[:100]].mean()))
    flagged = real_score >= threshold
    recall = float((pos >= threshold).mean())
    neg_flagged = float((written_score[y == 0] >= threshold).mean())
    ap, p100 = float(np.median(aps)), float(np.median(p100s))
    print(f"\nplanted at {SHARE:.1%}: {len(pos)} extremist + {per_draw:,} real posts per draw, "
          f"{draws} disjoint draws ({draws * per_draw:,} real posts)")
    print(f"  AP median {ap:.4f} (draws {', '.join(f'{a:.3f}' for a in aps)})")
    print(f"  P@100 median {p100:.2f} (draws {', '.join(f'{p:.2f}' for p in p100s)})")
    print(f"  recall at the threshold {recall:.3f}; test passes' negatives flagged "
          f"{neg_flagged:.2%}")
    for column in ("pass", "register"):
        rows = written[y == 1].assign(hit=pos >= threshold).groupby(column)["hit"]
        print(f"  recall by {column}: " + ", ".join(
            f"{k} {v:.2f} ({n})" for (k, v), n in zip(rows.mean().items(), rows.size())))
    print(f"\nreal posts flagged: {int(flagged.sum()):,} of {len(real):,} "
          f"({flagged.mean():.3%})")
    by_source = real.assign(flag=flagged).groupby("source")["flag"]
    for name, share in by_source.mean().items():
        print(f"  {name:28s} {int(by_source.sum()[name]):5d} of {by_source.size()[name]:7,} "
              f"({share:.3%})")
    if not scripture.empty:
        s_flag = scored(scripture["text"]) >= threshold
        print(f"scripture (independent check, never trained on): {int(s_flag.sum())} of "
              f"{len(scripture):,} verses flagged ({s_flag.mean():.3%})")
    print("\n20 highest-scoring real posts:")
    for i in np.argsort(-real_score, kind="stable")[:20]:
        text = real["text"].iloc[i]
        evidence = ", ".join(w for w, _ in model.explain(text, top=4))
        print(f"  {real_score[i]:.3f} [{real['source'].iloc[i]}] {text[:100]!r}  <- {evidence}")
    registers = written[y == 1].assign(hit=pos >= threshold).groupby("register")["hit"].mean()
    results = {"AP": (ap, ap >= TARGETS["AP"]), "P@100": (p100, p100 >= TARGETS["P@100"]),
               "real flagged %": (100 * flagged.mean(),
                                  100 * flagged.mean() <= TARGETS["real flagged %"]),
               "recall": (recall, recall >= TARGETS["recall"]),
               "register recall": (float(registers.min()),
                                   registers.min() >= TARGETS["register recall"]),
               "negatives flagged %": (100 * neg_flagged,
                                       100 * neg_flagged <= TARGETS["negatives flagged %"])}
    print("\ntargets (issue 19):")
    for name, (value, ok) in results.items():
        print(f"  {name:20s} {value:8.4f}  target {TARGETS[name]:g}  {'met' if ok else 'MISSED'}")
    if draws * per_draw < MIN_REAL:
        print(f"  (the draws hold {draws * per_draw:,} real posts, under the {MIN_REAL:,} asked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
