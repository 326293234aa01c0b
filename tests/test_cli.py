"""The real ``kanalml`` command on files the tests write."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import kanalml
from kanalml import __version__
from kanalml.cli import main

ROOT = Path(__file__).resolve().parents[1]
LABELS = ["ekstremisme", "radikalisme", "sara", "pornografi", "pencemaran_nama_baik"]
ADDED = ["score", *LABELS, "category", "flagged", "evidence", "rank"]
QUEUE = ["rank", "score", *LABELS, "category", "flagged", "text", "evidence", "copies",
         "first_seen", "last_seen", "channels", "source", "message_ids"]

POSTS = [
    ("berita_kota", 1, "2026-11-02T08:00:00", "Jalan Sudirman macet parah pagi ini, hindari ya"),
    ("berita_kota", 2, "2026-11-02T09:00:00", "Harga cabai naik lagi di pasar induk"),
    ("seruan", 10, "2026-11-03T10:00:00", "Bubarkan pemerintah thaghut, tegakkan khilafah!"),
    ("bola", 5, "2026-11-03T20:00:00", "Timnas menang 2-1, mantap bangeeet"),
    ("kajian", 7, "2026-11-04T05:00:00", "Kajian subuh ahad ini di masjid, mari hadir"),
    ("seruan", 11, "2026-11-04T06:00:00", "Demokrasi sistem k4fir, khilafah pasti tegak"),
]


def posts_frame() -> pd.DataFrame:
    return pd.DataFrame(POSTS, columns=["channel", "message_id", "date", "text"])


def run(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kanalml", *argv], capture_output=True,
                          text=True, cwd=cwd)


def telegram_chat(name: str, chat_type: str, texts: list, start: int = 1) -> dict:
    messages = [{"id": start + i, "type": "message", "date": f"2026-11-0{1 + i % 8}T10:00:00",
                 "from": "Budi Santoso", "from_id": f"user{1000 + i}", "text": text}
                for i, text in enumerate(texts)]
    messages.append({"id": start + len(texts), "type": "service", "date": "2026-11-09T10:00:00",
                     "actor": "Admin", "actor_id": "user1", "action": "pin_message", "text": ""})
    return {"name": name, "type": chat_type, "id": abs(hash(name)) % 10**9, "messages": messages}


def test_version_and_help() -> None:
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"kanalml {__version__}"
    helped = run("--help")
    assert helped.returncode == 0 and "score" in helped.stdout and "rank" in helped.stdout
    assert run().returncode == 2
    bad = run("score", "x.csv", "--no-such-option")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_score_csv_keeps_every_column_and_adds_scores(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    posts_frame().to_csv(src, index=False)
    out = tmp_path / "scored.csv"
    assert main(["score", str(src), "-o", str(out), "--quiet"]) == 0
    scored = pd.read_csv(out)
    for column in ["channel", "message_id", "date", "text", *ADDED]:
        assert column in scored.columns
    assert len(scored) == len(POSTS)
    assert sorted(scored["rank"]) == list(range(1, len(POSTS) + 1))
    top = scored.sort_values("rank").iloc[0]
    assert top["score"] == scored["score"].max() and top["channel"] == "seruan"
    assert scored["score"].between(0, 1).all()
    threshold = kanalml.load_model().threshold  # flagged means exactly this, on every row
    assert (scored["flagged"] == (scored["score"] >= threshold)).all()
    assert scored["category"].isin(kanalml.load_model().categories_).all()


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet", ".csv.gz", ".jsonl.gz"])
def test_every_table_format_in_and_out(tmp_path, suffix) -> None:
    frame = posts_frame()
    src = tmp_path / f"posts{suffix}"
    if suffix.startswith(".csv"):
        frame.to_csv(src, index=False)
    elif suffix == ".tsv":
        frame.to_csv(src, index=False, sep="\t")
    elif suffix.startswith(".jsonl"):
        frame.to_json(src, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(src, index=False)
    out = tmp_path / f"out{suffix}"
    assert main(["score", str(src), "-o", str(out), "--quiet"]) == 0
    if suffix.startswith(".csv"):
        scored = pd.read_csv(out)
    elif suffix == ".tsv":
        scored = pd.read_csv(out, sep="\t")
    elif suffix.startswith(".jsonl"):
        scored = pd.read_json(out, lines=True)
    else:
        scored = pd.read_parquet(out)
    assert len(scored) == len(POSTS)
    assert set(ADDED) <= set(scored.columns)
    assert scored.loc[scored["score"].idxmax(), "channel"] == "seruan"
    if suffix.endswith(".gz"):
        assert out.read_bytes()[:2] == b"\x1f\x8b"  # really gzip


def test_uploader_and_similar_author_columns_stay_out_of_outputs(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    pd.DataFrame({"text": ["Bubarkan pemerintah thaghut sekarang", "Harga cabai naik lagi"],
                  "uploader": ["Budi Santoso", "Siti Aminah"], "posted_by": ["budi88", "siti"],
                  "display_name": ["Abu Budi", "Ummu Siti"], "views": [10, 20]}
                 ).to_csv(src, index=False)
    for command in ("score", "rank"):
        out = tmp_path / f"{command}.csv"
        assert main([command, str(src), "-o", str(out), "--quiet"]) == 0
        written = out.read_text(encoding="utf-8")
        assert "Budi" not in written and "siti" not in written.lower()
        assert not {"uploader", "posted_by", "display_name"} & set(pd.read_csv(out).columns)


def test_telegram_exports_public_only_and_no_authors(tmp_path) -> None:
    public = telegram_chat("Seruan Publik", "public_channel",
                           ["Bubarkan pemerintah thaghut!", [{"type": "bold", "text": "Tegakkan"},
                                                             " khilafah sekarang"]])
    private = telegram_chat("Keluarga", "private_group", ["rahasia keluarga jangan disebar"], 50)
    personal = telegram_chat("Budi", "personal_chat", ["nomor saya 0812-3456-7890"], 70)
    export = {"about": "export", "chats": {"about": "", "list": [public, private, personal]}}
    src = tmp_path / "result.json"
    src.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "scored.jsonl"
    done = run("score", str(src), "-o", str(out))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2  # the service message and both private chats are left out
    assert {r["text"] for r in rows} == {"Bubarkan pemerintah thaghut!",
                                         "Tegakkan khilafah sekarang"}
    text = out.read_text(encoding="utf-8")
    assert "rahasia" not in text and "0812" not in text
    assert "Budi Santoso" not in text and "user100" not in text
    assert "private_group" in done.stderr and "personal_chat" in done.stderr
    kept = tmp_path / "kept.jsonl"
    assert main(["score", str(src), "-o", str(kept), "--quiet", "--keep-authors"]) == 0
    assert "Budi Santoso" in kept.read_text(encoding="utf-8")

    single = tmp_path / "chat.json"
    single.write_text(json.dumps(public), encoding="utf-8")
    queue = tmp_path / "queue.csv"
    assert main(["rank", str(single), "-o", str(queue), "--quiet"]) == 0
    assert pd.read_csv(queue)["channels"].eq("Seruan Publik").all()


def test_latin1_file_is_read_with_a_warning(tmp_path) -> None:
    src = tmp_path / "legacy.csv"
    src.write_bytes("Tweet,label\n\"Caf\xe9 di Bandung ramai\",0\n\"Tegakkan khilafah!\",1\n"
                    .encode("latin-1"))
    out = tmp_path / "out.csv"
    done = run("score", str(src), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "legacy.csv" in done.stderr and "cp1252" in done.stderr.lower()
    assert pd.read_csv(out)["Tweet"].tolist()[0] == "Café di Bandung ramai"


@pytest.mark.parametrize("name, content, needle", [
    ("no-such-file.csv", None, "no-such-file.csv"),
    ("data.csv", b"", "empty"),
    ("data.csv", b"channel,body\nx,halo\n", "body"),  # the error lists the columns it saw
    ("garbage.bin", bytes(range(256)) * 40, "garbage.bin"),
    ("data.json", b'{"hello": "world"}', "Telegram"),
], ids=["missing", "empty", "no-text-column", "binary", "json-not-telegram"])
def test_bad_input_is_a_clear_error_without_output(tmp_path, name, content, needle) -> None:
    src = tmp_path / name
    if content is not None:
        src.write_bytes(content)
    out = tmp_path / "out.csv"
    done = run("score", str(src), "-o", str(out))
    assert done.returncode == 1
    assert needle.lower() in done.stderr.lower()
    assert "Traceback" not in done.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == ([src] if content is not None else [])


def test_malformed_rows_go_to_rejects_and_good_rows_are_kept(tmp_path) -> None:
    src = tmp_path / "mixed.csv"
    src.write_text('channel,text\na,"harga cabai naik"\nb,"satu","dua","tiga"\n'
                   'c,"tegakkan khilafah"\nd,"jalan macet"\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    done = run("score", str(src), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(out)["channel"].tolist() == ["a", "c", "d"]
    rejects = pd.read_csv(tmp_path / "out.csv.rejects.csv")
    assert rejects["line"].tolist() == [3]
    assert "mixed.csv" in rejects["file"].iloc[0]
    assert "1 malformed" in done.stderr

    strict = run("score", str(src), "-o", str(tmp_path / "strict.csv"), "--on-bad-lines", "error")
    assert strict.returncode == 1 and re.search(r"mixed\.csv(:| line )3\b", strict.stderr)
    assert not (tmp_path / "strict.csv").exists()


def test_failed_run_leaves_an_existing_output_untouched(tmp_path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous results\n")
    src = tmp_path / "bad.csv"
    src.write_text("channel,text\na,ok\nb,\"x\",\"y\"\n")
    done = run("score", str(src), "-o", str(out), "--on-bad-lines", "error")
    assert done.returncode == 1
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.csv"]


def test_big_field_and_mixed_types(tmp_path) -> None:
    src = tmp_path / "big.csv"
    big = "kata " * 2_000_000  # 10 MB in one field
    pd.DataFrame({"text": [big, 12345, "tegakkan khilafah", None], "n": [1, "dua", 3.5, None]}) \
        .to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-o", str(out), "--quiet"]) == 0
    assert len(pd.read_csv(out)) == 4


def test_stdout_holds_only_data_and_quiet_silences_stderr(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    posts_frame().to_csv(src, index=False)
    done = run("score", str(src), "--top", "2", "--quiet")
    assert done.returncode == 0 and done.stderr == ""
    top = pd.read_csv(io.StringIO(done.stdout))
    assert top["rank"].tolist() == [1, 2]
    loud = run("score", str(src), "--top", "2")
    assert loud.stdout == done.stdout and "scored 6 rows" in loud.stderr


def test_min_score_and_threshold(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    posts_frame().to_csv(src, index=False)
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-o", str(out), "--quiet", "--min-score", "0.5",
                 "--threshold", "0.9"]) == 0
    kept = pd.read_csv(out)
    assert (kept["score"] >= 0.5).all() and len(kept) < len(POSTS)
    assert (kept["flagged"] == (kept["score"] >= 0.9)).all()


def test_jobs_give_the_same_output(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    pd.concat([posts_frame()] * 30).to_csv(src, index=False)
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    assert main(["score", str(src), "-o", str(one), "--quiet", "--chunk-rows", "25"]) == 0
    assert main(["score", str(src), "-o", str(two), "--quiet", "--chunk-rows", "25",
                 "--jobs", "2"]) == 0
    assert one.read_text() == two.read_text()


def test_rank_collapses_forwarded_copies(tmp_path) -> None:
    slogan = "Demokrasi itu sistem kafir, tegakkan khilafah dan lawan pemerintah thaghut sekarang"
    copies = [slogan, "FWD: " + slogan, slogan + " 🔥🔥", slogan.upper(),
              "  ".join(slogan.split()), slogan + " sekarang juga", "Fwd: " + slogan.lower()]
    rows = [(f"kanal_{i}", i, f"2026-11-{10 + i:02d}T08:00:00", t) for i, t in enumerate(copies)]
    rows += [(c, m + 100, d, t) for c, m, d, t in POSTS if c != "seruan"]
    src = tmp_path / "forwards.csv"
    pd.DataFrame(rows, columns=["channel", "message_id", "date", "text"]).to_csv(src, index=False)
    queue_path, channels_path = tmp_path / "queue.csv", tmp_path / "channels.csv"
    done = run("rank", str(src), "-o", str(queue_path), "--channels", str(channels_path),
               "--budget", "3")
    assert done.returncode == 0, done.stderr
    queue = pd.read_csv(queue_path)
    assert list(queue.columns) == QUEUE
    assert len(queue) == 3 and queue["rank"].tolist() == [1, 2, 3]
    first = queue.iloc[0]
    assert first["copies"] >= 6 and first["first_seen"].startswith("2026-11-10")
    assert all(f"kanal_{i}" in first["channels"] for i in range(6))
    # where to find the post: the earliest copy, and every copy's channel/message id
    assert first["source"] == "kanal_0/0"
    assert {f"kanal_{i}/{i}" for i in range(6)} <= set(first["message_ids"].split("; "))
    assert "cover" in done.stderr and "%" in done.stderr
    channels = pd.read_csv(channels_path)
    assert set(channels["channel"]) == {row[0] for row in rows}
    assert channels.iloc[0]["channel"].startswith("kanal_")  # ordered by risk


def test_rank_masks_phone_numbers_and_emails(tmp_path) -> None:
    src = tmp_path / "contact.csv"
    pd.DataFrame({"channel": ["x"], "text": ["Tegakkan khilafah! hubungi 0812-3456-7890 atau "
                                             "admin@example.com"]}).to_csv(src, index=False)
    out = tmp_path / "queue.csv"
    assert main(["rank", str(src), "-o", str(out), "--quiet"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "3456" not in text and "admin@example.com" not in text


def test_demo_export_ranks_radical_posts_first() -> None:
    demo = ROOT / "data" / "demo_export.csv"
    done = run("rank", str(demo), "--budget", "8", "--quiet")
    assert done.returncode == 0, done.stderr
    queue = pd.read_csv(io.StringIO(done.stdout))
    radical = queue["channels"].str.contains("seruan_alhaq|kabar_ummah_bangkit")
    # 7 distinct radical posts among 57 items: the first three and most of the top 8 are radical
    assert radical[:3].all() and radical.sum() >= 5


def test_progress_estimate_for_the_eta(tmp_path) -> None:
    from kanalml.io import estimate_rows

    frame = posts_frame()
    frame.to_csv(tmp_path / "a.csv", index=False)
    frame.to_parquet(tmp_path / "b.parquet", index=False)
    frame.to_csv(tmp_path / "c.csv.gz", index=False)
    assert estimate_rows([str(tmp_path / "a.csv"), str(tmp_path / "b.parquet")]) == 12
    assert estimate_rows([str(tmp_path / "c.csv.gz")]) is None  # unknown: no ETA
    frame.to_json(tmp_path / "d.jsonl.gz", orient="records", lines=True)  # gzip'd by its name
    assert estimate_rows([str(tmp_path / "d.jsonl.gz"), str(tmp_path / "a.csv")]) == 12
    assert estimate_rows([str(tmp_path / "missing.csv")]) is None


# -- bad input (README "Bad input") ----------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://contoh.id\",\"klik\")", "+62 812 3456", "-- tegakkan khilafah",
            "@admin cek", "\tkata", "\rkata", "'=sudah", "''+dua"]
NUMBERS = ["-5", "+3.5", "1e-3", "-.5"]


def _cells(path: Path, sep: str = ",") -> list[list[str]]:

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=sep))


def _inert(cells: list[list[str]]) -> bool:
    return all(not c or c[0] not in "=+-@\t\r" or re.fullmatch(r"[+-]?[\d.]+(e-?\d+)?", c)
               for row in cells for c in row)


@pytest.mark.parametrize("name, sep", [("out.csv", ","), ("out.tsv", "\t"),
                                       ("out.csv.gz", ",")])
def test_csv_outputs_never_hold_a_spreadsheet_formula(tmp_path, name, sep) -> None:
    from kanalml.io import unescape_cell

    texts = FORMULAS + NUMBERS
    src = tmp_path / "posts.csv"
    pd.DataFrame({"channel": ["=cmd|' /C calc'!A0", *["k"] * (len(texts) - 1)], "text": texts,
                  "=1+1": NUMBERS * 3}).to_csv(src, index=False, quoting=1)  # quote "\r"
    with open(src, "a", encoding="utf-8") as handle:
        handle.write('=2+5,"row","too","long"\n')  # a rejected row, its raw line a formula
    out = tmp_path / name
    assert main(["score", str(src), "-o", str(out), "--quiet"]) == 0
    cells = _cells(out, sep)
    assert _inert(cells)
    header = cells[0]
    assert header[2] == "'=1+1"
    back = [unescape_cell(row[header.index("text")]) for row in cells[1:]]
    assert back == texts  # escaping is reversible, and plain numbers are left alone
    assert [row[header.index("text")] for row in cells[1:]][-4:] == NUMBERS
    rejects = _cells(tmp_path / f"{name}.rejects.csv")
    assert _inert(rejects) and rejects[1][3] == "'=2+5,\"row\",\"too\",\"long\""
    queue, channels = tmp_path / "queue.csv", tmp_path / "channels.csv"
    assert main(["rank", str(src), "-o", str(queue), "--channels", str(channels), "-q"]) == 0
    assert _inert(_cells(queue)) and _inert(_cells(channels))
    assert "'=cmd|' /C calc'!A0" in {row[0] for row in _cells(channels)}


def test_stdout_csv_is_spreadsheet_safe_but_jsonl_and_parquet_keep_values(tmp_path,
                                                                          capsys) -> None:
    src = tmp_path / "posts.csv"
    pd.DataFrame({"text": FORMULAS}).to_csv(src, index=False, quoting=1)
    assert main(["score", str(src), "--quiet"]) == 0
    assert _inert(list(csv.reader(io.StringIO(capsys.readouterr().out))))
    for name in ("out.jsonl", "out.parquet"):
        assert main(["score", str(src), "-o", str(tmp_path / name), "--quiet"]) == 0
    jsonl = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["text"] for r in jsonl] == FORMULAS
    assert pd.read_parquet(tmp_path / "out.parquet")["text"].tolist() == FORMULAS


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_lone_surrogates_in_a_jsonl_export_are_scored_and_written(tmp_path, suffix) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text('{"text": "tegakkan khilafah \\ud800"}\n{"text": "\\udc80 cuaca"}\n',
                   encoding="utf-8")
    out = tmp_path / f"out{suffix}"
    done = run("score", str(src), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "posts.jsonl: 2 cell(s) held invalid Unicode" in done.stderr
    back = (pd.read_parquet(out) if suffix == ".parquet" else
            pd.read_json(out, lines=True) if suffix == ".jsonl" else pd.read_csv(out))
    assert sorted(back["text"]) == ["tegakkan khilafah \ufffd", "\ufffd cuaca"]


def test_an_output_that_is_also_an_input_is_refused_before_anything_is_written(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    posts_frame().to_csv(src, index=False)
    original = src.read_bytes()
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.csv").symlink_to(src)
    os.link(src, tmp_path / "hard.csv")
    cases = [["score", str(src), "-o", str(src)],
             ["score", str(src), "-o", str(tmp_path / "sub" / ".." / "posts.csv")],
             ["score", str(src), "-o", str(tmp_path / "link.csv")],
             ["score", str(tmp_path / "hard.csv"), "-o", str(src)],
             ["rank", str(src), "-o", str(tmp_path / "q.csv"), "--channels", str(src)],
             ["suggest", str(src), "-o", str(src)],
             ["score", str(tmp_path / "out.csv.rejects.csv"), "-o", str(tmp_path / "out.csv")]]
    (tmp_path / "out.csv.rejects.csv").write_text("text\nhalo\n")
    for argv in cases:
        done = run(*argv)
        assert done.returncode == 1, argv
        assert "is also an input" in done.stderr and "Traceback" not in done.stderr
        assert src.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hard.csv", "link.csv",
                                                          "out.csv.rejects.csv", "posts.csv",
                                                          "sub"]


def test_output_paths_are_checked_before_the_model_loads_or_a_row_is_read(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    posts_frame().to_csv(src, index=False)
    (tmp_path / "adir").mkdir()
    cases = [(["-o", str(tmp_path / "out.xls")], "output format"),
             (["-o", str(tmp_path / "missing" / "out.csv")], "does not exist"),
             (["-o", str(tmp_path / "adir")], "is a directory"),
             (["-o", str(tmp_path / "q.csv"), "--channels", str(tmp_path / "q.csv")],
              "two outputs"),
             (["-o", str(tmp_path / "q.csv"), "--channels", str(tmp_path / "c.txt")],
              "output format"),
             (["--rejects", str(tmp_path / "missing" / "r.csv")], "does not exist")]
    for extra, needle in cases:
        # --model nowhere would fail first if the model were loaded before the outputs are checked
        done = run("rank", str(src), "--model", str(tmp_path / "nowhere"), *extra)
        assert done.returncode == 1 and needle in done.stderr, (extra, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        done = run("score", str(src), "-o", str(locked / "out.csv"))
        assert done.returncode == 1 and "not writable" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) in (["adir", "posts.csv"],
                                                         ["adir", "locked", "posts.csv"])


def test_rejects_describe_the_last_run_and_can_be_named(tmp_path, monkeypatch) -> None:
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text('channel,text\na,"harga cabai"\nb,"x","y"\n', encoding="utf-8")
    posts_frame().to_csv(good, index=False)
    out = tmp_path / "out.csv"
    rejects = tmp_path / "out.csv.rejects.csv"
    assert main(["score", str(bad), "-o", str(out), "-q"]) == 0 and rejects.exists()
    assert main(["score", str(good), "-o", str(out), "-q", "--force"]) == 0
    assert not rejects.exists()  # it listed rows of the earlier run's input
    monkeypatch.chdir(tmp_path)
    named = tmp_path / "ditolak.csv"
    assert main(["score", str(good), "-q", "--rejects", str(named)]) == 0
    assert named.read_text() == "file,line,reason,raw\n"  # named: written even when empty
    assert main(["score", str(bad), "-q", "--rejects", str(named)]) == 1  # it exists
    assert main(["score", str(bad), "-q", "--rejects", str(named), "--force"]) == 0
    assert pd.read_csv(named)["line"].tolist() == [3]
    assert not (tmp_path / "kanalml.rejects.csv").exists()


@pytest.mark.parametrize("signum, status, word", [(15, 143, "terminated"),
                                                   (2, 130, "interrupted")],
                         ids=["SIGTERM", "SIGINT"])
def test_a_stopped_run_leaves_no_output_rejects_or_spool(tmp_path, signum, status, word) -> None:
    import time

    src = tmp_path / "many.csv"
    frame = pd.concat([posts_frame()] * 40_000, ignore_index=True)
    frame["text"] = frame["text"] + " " + frame.index.astype(str)
    frame.to_csv(src, index=False)
    with open(src, "a", encoding="utf-8") as handle:
        handle.write('x,1,2026-11-02,"a","b","c"\n')  # a rejected row
    spool_root = tmp_path / "tmp"
    spool_root.mkdir()
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([sys.executable, "-m", "kanalml", "score", str(src), "-o", str(out),
                             "-q", "--chunk-rows", "2000"], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(spool_root)})
    deadline = time.monotonic() + 60
    spools: list[Path] = []
    while time.monotonic() < deadline and not any(s.glob("*.parquet") for s in spools):
        spools = list(spool_root.iterdir())
        time.sleep(0.05)
    assert spools and proc.poll() is None, "scoring ended before the signal"
    assert spools[0].stat().st_mode & 0o777 == 0o700  # private: post texts are spooled there
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status and word in err and "Traceback" not in err
    assert list(spool_root.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.csv", "tmp"]


def test_input_columns_named_like_added_ones_are_kept_renamed(tmp_path) -> None:
    src = tmp_path / "scored_before.csv"
    frame = posts_frame().assign(score="lama", flagged="ya", rank="7", evidence="catatan",
                                 radikalisme="0", _file="asal.csv", _line="99",
                                 score_input="sudah ada", category="berita")
    frame.to_csv(src, index=False)
    out = tmp_path / "out.csv"
    done = run("score", str(src), "-o", str(out))
    assert done.returncode == 0, done.stderr
    back = pd.read_csv(out, dtype=str)
    for name, value in [("score_input2", "lama"), ("flagged_input", "ya"), ("rank_input", "7"),
                        ("evidence_input", "catatan"), ("radikalisme_input", "0"),
                        ("_file_input", "asal.csv"), ("_line_input", "99"),
                        ("score_input", "sudah ada"), ("category_input", "berita")]:
        assert back[name].tolist() == [value] * len(POSTS), name
    assert back["_file"].tolist() == [str(src)] * len(POSTS)
    assert sorted(back["rank"].astype(int)) == list(range(1, len(POSTS) + 1))
    assert done.stderr.count("renamed") == 1 and "'score' -> 'score_input2'" in done.stderr
    # the text column itself may bear a reserved name
    texts = tmp_path / "texts.jsonl"
    texts.write_text('{"score": "tegakkan khilafah"}\n', encoding="utf-8")
    assert main(["score", str(texts), "--text-column", "score", "-o", str(out), "-q",
                 "--force"]) == 0
    assert pd.read_csv(out)["score_input"].tolist() == ["tegakkan khilafah"]
    # suggest adds label and decided_at: a labelled input keeps its own
    labelled = tmp_path / "labelled.csv"
    posts_frame().assign(label="1").to_csv(labelled, index=False)
    assert main(["suggest", str(labelled), "-n", "2", "-o", str(out), "-q", "--force"]) == 0
    picked = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert picked["label_input"].tolist() == ["1", "1"] and picked["label"].tolist() == ["", ""]


def test_a_post_over_the_length_cap_is_scored_on_its_beginning_and_kept_whole(tmp_path) -> None:
    from kanalml.api import MAX_TEXT_CHARS

    head = ("tegakkan khilafah, bubarkan thaghut. " * 3000)[:MAX_TEXT_CHARS]
    long = head + " cuaca cerah" * 2000
    src = tmp_path / "long.csv"
    pd.DataFrame({"text": ["cuaca cerah", long]}).to_csv(src, index=False)
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}.csv"
        done = run("score", str(src), "-o", str(out), "--jobs", jobs, "-q")
        assert done.returncode == 0, done.stderr
        assert "long.csv:3: 1 post(s) longer than 100,000 characters" in done.stderr
        back = pd.read_csv(out)
        assert back["text"].tolist()[1] == long
        assert back["score"].iloc[1] == round(kanalml.score(head)["score"], 4)


def test_rejects_and_evidence_mask_phones_and_emails(tmp_path) -> None:
    from kanalml.rank import render_evidence

    src = tmp_path / "bad.csv"
    src.write_text('channel,text\na,"harga cabai"\nb,"WA 0812-3456-7890","admin@contoh.id","x"\n',
                   encoding="utf-8")
    out = tmp_path / "out.csv"
    assert main(["score", str(src), "-o", str(out), "-q"]) == 0
    raw = pd.read_csv(tmp_path / "out.csv.rejects.csv")["raw"].iloc[0]
    assert raw == 'b,"WA [telepon]","[email]","x"'
    assert render_evidence([("admin@contoh.id", 1.5), ("khilafah", 1.0)]) == \
        "[email] (1.50); khilafah (1.00)"


def test_stdout_data_is_utf8_whatever_the_terminal_encoding(tmp_path) -> None:
    src = tmp_path / "emoji.csv"
    src.write_text("text\nkopi ☕ pagi\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "kanalml", "score", str(src), "-q"],
                          capture_output=True, env={**os.environ, "PYTHONIOENCODING": "latin-1"})
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert "kopi ☕ pagi".encode() in done.stdout


def test_a_file_given_twice_is_read_once(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    posts_frame().to_csv(src, index=False)
    (tmp_path / "alias.csv").symlink_to(src)
    done = run("rank", str(src), str(tmp_path / "alias.csv"), str(src), "-q")
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(io.StringIO(done.stdout))["copies"].eq(1).all()
    assert done.stderr.count("read once") == 2


def test_header_only_input_gives_a_header_only_output(tmp_path) -> None:
    src = tmp_path / "kosong.csv"
    src.write_text("channel,text\n", encoding="utf-8")
    for command, name in (("score", "out.csv"), ("rank", "queue.csv")):
        assert main([command, str(src), "-o", str(tmp_path / name), "-q"]) == 0
        back = pd.read_csv(tmp_path / name)
        assert back.empty
    assert list(pd.read_csv(tmp_path / "out.csv").columns) == \
        ["channel", "text", "_file", "_line", *ADDED]
    assert list(pd.read_csv(tmp_path / "queue.csv").columns) == QUEUE


def test_skip_lists_bad_rows_without_announcing_them(tmp_path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text('channel,text\na,"halo"\nb,"x","y"\n', encoding="utf-8")
    for mode, announced in (("warn", True), ("skip", False)):
        out = tmp_path / f"{mode}.csv"
        done = run("score", str(src), "-o", str(out), "--on-bad-lines", mode)
        assert done.returncode == 0
        assert ("malformed" in done.stderr) is announced, done.stderr
        assert pd.read_csv(f"{out}.rejects.csv")["line"].tolist() == [3]  # listed either way


def test_jsonl_errors_name_the_column_on_the_line(tmp_path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"text": "halo"}\n{"text": "a", "b": \n', encoding="utf-8")
    assert main(["score", str(src), "-o", str(tmp_path / "o.csv"), "-q"]) == 0
    reason = pd.read_csv(tmp_path / "o.csv.rejects.csv")["reason"].iloc[0]
    assert reason.startswith("not valid JSON at column 20")


def test_a_dead_jobs_worker_is_one_line_not_a_traceback(tmp_path, monkeypatch, capsys) -> None:
    from kanalml import pipeline

    src = tmp_path / "posts.csv"
    posts_frame().to_csv(src, index=False)

    def dies(*_args, **_kw):
        os._exit(1)  # as a worker killed by the kernel (out of memory) would

    # forked workers inherit the patch; the parent never scores with --jobs 2
    monkeypatch.setattr(pipeline, "score_chunk", dies)
    assert main(["score", str(src), "-o", str(tmp_path / "out.csv"), "--jobs", "2", "-q"]) == 1
    err = capsys.readouterr().err
    assert "worker process died" in err and "Traceback" not in err
    assert not (tmp_path / "out.csv").exists()


def test_a_full_disk_names_the_output(tmp_path) -> None:
    import errno

    from kanalml import DataError
    from kanalml.io import AtomicWriter

    target = tmp_path / "out.csv"
    full = pytest.raises(DataError, match=r"out\.csv: cannot write: No space left on device")
    with full, AtomicWriter(target):
        raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []
