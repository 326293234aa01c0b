"""The default model's training set, assembled from ``data/`` alone, for the build script,
notebook 02 and benchmarks.

Three kinds of rows (see data/DATA_CARD.md):

* **written** - ``data/extremism_corpus.csv``: the training passes (``TRAIN_PASSES``), each by
  its own writer, with ``ekstremisme`` and its category per the annotation guide; Netifier's
  labels are unknown there. Each pass is one cross-validation fold, so every out-of-fold score
  of a written post comes from a model that never saw its writer. Passes ``DEV_PASS`` (the
  previous model's test pass, the development check) and ``TEST_PASS`` (the final test,
  written after the modelling choices were frozen) are never trained on.
* **netifier** - ``data/third_party/netifier_train.csv.gz`` (CC BY-NC-SA 4.0): Netifier's four
  labels, plus ``ekstremisme`` from ``data/netifier_guide_labels.csv`` (its ``radikalisme``
  posts annotated against the guide) and 0 for every other post. It keeps exactly the folds the
  earlier models used (``REAL_FOLDS`` stratified on ``radikalisme``, seed 0), so its figures
  stay comparable.
* **real** - ``data/third_party/ibrohim2019_re_dataset.csv.gz`` (CC BY-NC-SA 4.0): 13,169 real
  tweets as ``ekstremisme`` negatives (the few extremist tweets among them are stated noise);
  other labels unknown. ``REAL_FOLDS`` stratified folds on its hate-speech label, seed 0.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CORPUS = DATA / "extremism_corpus.csv"
GUIDE_LABELS = DATA / "netifier_guide_labels.csv"
NETIFIER = DATA / "third_party" / "netifier_train.csv.gz"
RE_DATASET = DATA / "third_party" / "ibrohim2019_re_dataset.csv.gz"
NETIFIER_LABELS = ["radikalisme", "sara", "pornografi", "pencemaran_nama_baik"]
PRIMARY = "ekstremisme"
TRAIN_PASSES = (1, 2, 3, 5, 6, 7, 8)
DEV_PASS = 4  # the previous model's test pass: checked during development, never trained on
TEST_PASS = 9  # the final test pass, written after the modelling choices were frozen
REAL_FOLDS = 5  # of the real posts, numbered 1..5 among the writers' folds
SEED = 0


@dataclass
class TrainingSet:
    texts: list[str]
    labels: pd.DataFrame  # ekstremisme + Netifier's labels; NaN where a row does not know one
    categories: list[str | None]
    folds: np.ndarray  # fold number per row: its pass's for written rows, 1..REAL_FOLDS else
    source: np.ndarray  # "written", "netifier" or "re_dataset" per row
    files: list[Path]  # the files the rows come from (provenance.record_training hashes them)


def _folds(key: np.ndarray) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    fold = np.zeros(len(key), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=REAL_FOLDS, shuffle=True, random_state=SEED)
    for k, (_, te) in enumerate(splitter.split(np.zeros(len(key)), key), start=1):
        fold[te] = k
    return fold


def corpus(passes: tuple[int, ...] = TRAIN_PASSES) -> pd.DataFrame:
    """The written corpus's rows of ``passes``."""
    frame = pd.read_csv(CORPUS, dtype={"text": str, "category": str, "register": str,
                                       "style": str})
    return frame[frame["pass"].isin(passes)].reset_index(drop=True)


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


def re_dataset() -> pd.DataFrame:
    """Ibrohim & Budi's tweets (Latin-1, as published) with their hate-speech labels."""
    return pd.read_csv(RE_DATASET, encoding="latin-1")


def load(passes: tuple[int, ...] = TRAIN_PASSES) -> TrainingSet:
    """The training set, from ``data/`` alone; ``passes``: the written passes it takes."""
    written = corpus(passes)
    net = netifier()
    tweets = re_dataset()
    labels = pd.concat([
        pd.DataFrame({PRIMARY: written["label"]}),
        net[[PRIMARY, *NETIFIER_LABELS]],
        pd.DataFrame({PRIMARY: np.zeros(len(tweets), dtype=np.int64)}),
    ], ignore_index=True).reindex(columns=[PRIMARY, *NETIFIER_LABELS])
    categories = [c if y == 1 else None for c, y in zip(written["category"], written["label"])]
    categories += [c if y == 1 else None for c, y in zip(net["category"], net[PRIMARY])]
    categories += [None] * len(tweets)
    writer_fold = written["pass"].map({p: k for k, p in enumerate(passes, start=1)})
    folds = np.concatenate([writer_fold.to_numpy(dtype=np.int64),
                            _folds(net["radikalisme"].to_numpy()),
                            _folds(tweets["HS"].to_numpy())])
    source = np.array(["written"] * len(written) + ["netifier"] * len(net)
                      + ["re_dataset"] * len(tweets))
    texts = written["text"].tolist() + net["original_text"].tolist() + tweets["Tweet"].tolist()
    return TrainingSet(texts, labels, categories, folds, source,
                       [CORPUS, GUIDE_LABELS, NETIFIER, RE_DATASET])
