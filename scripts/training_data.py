"""The default model's training set, assembled in one place for the build script and benchmarks.

Two sources, each split into its own 5 stratified folds (seed 0):

* ``data/extremism_corpus.csv``, passes 1-3 (pass 4 is the held-out test pass, written after
  the modelling choices were frozen; see data/DATA_CARD.md): ``ekstremisme`` and its category
  per the annotation guide; Netifier's labels are unknown there.
* ``../shared/data/netifier/train.csv``: Netifier's four labels, plus ``ekstremisme`` from
  ``data/netifier_guide_labels.csv`` (the 1,154 ``radikalisme`` posts annotated against the
  guide) and 0 for every other post. Netifier rows keep exactly the folds the earlier
  Netifier-only models used (stratified on ``radikalisme``), so its figures stay comparable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "extremism_corpus.csv"
GUIDE_LABELS = ROOT / "data" / "netifier_guide_labels.csv"
NETIFIER = ROOT.parent / "shared" / "data" / "netifier" / "train.csv"
NETIFIER_LABELS = ["radikalisme", "sara", "pornografi", "pencemaran_nama_baik"]
PRIMARY = "ekstremisme"
TEST_PASS = 4
FOLDS = 5
SEED = 0


@dataclass
class TrainingSet:
    texts: list[str]
    labels: pd.DataFrame  # ekstremisme + Netifier's labels; NaN where a row does not know one
    categories: list[str | None]
    folds: np.ndarray  # fold number (1..FOLDS) per row
    source: np.ndarray  # "corpus" or "netifier" per row
    files: list[Path]  # the files the rows come from (provenance.record_training hashes them)


def _folds(key: np.ndarray) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    fold = np.zeros(len(key), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for k, (_, te) in enumerate(splitter.split(np.zeros(len(key)), key), start=1):
        fold[te] = k
    return fold


def corpus(test: bool = False) -> pd.DataFrame:
    """The written corpus: the training passes, or with ``test`` the held-out pass only."""
    frame = pd.read_csv(CORPUS, dtype={"text": str, "category": str})
    return frame[(frame["pass"] == TEST_PASS) == test].reset_index(drop=True)


def netifier() -> pd.DataFrame:
    """Netifier's posts with ``ekstremisme`` and ``category`` from the guide annotation."""
    frame = pd.read_csv(NETIFIER)
    guide = pd.read_csv(GUIDE_LABELS).set_index("row")
    texts = frame.loc[guide.index, "original_text"]
    hashes = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    if hashes != guide["sha256"].tolist():
        raise SystemExit(f"{GUIDE_LABELS}: hashes do not match {NETIFIER} (another version?)")
    frame[PRIMARY] = 0
    frame.loc[guide.index, PRIMARY] = guide["ekstremisme"]
    frame["category"] = None
    frame.loc[guide.index, "category"] = guide["category"]
    return frame


def load() -> TrainingSet:
    """The training set; exits with a message when ../shared is not beside the checkout."""
    if not NETIFIER.is_file():
        raise SystemExit(f"{NETIFIER}: not found (the shared data must be beside the checkout)")
    written = corpus()
    net = netifier()
    labels = pd.concat([
        pd.DataFrame({PRIMARY: written["label"]}).reindex(columns=[PRIMARY, *NETIFIER_LABELS]),
        net[[PRIMARY, *NETIFIER_LABELS]],
    ], ignore_index=True)
    categories = [c if y == 1 else None for c, y in zip(written["category"], written["label"])]
    categories += [c if y == 1 else None for c, y in zip(net["category"], net[PRIMARY])]
    written_key = written["label"].astype(str) + written["category"]
    folds = np.concatenate([_folds(written_key.to_numpy()),
                            _folds(net["radikalisme"].to_numpy())])
    source = np.array(["corpus"] * len(written) + ["netifier"] * len(net))
    return TrainingSet(written["text"].tolist() + net["original_text"].tolist(), labels,
                       categories, folds, source, [CORPUS, GUIDE_LABELS, NETIFIER])
