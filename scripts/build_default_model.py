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
from kanalml.card import LIMITATIONS, NETIFIER_DATA, model_card
from kanalml.model import train

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["radikalisme", "sara", "pornografi", "pencemaran_nama_baik"]


def card(model: kanalml.model.Model, data: Path) -> str:
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    return model_card(
        model, "netifier-v1", built_by="python scripts/build_default_model.py",
        data=f"{NETIFIER_DATA}\nFile SHA-256: `{digest}`.",
        limitations=LIMITATIONS + "\n- Instagram posts in the data carry no `radikalisme` "
                                  "positives, so source\n  style leaks into the score.")


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
