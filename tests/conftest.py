"""Shared fixtures: paths, a small synthetic training corpus and models trained on it.

The corpus is written here, from short hand-made Indonesian fragments combined
with a seeded RNG: generic extremist slogans (label ``radikalisme``), everyday
posts, and shop promotions (label ``promosi``). It is small so that training
takes well under a second; it is clear-cut so that a trained model has a real
signal to find.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
NETIFIER_TRAIN = SHARED_DATA / "netifier" / "train.csv"
HARD_NEGATIVES = REPO_ROOT / "data" / "hard_negatives.csv"
DEMO_EXPORT = REPO_ROOT / "data" / "demo_export.csv"
DEFAULT_LABELS = ["ekstremisme", "radikalisme", "sara", "pornografi", "pencemaran_nama_baik"]
SMALL_LABELS = ["radikalisme", "promosi"]

# Generic slogans only: no targets, no instructions.
RADICAL = [
    "bubarkan pemerintah thaghut",
    "tegakkan khilafah di bumi ini",
    "demokrasi adalah sistem kafir",
    "hukum buatan manusia adalah hukum thaghut",
    "para penguasa murtad tidak layak ditaati",
    "jihad melawan rezim thaghut adalah kewajiban",
    "mati syahid adalah cita-cita tertinggi",
    "tolak pancasila, tegakkan daulah islamiyah",
    "kaum kafir adalah musuh umat",
    "hanya khilafah solusi umat",
    "aparat adalah ansharut thaghut",
    "bersiaplah mati syahid demi khilafah",
    "kafirkan pendukung demokrasi",
    "rezim murtad wajib dilawan dengan jihad",
]
EVERYDAY = [
    "cuaca hari ini cerah berawan",
    "jalan sudirman macet parah pagi ini",
    "nanti sore hujan deras, bawa payung",
    "makan siang nasi padang enak banget",
    "timnas menang dua kosong tadi malam",
    "anak-anak libur sekolah minggu depan",
    "harga cabai di pasar naik lagi",
    "kereta commuter terlambat sepuluh menit",
    "selamat ulang tahun ibu tercinta",
    "besok kerja bakti membersihkan selokan",
    "film baru di bioskop seru sekali",
    "antrian di bank panjang sekali hari ini",
]
PROMO = [
    "diskon lima puluh persen khusus hari ini",
    "gratis ongkir ke seluruh indonesia",
    "jual sepatu murah kualitas bagus",
    "promo paket data murah, order sekarang",
    "dapatkan cashback untuk setiap pembelian",
]

# Held out: new wordings of the same kinds of post (not in the training corpus).
POSITIVE_LIKE = [
    "rezim thaghut harus bubar, khilafah harus tegak",
    "sistem demokrasi itu kafir, hanya khilafah jalan umat",
    "semoga kita semua mati syahid di jalan jihad",
    "pemerintah murtad, tegakkan daulah sekarang",
    "para pendukung thaghut adalah musuh umat",
    "jihad adalah kewajiban melawan penguasa kafir",
]
NEGATIVE_LIKE = [
    "pagi ini cuaca cerah, jalan tol lancar",
    "hujan deras bikin macet di jalan sudirman",
    "nasi goreng di warung sebelah enak sekali",
    "timnas latihan di stadion sore ini",
    "libur sekolah anak-anak ke rumah nenek",
    "harga bawang di pasar turun minggu ini",
]


def make_corpus(seed: int = 0) -> tuple[list[str], dict[str, list[int]]]:
    """64 short posts and their 0/1 labels (radikalisme, promosi)."""
    rng = random.Random(seed)
    rows: list[tuple[str, int, int]] = []
    for i in range(30):
        a, b = rng.sample(RADICAL, 2)
        text = f"{a}, {b}"
        if i % 3 == 0:
            text += f". {rng.choice(EVERYDAY)}"
        if i % 5 == 0:
            text = text.upper() + "!!!"
        rows.append((text, 1, 0))
    for _ in range(20):
        a, b = rng.sample(EVERYDAY, 2)
        rows.append((f"{a}. {b}", 0, 0))
    for i in range(14):
        text = f"{rng.choice(PROMO)}! {rng.choice(EVERYDAY if i % 2 else PROMO)}"
        rows.append((text, 0, 1))
    rng.shuffle(rows)
    texts = [t for t, _, _ in rows]
    labels = {"radikalisme": [r for _, r, _ in rows], "promosi": [p for _, _, p in rows]}
    return texts, labels


@pytest.fixture(scope="session")
def corpus() -> tuple[list[str], object]:
    import pandas as pd

    texts, labels = make_corpus()
    return texts, pd.DataFrame(labels)


@pytest.fixture(scope="session")
def small_model(corpus):
    import kanalml

    texts, labels = corpus
    return kanalml.train(texts, labels, folds=3, random_state=0)


@pytest.fixture(scope="session")
def small_model_dir(small_model, tmp_path_factory) -> Path:
    return small_model.save(tmp_path_factory.mktemp("models") / "small")


@pytest.fixture
def model_copy(small_model_dir, tmp_path) -> Path:
    """A private, writable copy of the saved small model, for corruption tests."""
    target = tmp_path / "model"
    shutil.copytree(small_model_dir, target)
    return target


@pytest.fixture(scope="session")
def default_model():
    import kanalml

    return kanalml.load_model()


@pytest.fixture(scope="session")
def netifier_train() -> Path:
    if not NETIFIER_TRAIN.is_file():
        pytest.skip(f"shared data not available: {NETIFIER_TRAIN}")
    return NETIFIER_TRAIN


def require(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"data file not available: {path}")
    return path
