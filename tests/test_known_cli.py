"""``kanalml known ...`` and ``--known`` on score and rank: the README's worked example."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest

import kanalml
from kanalml import known
from kanalml.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo_export.csv"
CONFIRMED = ("Kaum yg mengkafirkan kami, merekalah yg k4fir sesungguhnya! Tidak ada jalan kecuali "
             "j!had & tegaknya khilafah. Yg menolak, bersiaplah jadi musuh umat.")


def decisions(path: Path) -> Path:
    """A decisions file as ``kanalml review`` writes it: one confirmed, one rejected, one
    confirmed then undone."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["message_id", "text", "decided_at", "label", "reviewer"])
        writer.writerow(["kabar_ummah_bangkit/90", CONFIRMED, "2026-11-20T10:00:00+00:00", "1",
                         "ani"])
        writer.writerow(["pasarwarga_bekasi/1", "Jual beras murah di pasar pagi ini ya",
                         "2026-11-20T10:01:00+00:00", "0", "ani"])
        writer.writerow(["x/2", "Undone: this was confirmed by mistake, then withdrawn now",
                         "2026-11-20T10:02:00+00:00", "1", "ani"])
        writer.writerow(["x/2", "Undone: this was confirmed by mistake, then withdrawn now",
                         "2026-11-20T10:03:00+00:00", "", "ani"])
    return path


def later_export(path: Path) -> Path:
    rows = pd.read_csv(DEMO, dtype=str, keep_default_na=False)
    copies = pd.DataFrame({
        "channel": ["forwarder_one", "forwarder_two", "forwarder_two"],
        "message_id": ["1", "2", "3"],
        "date": ["2026-12-01T08:00:00"] * 3,
        "views": ["10"] * 3, "forwards": ["0"] * 3,
        "text": ["FWD: " + CONFIRMED + " 🔥🔥",
                 CONFIRMED.upper().replace(" ", "  ") + " https://t.me/joinchat/abc",
                 CONFIRMED.replace("musuh umat", "musuh umat Islam")]})
    pd.concat([rows, copies]).to_csv(path, index=False)
    return path


def test_worked_example_confirmed_copies_come_first(tmp_path, capsys) -> None:
    listing = tmp_path / "known"
    assert main(["known", "add", str(listing), str(decisions(tmp_path / "d.csv")),
                 "--added-by", "tim-a", "--category", "takfir"]) == 0
    loaded = known.load(listing)
    assert [item["text"] for item in loaded.items] == [CONFIRMED]
    assert loaded.items[0]["category"] == "takfir" and loaded.items[0]["added_by"] == "tim-a"
    assert loaded.items[0]["source"].endswith("d.csv:2")

    queue_path = tmp_path / "queue.csv"
    capsys.readouterr()
    assert main(["rank", str(later_export(tmp_path / "later.csv")), "--known", str(listing),
                 "-o", str(queue_path), "--channels", str(tmp_path / "ch.csv")]) == 0
    err = capsys.readouterr().err
    queue = pd.read_csv(queue_path)
    first = queue.iloc[0]
    # the original and its three edited copies are one item, first despite a middling score
    assert first["known_id"] == loaded.items[0]["id"] and first["copies"] == 4
    assert first["score"] < queue["score"].max()
    assert first["known_similarity"] == 1.0
    assert queue["known_id"].iloc[1:].isna().all()
    assert "4 post(s) in 1 queue item(s) match the known list" in err
    assert "forwarder_two: 2 known" in err and "forwarder_one: 1 known" in err
    channels = pd.read_csv(tmp_path / "ch.csv").set_index("channel")
    assert channels.loc["forwarder_two", "known_posts"] == 2


def test_score_adds_known_columns(tmp_path) -> None:
    listing = tmp_path / "known"
    main(["known", "add", str(listing), str(decisions(tmp_path / "d.csv")), "--added-by", "a",
          "-q"])
    out = tmp_path / "scored.csv"
    assert main(["score", str(later_export(tmp_path / "later.csv")), "--known", str(listing),
                 "-o", str(out), "-q"]) == 0
    scored = pd.read_csv(out)
    matched = scored[scored["known_id"].notna()]
    assert sorted(matched["channel"]) == ["forwarder_one", "forwarder_two", "forwarder_two",
                                          "kabar_ummah_bangkit"]
    exact = matched.set_index("message_id")["known_similarity"]
    assert exact[90] == 1.0 and exact[1] == 1.0  # FWD and emoji fold away: same hash
    assert 0.7 <= exact[2] < 1.0 and 0.7 <= exact[3] < 1.0  # a link, a word more: estimated
    assert len(scored) == len(pd.read_csv(DEMO)) + 3


def test_python_api_known(tmp_path) -> None:
    listing = known.KnownList()
    listing.add([CONFIRMED], added_by="a")
    frame = kanalml.score(["Fwd: " + CONFIRMED, "Selamat pagi semua, hari ini cerah sekali"],
                          known=listing)
    assert frame["known_id"].tolist() == [listing.items[0]["id"], None]
    assert frame["known_similarity"].iloc[0] == 1.0 and math.isnan(frame["known_similarity"][1])
    listing.save(tmp_path / "l")
    one = kanalml.score(CONFIRMED, known=tmp_path / "l")
    assert one["known_id"] == listing.items[0]["id"] and one["known_similarity"] == 1.0


def test_add_from_queue_and_texts_merge_show_export(tmp_path, capsys) -> None:
    queue = tmp_path / "queue.csv"
    pd.DataFrame({"rank": [1, 2], "score": [0.9, 0.8], "category": ["hasutan", ""],
                  "text": ["'=Perangi thaghut sekarang juga wahai ikhwah fillah semua", CONFIRMED],
                  "copies": [1, 1], "source": ["ch/5", "ch/6"]}).to_csv(queue, index=False)
    texts = tmp_path / "texts.csv"
    pd.DataFrame({"text": [CONFIRMED, "Teks yang ditolak moderator karena bukan propaganda"],
                  "label": [1, 0]}).to_csv(texts, index=False)
    a, b, merged = tmp_path / "a", tmp_path / "b", tmp_path / "merged"
    assert main(["known", "add", str(a), str(queue), "--added-by", "org-a"]) == 1
    assert "pass --all-confirmed if a person confirmed every row" in capsys.readouterr().err
    assert not a.exists()
    assert main(["known", "add", str(a), str(queue), "--added-by", "org-a",
                 "--all-confirmed"]) == 0
    assert "(queue): 2 confirmed post(s), 2 new item(s)" in capsys.readouterr().err
    assert main(["known", "add", str(b), str(texts), "--added-by", "org-b", "-q"]) == 0
    assert [i["text"] for i in known.load(b).items] == [CONFIRMED]
    first = known.load(a).items[0]
    assert first["text"].startswith("=Perangi") and first["source"] == "ch/5"  # unguarded
    assert main(["known", "merge", str(a), str(b), "-o", str(merged), "-q"]) == 0
    result = known.load(merged)
    assert len(result) == 2
    assert [e["added_by"] for e in result.items[1]["seen_by"]] == ["org-b"]
    capsys.readouterr()
    assert main(["known", "show", str(merged)]) == 0
    shown = capsys.readouterr().out
    assert "2 item(s), with texts" in shown and "hasutan" in shown and "org-a" in shown
    shared = tmp_path / "shared"
    assert main(["known", "export", str(merged), "--hash-only", "-o", str(shared), "-q"]) == 0
    loaded = known.load(shared)
    assert loaded.hash_only and all("text" not in i for i in loaded.items)
    assert b"thaghut" not in (shared / "items.parquet").read_bytes()


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "items.parquet").write_bytes(b"PAR1"), "SHA-256 differs from manifest.json"),
    (lambda d: (d / "manifest.json").write_text(
        (d / "manifest.json").read_text().replace('"format_version": 1', '"format_version": 9')),
     "format version 9 is not supported"),
])
def test_bad_list_is_one_line_error(tmp_path, capsys, damage, message) -> None:
    listing = known.KnownList()
    listing.add([CONFIRMED], added_by="a")
    listing.save(tmp_path / "l")
    damage(tmp_path / "l")
    assert main(["score", str(DEMO), "--known", str(tmp_path / "l"), "-q", "-o",
                 str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()


def test_decision_without_text_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "d.csv"
    path.write_text("message_id,decided_at,label\nch/1,2026-11-20T10:00:00Z,1\n")
    assert main(["known", "add", str(tmp_path / "l"), str(path), "--added-by", "a"]) == 1
    assert f"{path}:2: decision for message id 'ch/1' has no text" in capsys.readouterr().err


def test_category_outside_the_taxonomy_is_a_usage_error(tmp_path, capsys) -> None:
    assert main(["known", "add", str(tmp_path / "l"), str(decisions(tmp_path / "d.csv")),
                 "--added-by", "a", "--category", "bom"]) == 2
    assert "--category 'bom' is not a category of the extremism taxonomy" in \
        capsys.readouterr().err
    assert not (tmp_path / "l").exists()
