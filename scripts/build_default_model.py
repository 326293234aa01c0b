"""Build the shipped default model from the Netifier training file.

    python scripts/build_default_model.py [--data ../shared/data/netifier/train.csv]

Trains with 5-fold cross-validation (every fitted step inside the folds), writes
``models/netifier-v1/`` with its model card, and prints the CV metrics.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

import pandas as pd

import kanalml
from kanalml.model import train

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["radikalisme", "sara", "pornografi", "pencemaran_nama_baik"]


def card(model: kanalml.model.Model, data: Path) -> str:
    meta = model.metadata_
    rows = "\n".join(
        f"| `{name}` | {m['positives']} | {m['average_precision']:.3f} "
        f"({min(m['average_precision_folds']):.3f}-{max(m['average_precision_folds']):.3f}) | "
        f"{m['average_precision_pooled']:.3f} | {m['roc_auc']:.3f} | "
        f"{meta['thresholds'][name]:.3f} | {m['precision']:.3f} | {m['recall']:.3f} |"
        for name, m in meta["cv"]["metrics"].items()
    )
    return f"""# kanalml default model `{ROOT.joinpath('models', 'netifier-v1').name}`

Scores Indonesian posts for extremist content (`radikalisme`, the primary score) and three
related labels. Built by `python scripts/build_default_model.py` with kanalml {kanalml.__version__}
on {meta['created']}.

## Intended use
Triage for Indonesian-speaking human moderators of **public** channels: it orders a review
queue and shows the words that drove each score. It must never trigger an automatic sanction,
takedown or report on its own; a person reviews every item.

## Training data
`netifier/train.csv` from the Netifier project (A. Izzan, C. Wibisono, I. F. Putra,
github.com/ahmadizzan/netifier), {meta['training_rows']} posts from Twitter, Instagram and Kaskus,
multi-label. License **CC BY-NC-SA 4.0**: this model is a derivative work under the same license
(attribution, non-commercial, share-alike).
File SHA-256: `{hashlib.sha256(data.read_bytes()).hexdigest()}`.

## Model
Indonesian normalization (Unicode folding, look-alikes, placeholders, leetspeak, elongation,
slang via indoNLP, stopwords with negations and pronouns kept, Sastrawi stems) -> two feature
blocks: presence of stem 1-2-grams (L2-normalized, weight {meta['params']['word_weight']}) and
character {meta['params']['char_ngrams'][0]}-{meta['params']['char_ngrams'][1]}-grams of the
normalized words and adjacent word pairs (min_df {meta['params']['min_df']}) -> per label,
naive-Bayes log-count-ratio scaling (alpha {meta['params']['nb_alpha']}) and a logistic
regression (C={meta['params']['C']}, balanced classes) -> Platt calibration on out-of-fold scores
-> per-label threshold at the best out-of-fold F0.5 (precision weighs twice: a flag spends a
moderator's time first; the ranking still brings up the rest).

## Cross-validated metrics
{meta['cv']['folds']}-fold stratified on `radikalisme`, seed {meta['cv']['random_state']}.
Every fitted step (stem table, vocabularies, NB ratios, classifier) was fitted inside each
fold. Average precision is the mean over folds (range in brackets); "pooled" ranks all
out-of-fold scores together. Precision and recall are at the threshold, on out-of-fold
calibrated probabilities.

| label | positives | AP (folds) | pooled AP | ROC-AUC | threshold | precision | recall |
|---|---|---|---|---|---|---|---|
{rows}

## Known limitations
- Labels come from 2010s Twitter/Instagram/Kaskus, not Telegram; channel propaganda differs in
  length, style and topic. Expect drift; re-measure on labelled Telegram posts before relying on
  a threshold.
- Bag-of-words: it cannot tell reporting or condemning from endorsing when the words are the
  same. News about terrorism and counter-extremism messages are the typical false positives.
- Religious vocabulary is not extremism; watch for bias against ordinary religious speech.
- Obfuscation beyond the handled forms (images, audio, new coded words) is invisible to it.
- Instagram posts in the data carry no `radikalisme` positives, so source style leaks into the
  score.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=ROOT.parent / "shared" / "data" / "netifier" / "train.csv")
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "netifier-v1")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"error: {args.data}: training file not found", file=sys.stderr)
        return 1
    frame = pd.read_csv(args.data)
    model = train(frame["original_text"], frame[LABELS],
                  progress=lambda msg: print(msg, file=sys.stderr))
    model.metadata_["training_file"] = "netifier/train.csv"
    model.metadata_["training_file_sha256"] = hashlib.sha256(args.data.read_bytes()).hexdigest()
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save(args.out, card=card(model, args.data))
    for name, m in model.metadata_["cv"]["metrics"].items():
        print(f"{name:22s} AP {m['average_precision']:.4f} (pooled "
              f"{m['average_precision_pooled']:.4f})  ROC-AUC {m['roc_auc']:.4f}  "
              f"threshold {model.metadata_['thresholds'][name]:.3f}  "
              f"P {m['precision']:.3f}  R {m['recall']:.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
