"""Write data/demo_labelled.csv: a small labelled set for the notebooks' fallback and demos.

    python scripts/make_demo_labelled.py

It joins the demo export (its categories come from data/DATA_CARD.md), the hard
negatives, and the posts below, written by hand for this project. Radical posts
are generic slogans only: no operational content, no real groups, people,
targets or contact details. Label: ``ekstremisme`` (1 for the radical category: generic
slogans, extremist content under docs/annotation-guide.md).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

EXTRA_RADICAL = [
    "Negara ini thaghut, undang2nya buatan manusia. Taat pd mereka = syirik!!",
    "Demokrasi itu agama baru, siapa yg ikut pemilu sdh murtad. Khilafah satu2nya jalan",
    "Bara' dari rezim thaghut dan semua pembelanya. Tidak ada kompromi dgn musuh Allah",
    "Mati syahid lebih mulia dr hidup hina di bawah hukum kufur 🏴",
    "Aparat itu ansharut thaghut, mereka musuh umat bukan pelindung",
    "Bendera merah putih itu berhala, hormat bendera haram & syirik",
    "Wahai ikhwan, tinggalkan negeri kufur ini, bergabunglah dgn barisan khilafah",
    "Ulama2 istana itu pengkhianat umat, fatwa mereka tak bernilai",
    "Jihad melawan penguasa murtad itu wajib, diam berarti ridha pd kekufuran",
    "KHILAFAH PASTI TEGAK!! Rezim thaghut pasti runtuh, tinggal tunggu waktunya",
    "Pancasila = thaghut modern. Yg membelanya sdh keluar dr Islam",
    "Siapa yg tdk mengkafirkan thaghut, dia sendiri k4fir. Itu prinsip tauhid",
    "Kami tdk butuh pemilu, kami butuh daulah yg berhukum dgn syariat, bukan demokrasi k4fir",
    "Umat harus bangkit melawan sistem thaghut, jgn mau jadi budak hukum buatan manusia",
    "Tentara & polisi negeri ini murtad semua, haram bekerja utk mereka",
    "Cita2 tertinggi seorang mukmin adalah mati syahid di jalan j!had",
]

EXTRA_EVERYDAY = [
    "Info lowongan kerja admin gudang di Cikarang, kirim lamaran sebelum akhir bulan ya",
    "Alhamdulillah panen padi tahun ini lebih bagus dr tahun lalu 🌾",
    "Jadwal posyandu balita RW 05 dipindah ke hari Kamis pagi",
    "Siapa yg nemu kucing oranye di sekitar gang mawar? Namanya Oyen 😿",
    "Pertandingan futsal antar RT diundur krn lapangan tergenang",
    "Resep sambal matah gampang bgt, cuma bawang merah, serai sama cabai",
    "Listrik padam sementara di wilayah Bekasi Utara utk pemeliharaan jaringan",
    "Selamat hari guru utk semua pahlawan tanpa tanda jasa 🙏",
    "Pengajian ibu2 minggu ini di rumah Bu Siti, bawa takjil masing2",
    "Harga tiket kereta mudik sdh bisa dipesan mulai besok pagi",
    "Bank sampah buka setiap Sabtu, plastik & kardus ditimbang langsung",
    "Macet total di tol dalam kota, pilih jalur alternatif aja",
]


def categories() -> dict[str, str]:
    """channel/message_id -> category, from the lists in the data card."""
    card = (DATA / "DATA_CARD.md").read_text(encoding="utf-8")
    found = {}
    for kind, ids in re.findall(r"^- `(\w+)`: (.+)$", card, flags=re.MULTILINE):
        for key in ids.split(", "):
            found[key.strip()] = kind
    return found


def main() -> int:
    kinds = categories()
    export = pd.read_csv(DATA / "demo_export.csv", dtype=str)
    keys = export["channel"] + "/" + export["message_id"]
    missing = sorted(set(keys) - set(kinds))
    if missing:
        print(f"error: no category in DATA_CARD.md for {', '.join(missing)}", file=sys.stderr)
        return 1
    negatives = pd.read_csv(DATA / "hard_negatives.csv", dtype=str)
    frame = pd.concat([
        pd.DataFrame({"id": "demo_" + keys, "source": "demo_export",
                      "kind": keys.map(kinds), "text": export["text"]}),
        pd.DataFrame({"id": negatives["id"], "source": "hard_negatives",
                      "kind": negatives["kind"], "text": negatives["text"]}),
        pd.DataFrame({"id": [f"extra_r{i:02d}" for i in range(1, len(EXTRA_RADICAL) + 1)],
                      "source": "handwritten", "kind": "radical", "text": EXTRA_RADICAL}),
        pd.DataFrame({"id": [f"extra_e{i:02d}" for i in range(1, len(EXTRA_EVERYDAY) + 1)],
                      "source": "handwritten", "kind": "everyday", "text": EXTRA_EVERYDAY}),
    ], ignore_index=True)
    frame["ekstremisme"] = (frame["kind"] == "radical").astype(int)
    frame.to_csv(DATA / "demo_labelled.csv", index=False)
    print(f"wrote {DATA / 'demo_labelled.csv'}: {len(frame)} rows, "
          f"{frame['ekstremisme'].sum()} ekstremisme")
    return 0


if __name__ == "__main__":
    sys.exit(main())
