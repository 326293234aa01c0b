"""kanalml.io: export readers and atomic writers, on files written to tmp_path.

Fixture texts are everyday Indonesian posts; nothing here is extremist content.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
import tracemalloc
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kanalml.io import AtomicWriter, DataError, ExportReader, Rejected, write_rejects

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RE_DATASET = SHARED_DATA / "ibrohim2019" / "re_dataset.csv"


def read_all(paths: Any, **options: Any) -> tuple[pd.DataFrame, ExportReader, list[str]]:
    """Every chunk concatenated, the reader (for rejected/skipped) and the warnings."""
    warnings: list[str] = []
    if not isinstance(paths, list):
        paths = [paths]
    reader = ExportReader(paths, warn=warnings.append, **options)
    chunks = [chunk for chunk, _ in reader]
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    return frame, reader, warnings


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# -- CSV -------------------------------------------------------------------------------------


def test_csv_rows_keep_every_column_as_strings_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "posts.csv",
                 "id,channel,Isi,views\n1,kanal_a,selamat pagi,10\n2,kanal_b,,x\n"
                 "3,kanal_a,hujan deras,3.5\n")
    frame, reader, warnings = read_all(path)
    assert list(frame.columns) == ["id", "channel", "Isi", "views", "_file", "_line"]
    assert frame["Isi"].tolist() == ["selamat pagi", "", "hujan deras"]  # empty cell -> ""
    assert frame["views"].tolist() == ["10", "x", "3.5"]  # mixed types: all strings
    assert frame["id"].tolist() == ["1", "2", "3"]
    assert frame["_file"].tolist() == [str(path)] * 3
    assert frame["_line"].tolist() == [2, 3, 4]
    assert reader.rows_read == 3 and reader.rejected == [] and warnings == []


def test_text_column_is_detected_case_insensitively_in_column_order(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "id, Caption ,MESSAGE\n1,foto pantai,halo\n")
    reader = ExportReader([path])
    assert [column for _, column in reader] == [" Caption "]  # names are kept as written
    reader = ExportReader([path], text_column="message")  # explicit, case-folded
    assert [column for _, column in reader] == ["MESSAGE"]


@pytest.mark.parametrize("options", [{}, {"text_column": "body"}])
def test_missing_text_column_names_the_file_and_lists_the_columns(tmp_path: Path,
                                                                  options: dict) -> None:
    path = write(tmp_path / "a.csv", "id,judul,tanggal\n1,x,2024-01-01\n")
    with pytest.raises(DataError) as info:
        list(ExportReader([path], **options))
    message = str(info.value)
    assert str(path) in message and "'judul'" in message and "'tanggal'" in message
    assert "\n" not in message


@pytest.mark.parametrize("delimiter, name", [(",", "a.csv"), (";", "a.csv"), ("\t", "a.tsv"),
                                             ("|", "a.txt"), ("\t", "a.csv"), (";", "a")])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str, name: str) -> None:
    rows = [["id", "text", "channel"], ["1", "halo, apa kabar; semua | baik", "k1"],
            ["2", "cuaca cerah", "k2"], ["3", "pagi, siang, malam", "k3"]]
    with open(tmp_path / name, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    frame, reader, _ = read_all(tmp_path / name)
    assert frame["text"].tolist() == [r[1] for r in rows[1:]]
    assert frame["channel"].tolist() == ["k1", "k2", "k3"]
    assert reader.rejected == []


def test_multiline_field_line_numbers_and_crlf(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv",
                 'id,text\r\n1,"baris satu\r\nbaris dua"\r\n2,biasa\r\n\r\n3,"kutip ""dalam"""\r\n')
    frame, reader, _ = read_all(path)
    assert frame["text"].tolist() == ["baris satu\r\nbaris dua", "biasa", 'kutip "dalam"']
    assert frame["_line"].tolist() == [2, 4, 6]  # blank line 5 is not a record
    assert reader.rejected == []


def test_duplicate_and_blank_header_names_are_made_unique(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "text,text,\nsatu,dua,tiga\n")
    frame, _, _ = read_all(path)
    assert list(frame.columns)[:3] == ["text", "text.1", "Unnamed: 2"]
    assert frame.iloc[0, :3].tolist() == ["satu", "dua", "tiga"]


def test_header_only_yields_nothing_but_empty_file_is_an_error(tmp_path: Path) -> None:
    frame, reader, _ = read_all(write(tmp_path / "h.csv", "id,text\n"))
    assert frame.empty and reader.rows_read == 0
    for name, content in [("empty.csv", b""), ("blank.csv", b"\n\n  \n"),
                          ("empty.jsonl", b""), ("bom.csv", b"\xef\xbb\xbf")]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError, match="empty file"):
            list(ExportReader([tmp_path / name]))


def test_missing_path_and_directory_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file") as info:
        ExportReader([tmp_path / "tidak_ada.csv"])
    assert str(tmp_path / "tidak_ada.csv") in str(info.value)
    with pytest.raises(DataError, match="is a directory"):
        ExportReader([tmp_path])


def test_binary_garbage_is_not_an_export(tmp_path: Path) -> None:
    rng = random.Random(3)
    for name in ("garbage.csv", "garbage.bin", "garbage.jsonl"):
        (tmp_path / name).write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
        with pytest.raises(DataError, match="not a CSV/JSONL/Parquet/spreadsheet/Telegram export"):
            list(ExportReader([tmp_path / name]))
    (tmp_path / "fake.parquet").write_bytes(b"id,text\n1,halo\n")
    with pytest.raises(DataError, match="not a Parquet file"):
        list(ExportReader([tmp_path / "fake.parquet"]))


# -- malformed rows --------------------------------------------------------------------------

BAD_CSV = (
    'id,text,channel\n'            # 1
    '1,pagi cerah,k1\n'            # 2
    '2,terlalu,banyak,kolom\n'     # 3  too many fields
    '3,kurang\n'                   # 4  too few fields
    '4,"tanda kutip tidak,k1\n'    # 5  unclosed quote ...
    '5,siang hari,k2\n'            # 6
    '6,"dikutip, benar",k3\n'      # 7  ... a later quoted field must not be swallowed
    '7,"kutip"lalu teks,k1\n'      # 8  closing quote followed by text
    '8,malam tenang,k2\n'          # 9
    '9,"tanpa penutup sampai akhir,k3\n'  # 10 unclosed quote that runs to the end
    '10,pasar ramai,k1\n'          # 11
    '11,hujan reda,k2\n'           # 12
)


def test_malformed_csv_rows_are_rejected_and_every_good_row_is_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", BAD_CSV)
    frame, reader, warnings = read_all(path)
    assert frame["id"].tolist() == ["1", "5", "6", "8", "10", "11"]
    assert frame["text"].tolist() == ["pagi cerah", "siang hari", "dikutip, benar",
                                      "malam tenang", "pasar ramai", "hujan reda"]
    assert frame["_line"].tolist() == [2, 6, 7, 9, 11, 12]
    assert [r.line for r in reader.rejected] == [3, 4, 5, 8, 10]
    # no record silently dropped: every data line is yielded or rejected
    assert sorted(frame["_line"].tolist() + [r.line for r in reader.rejected]) == list(range(2, 13))
    by_line = {r.line: r for r in reader.rejected}
    assert by_line[3].reason == "expected 3 fields, found 4"
    assert by_line[4].reason == "expected 3 fields, found 2"
    assert by_line[3].raw == "2,terlalu,banyak,kolom"
    assert by_line[5].raw == '4,"tanda kutip tidak,k1'
    assert "quote" in by_line[8].reason and "quote" in by_line[10].reason
    assert all(r.file == str(path) for r in reader.rejected)
    assert len(warnings) == 1 and str(path) in warnings[0] and "5 malformed" in warnings[0]


def test_on_bad_lines_skip_is_silent_and_error_raises_at_the_first(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", BAD_CSV)
    frame, reader, warnings = read_all(path, on_bad_lines="skip")
    assert len(frame) == 6 and len(reader.rejected) == 5 and warnings == []
    with pytest.raises(DataError) as info:
        read_all(path, on_bad_lines="error")
    assert str(info.value) == f"{path}:3: expected 3 fields, found 4"
    with pytest.raises(ValueError):
        ExportReader([path], on_bad_lines="ignore")


def test_rejected_raw_is_truncated(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "id,text\n1,ok\n2," + "x," * 2000 + "\n")
    _, reader, _ = read_all(path, on_bad_lines="skip")
    assert len(reader.rejected) == 1 and len(reader.rejected[0].raw) <= 501


def test_a_10_mb_field_is_read(tmp_path: Path) -> None:
    big = "kata " * 2_000_000  # 10,000,000 characters
    path = write(tmp_path / "big.csv", f'id,text\n1,"{big}"\n2,kecil\n')
    frame, reader, _ = read_all(path)
    assert [len(t) for t in frame["text"]] == [len(big), 5]
    assert frame["_line"].tolist() == [2, 3] and reader.rejected == []


# -- encodings -------------------------------------------------------------------------------


def test_utf8_with_bom_is_read_without_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.csv", "text,kota\nkopi susu ☕,Bandung\n", "utf-8-sig")
    frame, _, warnings = read_all(path)
    assert list(frame.columns)[:2] == ["text", "kota"]
    assert frame["text"].tolist() == ["kopi susu ☕"] and warnings == []


def test_invalid_utf8_is_read_as_cp1252_with_a_warning(tmp_path: Path) -> None:
    # é (0xe9), € (0x80), smart quotes (0x93/0x94) and 0x81, which cp1252 leaves undefined
    body = b"text,id\n" + b"caf\xe9 \x80 5\n\x93kutip\x94 \x81,2\n"
    path = tmp_path / "latin.csv"
    path.write_bytes(body.replace(b" 5\n", b",1\n"))
    frame, reader, warnings = read_all(path)
    assert frame["text"].tolist() == ["café €", "“kutip” \x81"]
    assert reader.rejected == []
    assert len(warnings) == 1 and str(path) in warnings[0] and "cp1252" in warnings[0]
    assert "line 2" in warnings[0]


def test_invalid_utf8_after_the_first_megabyte_is_still_detected(tmp_path: Path) -> None:
    rows = "".join(f"{i},baris biasa nomor {i}\n" for i in range(60_000))  # > 1 MB
    path = tmp_path / "late.csv"
    path.write_bytes(b"id,text\n" + rows.encode() + b"60000,na\xefve\n")
    frame, _, warnings = read_all(path)
    assert frame["text"].iloc[-1] == "naïve" and len(frame) == 60_001
    assert len(warnings) == 1 and "line 60002" in warnings[0]


def test_real_latin1_file(tmp_path: Path) -> None:
    if not RE_DATASET.is_file():
        pytest.skip(f"shared data not available: {RE_DATASET}")
    frame, reader, warnings = read_all(RE_DATASET)
    reference = pd.read_csv(RE_DATASET, encoding="latin-1", dtype=str, keep_default_na=False)
    assert len(frame) == len(reference) > 10_000
    # Latin-1 on the whole, but 12 tweets are UTF-8 ("kita²", "©"): read line by line, they
    # are the text the Latin-1 reference shows as mojibake ("kitaÂ²"); the others are equal.
    utf8 = [ref.encode("latin-1").decode("utf-8") for ours, ref
            in zip(frame["Tweet"], reference["Tweet"]) if ours != ref]
    assert len(utf8) == 12 and "kita²" in utf8[0]
    assert sorted(set(frame["Tweet"]) - set(reference["Tweet"])) == sorted(set(utf8))
    assert reader.rejected == []
    assert len(warnings) == 1 and "cp1252" in warnings[0] and "re_dataset.csv" in warnings[0]
    assert next(column for _, column in ExportReader([RE_DATASET], warn=lambda m: None)) == "Tweet"


# -- authors ---------------------------------------------------------------------------------


def test_author_columns_are_dropped_unless_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv",
                 "id,Username,text,FROM_ID,screen_name,author_id,user_name,channel_username\n"
                 "1,budi,halo semua,u1,budi99,42,budi_s,kanal_info\n")
    frame, _, _ = read_all(path)
    # user_name is an author's too (found by the words of the name, not a fixed list)
    assert list(frame.columns) == ["id", "text", "channel_username", "_file", "_line"]
    kept, _, _ = read_all(path, keep_authors=True)
    assert kept["Username"].tolist() == ["budi"] and kept["FROM_ID"].tolist() == ["u1"]


# -- JSON Lines ------------------------------------------------------------------------------


def test_jsonl_records_bad_lines_and_value_types(tmp_path: Path) -> None:
    lines = [
        {"id": 1, "text": "halo", "views": 10, "user": "budi"},       # 1
        "",                                                           # 2 blank
        "{not json",                                                  # 3
        {"id": 2, "text": None, "ok": True, "tags": ["a", "b"]},      # 4
        [1, 2],                                                       # 5 not an object
        {"id": 3, "text": ["lihat ", {"type": "link", "text": "x.id"}], "extra": {"a": 1}},  # 6
        {"id": 4, "text": "pasar ramai ☕"},                           # 7
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
                              for x in lines) + "\n", encoding="utf-8")
    frame, reader, warnings = read_all(path)
    assert "user" not in frame.columns
    assert frame["id"].tolist() == ["1", "2", "3", "4"]
    assert frame["text"].tolist() == ["halo", None, "lihat x.id", "pasar ramai ☕"]
    assert frame["views"].tolist() == ["10", None, None, None]  # absent key -> None
    assert frame["ok"].tolist() == [None, "true", None, None]
    assert frame["tags"].iloc[1] == '["a", "b"]' and frame["extra"].iloc[2] == '{"a": 1}'
    assert frame["_line"].tolist() == [1, 4, 6, 7]
    assert [(r.line, r.reason) for r in reader.rejected] == [
        (3, "not valid JSON at column 2: Expecting property name enclosed in double quotes"),
        (5, "a JSON list, not an object")]
    assert reader.rejected[0].raw == "{not json"
    assert len(warnings) == 1 and "2 malformed" in warnings[0]


def test_jsonl_error_mode_and_a_single_path(tmp_path: Path) -> None:
    path = write(tmp_path / "a.jsonl", '{"text": "satu"}\n\n"dua"\n')
    with pytest.raises(DataError) as info:
        list(ExportReader(path, on_bad_lines="error"))  # one path, not in a list
    assert str(info.value) == f"{path}:3: a JSON str, not an object"
    path = write(tmp_path / "b.jsonl", '{"text": "satu"}\n{"text": "dua"} x\n' + "[" * 100_000)
    with pytest.raises(DataError) as info:
        list(ExportReader(path, on_bad_lines="error"))
    assert str(info.value) == f"{path}:2:17: not valid JSON at column 17: Extra data"
    frame, reader, _ = read_all(path, on_bad_lines="skip")
    assert frame["text"].tolist() == ["satu"] and [r.line for r in reader.rejected] == [2, 3]


def test_jsonl_with_json_extension_and_keys_that_appear_late(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    records = [{"message": f"pesan {i}"} for i in range(5)] + [{"message": "akhir", "lang": "id"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    reader = ExportReader([path], chunk_rows=2)
    chunks = list(reader)
    assert [len(c) for c, _ in chunks] == [2, 2, 2] and {t for _, t in chunks} == {"message"}
    assert chunks[-1][0]["lang"].tolist() == [None, "id"]
    assert pd.concat([c for c, _ in chunks])["message"].tolist()[-1] == "akhir"


# -- Parquet ---------------------------------------------------------------------------------


def test_parquet_streams_by_batches_keeps_types_and_drops_authors(tmp_path: Path) -> None:
    table = pa.table({"text": [f"pesan {i}" for i in range(1000)], "views": list(range(1000)),
                      "sender_id": ["s"] * 1000})
    path = tmp_path / "posts.parquet"
    pq.write_table(table, path, row_group_size=300)
    chunks = [(chunk, column) for chunk, column in ExportReader([path], chunk_rows=128)]
    assert max(len(c) for c, _ in chunks) <= 128 and {col for _, col in chunks} == {"text"}
    frame = pd.concat([c for c, _ in chunks], ignore_index=True)
    assert list(frame.columns) == ["text", "views", "_file", "_line"]
    assert frame["views"].tolist() == list(range(1000)) and frame["views"].dtype.kind == "i"
    assert frame["_line"].tolist() == list(range(1, 1001))
    assert frame["text"].iloc[999] == "pesan 999"


# -- gzip ------------------------------------------------------------------------------------


def test_gzip_is_detected_by_extension_and_by_magic_bytes(tmp_path: Path) -> None:
    csv_text = "id,text\n1,halo\n2,apa kabar\n"
    with gzip.open(tmp_path / "a.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write(csv_text)
    with gzip.open(tmp_path / "b.csv", "wt", encoding="utf-8") as handle:  # no .gz suffix
        handle.write(csv_text)
    with gzip.open(tmp_path / "c.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write('{"text": "halo"}\n{"text": "apa kabar"}\n')
    (tmp_path / "d.tsv.gz").write_bytes(gzip.compress(b"id\ttext\n1\thalo, ya\n"))
    for name, expected in [("a.csv.gz", ["halo", "apa kabar"]), ("b.csv", ["halo", "apa kabar"]),
                           ("c.jsonl.gz", ["halo", "apa kabar"]), ("d.tsv.gz", ["halo, ya"])]:
        frame, reader, _ = read_all(tmp_path / name)
        assert frame["text"].tolist() == expected, name
        assert reader.rejected == []


def test_gzip_latin1_and_corrupt_gzip(tmp_path: Path) -> None:
    (tmp_path / "l.csv.gz").write_bytes(gzip.compress(b"text\ncaf\xe9\n"))
    frame, _, warnings = read_all(tmp_path / "l.csv.gz")
    assert frame["text"].tolist() == ["café"] and "cp1252" in warnings[0]
    data = gzip.compress(("id,text\n" + "1,halo\n" * 50_000).encode())
    (tmp_path / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="corrupt gzip"):
        list(ExportReader([tmp_path / "cut.csv.gz"]))


# -- Telegram --------------------------------------------------------------------------------


def message(i: int, text: Any, **extra: Any) -> dict[str, Any]:
    return {"id": i, "type": "message", "date": f"2024-05-0{i % 9 + 1}T10:00:00",
            "from": "Admin Kanal", "from_id": "channel123", "text": text, **extra}


def chat(name: str, kind: str, messages: list[Any]) -> dict[str, Any]:
    return {"name": name, "type": kind, "id": abs(hash(name)) % 10_000, "messages": messages}


PUBLIC_MESSAGES = [
    message(1, "selamat pagi semua", views=120, forwards=3),
    {"id": 2, "type": "service", "date": "2024-05-02T10:00:00", "actor": "Admin",
     "action": "pin_message", "text": ""},
    message(3, ["info ", {"type": "bold", "text": "penting"}, " hari ini, lihat ",
                {"type": "link", "text": "https://contoh.id"}], views=80,
            forwarded_from="Kanal Berita"),
    message(4, "", photo="photos/1.jpg", views=5),
]


def test_telegram_single_chat_export(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat("Kanal Info", "public_channel", PUBLIC_MESSAGES), indent=1,
                               ensure_ascii=False), encoding="utf-8")
    reader = ExportReader([path], warn=pytest.fail)
    chunks = list(reader)
    assert [column for _, column in chunks] == ["text"]
    frame = chunks[0][0]
    assert list(frame.columns) == ["chat", "chat_type", "message_id", "date", "views",
                                   "forwards", "text", "_file", "_line"]
    assert frame["text"].tolist() == ["selamat pagi semua",
                                      "info penting hari ini, lihat https://contoh.id", ""]
    assert frame["message_id"].tolist() == [1, 3, 4]  # service message 2 skipped
    assert frame["_line"].tolist() == [1, 3, 4]
    assert frame["chat"].unique().tolist() == ["Kanal Info"]
    assert frame["views"].tolist() == [120, 80, 5]
    assert frame["forwards"].tolist()[0] == 3 and pd.isna(frame["forwards"].iloc[1])
    assert reader.skipped_chats == {} and reader.rows_read == 3

    kept = next(iter(ExportReader([path], keep_authors=True)))[0]
    assert kept["from"].tolist() == ["Admin Kanal"] * 3
    assert kept["from_id"].tolist() == ["channel123"] * 3
    assert kept["forwarded_from"].tolist() == [None, "Kanal Berita", None]  # an author too


def test_telegram_bad_message_type_listed_late_and_reading_twice(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat("Kanal Info", "public_channel", [*PUBLIC_MESSAGES, 42])),
                    encoding="utf-8")
    frame, reader, warnings = read_all(path)
    assert len(frame) == 3 and [(r.line, r.raw) for r in reader.rejected] == [(5, "42")]
    with pytest.raises(DataError, match=r"result.json:5: a message that is not an object"):
        read_all(path, on_bad_lines="error")
    # the type written after the messages: not known in time, so the chat is not read
    late = {"name": "Kanal", "messages": [message(1, "halo")], "type": "public_channel"}
    path.write_text(json.dumps(late), encoding="utf-8")
    frame, reader, warnings = read_all(path)
    assert frame.empty and reader.skipped_chats == {"public_channel": 1}
    assert len(warnings) == 1 and "after its messages" in warnings[0]
    # iterating again starts the counters afresh
    list(reader)
    assert reader.skipped_chats == {"public_channel": 1} and reader.rows_read == 0


@pytest.mark.parametrize("kind", ["personal_chat", "private_group", "private_channel",
                                  "private_supergroup", "saved_messages", "bot_chat"])
def test_telegram_private_single_chat_is_skipped(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "result.json"
    path.write_text(json.dumps(chat("Keluarga", kind, [*PUBLIC_MESSAGES, "bukan objek"])),
                    encoding="utf-8")
    frame, reader, _ = read_all(path)
    assert frame.empty and reader.rows_read == 0
    assert reader.skipped_chats == {kind: 1}
    assert reader.rejected == []  # private content never reaches the rejects either


def test_telegram_full_account_export(tmp_path: Path) -> None:
    export = {
        "about": "export info",
        "personal_information": {"first_name": "Budi", "phone_number": "+62 812 0000 0000"},
        "contacts": {"list": [{"first_name": "Ani", "phone_number": "+62 813 1111 1111"}]},
        "chats": {"about": "chats", "list": [
            chat("Teman Kantor", "private_group", [message(1, "rahasia kantor")]),
            chat("Kanal Info", "public_channel", PUBLIC_MESSAGES),
            {"type": "saved_messages", "id": 9, "messages": [message(1, "catatan pribadi")]},
            chat("Diskusi Umum", "public_supergroup",
                 [message(i, f"diskusi {i}") for i in range(1, 6)] + ["bukan objek"]),
            chat("Ibu", "personal_chat", [message(1, "pulang jam berapa?")]),
        ]},
        "left_chats": {"about": "left", "list": [
            chat("Grup Lama", "public_supergroup", [message(7, "pesan lama")]),
            chat("Grup Tertutup", "private_supergroup", [message(8, "pesan tertutup")]),
        ]},
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export, indent=1), encoding="utf-8")
    warnings: list[str] = []
    reader = ExportReader([path], chunk_rows=4, warn=warnings.append)
    chunks = [chunk for chunk, _ in reader]
    assert max(len(c) for c in chunks) <= 4
    frame = pd.concat(chunks, ignore_index=True)
    assert frame["chat"].tolist() == ["Kanal Info"] * 3 + ["Diskusi Umum"] * 5 + ["Grup Lama"]
    assert set(frame["chat_type"]) == {"public_channel", "public_supergroup"}
    assert frame["text"].iloc[-1] == "pesan lama"
    everything = frame.to_csv()
    for private in ("rahasia", "catatan", "pulang", "tertutup", "Budi", "Ani", "0000"):
        assert private not in everything
    assert reader.skipped_chats == {"private_group": 1, "saved_messages": 1, "personal_chat": 1,
                                    "private_supergroup": 1}
    assert [(r.line, r.reason) for r in reader.rejected] == [(6, "a message that is not an object")]
    assert len(warnings) == 1


def test_telegram_gzip_minified_and_streamed_in_chunks(tmp_path: Path) -> None:
    messages = [message(i, f"pesan nomor {i}") for i in range(1, 2501)]
    path = tmp_path / "result.json.gz"
    path.write_bytes(gzip.compress(json.dumps(chat("Kanal", "public_channel", messages),
                                              separators=(",", ":")).encode()))
    chunks = [chunk for chunk, _ in ExportReader([path], chunk_rows=1000)]
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert chunks[-1]["text"].iloc[-1] == "pesan nomor 2500"
    assert "views" not in chunks[0].columns  # only when present


@pytest.mark.parametrize("content", ['[{"text": "halo"}]', '{\n "data": [1, 2, 3]\n}',
                                     '{"text": "satu objek saja"}\n',
                                     '{\n "name": "x", "type": "public_channel"\n}'])
def test_json_that_is_not_a_telegram_export(tmp_path: Path, content: str) -> None:
    path = write(tmp_path / "data.json", content)
    with pytest.raises(DataError, match="not a Telegram Desktop export") as info:
        list(ExportReader([path]))
    assert str(path) in str(info.value)


def test_truncated_telegram_export_is_a_data_error(tmp_path: Path) -> None:
    text = json.dumps(chat("Kanal", "public_channel", PUBLIC_MESSAGES), indent=1)
    path = write(tmp_path / "result.json", text[: len(text) // 2])
    with pytest.raises(DataError, match="invalid JSON") as info:
        list(ExportReader([path]))
    assert "\n" not in str(info.value)


def test_several_files_of_different_formats(tmp_path: Path) -> None:
    a = write(tmp_path / "a.csv", "text\nsatu\ndua\n")
    b = write(tmp_path / "b.jsonl", '{"content": "tiga"}\n')
    reader = ExportReader([a, b], chunk_rows=10)
    out = [(chunk["_file"].tolist(), column) for chunk, column in reader]
    assert out == [([str(a), str(a)], "text"), ([str(b)], "content")]
    assert reader.rows_read == 3


# -- memory and chunking ---------------------------------------------------------------------


def test_large_csv_is_streamed_in_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("id,channel,text\n")
        handle.writelines(f"{i},kanal_{i % 50},pesan biasa nomor {i} tentang cuaca dan pasar\n"
                          for i in range(200_000))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        sizes, last_line, count = [], 0, 0
        for chunk, _ in ExportReader([path], chunk_rows=7_000):
            sizes.append(len(chunk))
            count += len(chunk)
            last_line = int(chunk["_line"].iloc[-1])
            del chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert max(sizes) <= 7_000 and count == 200_000 and last_line == 200_001
    assert peak < size / 2, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


# -- AtomicWriter ----------------------------------------------------------------------------


def scored(start: int, n: int) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"pesan {i}" for i in range(start, start + n)],
                         "score": [i / 100 for i in range(start, start + n)],
                         "flagged": [i % 2 == 0 for i in range(start, start + n)]})


def test_csv_writer_writes_the_header_once_and_reindexes_later_chunks(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with AtomicWriter(target) as writer:
        writer.write(scored(0, 2))
        writer.write(scored(2, 2)[["flagged", "text", "score"]])  # other order
        writer.write(scored(4, 1)[["text", "score"]])  # a missing column -> empty
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines == ["text,score,flagged", "pesan 0,0.0,True", "pesan 1,0.01,False",
                     "pesan 2,0.02,True", "pesan 3,0.03,False", "pesan 4,0.04,"]
    with pytest.raises(DataError, match="'baru'"), AtomicWriter(tmp_path / "x.csv") as writer:
        writer.write(scored(0, 1))
        writer.write(scored(1, 1).assign(baru="x"))
    assert list(tmp_path.iterdir()) == [target]


def test_jsonl_and_tsv_gz_writers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["kopi ☕ di https://contoh.id/a", "garis \\ miring"],
                          "score": [0.5, float("nan")], "n": [1, 2]})
    with AtomicWriter(tmp_path / "out.jsonl") as writer:
        writer.write(frame)
    raw = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert "☕" in raw and "https://contoh.id/a" in raw  # ensure_ascii=False, "/" unescaped
    records = [json.loads(line) for line in raw.splitlines()]
    assert records == [{"text": "kopi ☕ di https://contoh.id/a", "score": 0.5, "n": 1},
                       {"text": "garis \\ miring", "score": None, "n": 2}]
    with AtomicWriter(tmp_path / "out.tsv.gz") as writer:
        writer.write(frame)
    back = pd.read_csv(tmp_path / "out.tsv.gz", sep="\t")
    assert back["text"].tolist() == frame["text"].tolist()


def test_parquet_writer_keeps_numeric_scores_and_casts_later_chunks(tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    first = scored(0, 3).assign(views=["1", None, "3"], evidence=[[("kata", 0.5)], [], None])
    later = scored(3, 2).assign(views=[7, 8], evidence=["teks", None])
    later["score"] = later["score"].astype("float32")
    with AtomicWriter(target) as writer:
        writer.write(first)
        writer.write(later[["evidence", "views", "flagged", "score", "text"]])
    table = pq.read_table(target)
    assert table.schema.field("score").type == pa.float64()
    assert table.schema.field("flagged").type == pa.bool_()
    assert table.schema.field("views").type == pa.string()
    back = table.to_pandas()
    assert back["views"].tolist()[3:] == ["7", "8"]
    assert back["evidence"].tolist()[:2] == ['[["kata", 0.5]]', "[]"]
    assert back["score"].tolist() == pytest.approx([0, 0.01, 0.02, 0.03, 0.04])


@pytest.mark.parametrize("name", ["out.csv", "out.jsonl.gz", "out.parquet"])
def test_failure_mid_write_leaves_no_file(tmp_path: Path, name: str) -> None:
    with pytest.raises(RuntimeError), AtomicWriter(tmp_path / name) as writer:
        writer.write(scored(0, 50))
        raise RuntimeError("gagal di tengah")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(KeyboardInterrupt), AtomicWriter(tmp_path / name) as writer:
        writer.write(scored(0, 50))
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_existing_target_is_kept_on_failure_and_replaced_on_success(tmp_path: Path) -> None:
    target = write(tmp_path / "out.csv", "lama\n")
    os.chmod(target, 0o640)
    with pytest.raises(ValueError), AtomicWriter(target) as writer:
        writer.write(scored(0, 5))
        raise ValueError("gagal")
    assert target.read_text() == "lama\n" and list(tmp_path.iterdir()) == [target]
    with AtomicWriter(target) as writer:
        writer.write(scored(0, 1))
    assert target.read_text() == "text,score,flagged\npesan 0,0.0,True\n"
    assert list(tmp_path.iterdir()) == [target]
    assert target.stat().st_mode & 0o777 == 0o640


def test_writer_rejects_unknown_formats_and_missing_directories(tmp_path: Path) -> None:
    for name in ("out.xls", "out.parquet.gz", "out.xlsx.gz", "out"):
        with pytest.raises(DataError, match="output format"):
            AtomicWriter(tmp_path / name)
    with pytest.raises(DataError, match="does not exist"), \
            AtomicWriter(tmp_path / "tidak" / "out.csv"):
        pass


def test_written_files_read_back_identically(tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", 'id,text\n1,"dua\nbaris, koma"\n2,"kutip ""x"""\n3,\n')
    frame, _, _ = read_all(source)
    for name in ("back.csv", "back.csv.gz", "back.jsonl", "back.parquet"):
        with AtomicWriter(tmp_path / name) as writer:
            writer.write(frame.drop(columns=["_file", "_line"]))
        again, reader, _ = read_all(tmp_path / name)
        assert again["text"].tolist() == ["dua\nbaris, koma", 'kutip "x"', ""], name
        assert again["id"].tolist() == ["1", "2", "3"], name
        assert reader.rejected == []


def test_write_rejects(tmp_path: Path) -> None:
    source = write(tmp_path / "bad.csv", BAD_CSV)
    _, reader, _ = read_all(source, on_bad_lines="skip")
    target = tmp_path / "out.csv.rejects.csv"
    write_rejects(target, reader.rejected)
    back = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert list(back.columns) == ["file", "line", "reason", "raw"]
    assert back["line"].tolist() == ["3", "4", "5", "8", "10"]
    assert back["raw"].iloc[2] == '4,"tanda kutip tidak,k1'
    write_rejects(tmp_path / "none.csv", [])
    assert (tmp_path / "none.csv").read_text() == "file,line,reason,raw\n"
    write_rejects(tmp_path / "one.txt", [Rejected("a.csv", 2, "alasan", "x")])
    assert (tmp_path / "one.txt").read_text() == "file,line,reason,raw\na.csv,2,alasan,x\n"


def test_spreadsheet_safe_escapes_formulas_reversibly() -> None:
    from kanalml.io import spreadsheet_safe, unescape_cell

    cells = ["=1+1", "+62 812", "-x", "@a", "\tx", "\rx", "'=x", "''-x", "'biasa", "-5", "+1.5e3",
             "biasa", "", None, 7, "a=b", "- 5"]
    frame = pd.DataFrame({"text": cells, "n": range(len(cells))})
    safe = spreadsheet_safe(frame)
    assert safe["text"].tolist()[:9] == ["'=1+1", "'+62 812", "'-x", "'@a", "'\tx", "'\rx", "''=x",
                                         "'''-x", "'biasa"]
    assert safe["text"].tolist()[9:] == ["-5", "+1.5e3", "biasa", "", None, 7, "a=b", "'- 5"]
    assert [unescape_cell(c) if isinstance(c, str) else c for c in safe["text"]] == cells
    assert frame["text"].tolist() == cells  # the input is not changed
    assert spreadsheet_safe(frame[["n"]]) is not None
    assert list(spreadsheet_safe(pd.DataFrame(columns=["@x", "y"])).columns) == ["'@x", "y"]


def test_a_carriage_return_in_a_cell_survives_the_csv_writer(tmp_path: Path) -> None:
    frame = pd.DataFrame({"text": ["satu\rdua", "\rtiga", "biasa"], "n": ["1", "2", "3"]})
    for name in ("cr.csv", "cr.tsv"):
        with AtomicWriter(tmp_path / name) as writer:
            writer.write(frame.iloc[:1])
            writer.write(frame.iloc[1:])
        back, reader, _ = read_all(tmp_path / name)
        assert back["text"].tolist() == ["satu\rdua", "'\rtiga", "biasa"], name
        assert back["n"].tolist() == ["1", "2", "3"] and reader.rejected == []


# -- invalid Unicode ---------------------------------------------------------------------------


def invalid_utf8_parquet(path: Path, cells: list[bytes | None]) -> Path:
    """A Parquet file whose string column holds the given bytes: Parquet does not check UTF-8."""
    offsets = [0]
    for cell in cells:
        offsets.append(offsets[-1] + len(cell or b""))
    validity = pa.array([c is not None for c in cells]).buffers()[1]
    text = pa.Array.from_buffers(pa.string(), len(cells), [
        validity, pa.py_buffer(pa.array(offsets, type=pa.int32()).buffers()[1]),
        pa.py_buffer(b"".join(c or b"" for c in cells))])
    pq.write_table(pa.table({"id": list(range(len(cells))), "text": text}), path)
    return path


def test_lone_surrogates_and_invalid_utf8_are_replaced_and_reported(tmp_path: Path) -> None:
    jsonl = write(tmp_path / "a.jsonl",
                  '{"text": "ab\\ud800cd", "k\\udc80": "\\ud83d\\udca3 bom"}\n'
                  '{"text": "bersih", "k\\udc80": "\\udfff"}\n')
    frame, reader, warnings = read_all(jsonl)
    assert frame["text"].tolist() == ["ab\ufffdcd", "bersih"]
    assert list(frame.columns)[1] == "k\ufffd"
    assert frame["k\ufffd"].tolist() == ["💣 bom", "\ufffd"]  # an escaped pair is one emoji
    assert warnings == [f"{jsonl}: 2 cell(s) held invalid Unicode (lone surrogates or bytes that "
                        "are not UTF-8; first at line 1); each bad code point now reads U+FFFD"]

    telegram = tmp_path / "result.json"
    telegram.write_text(json.dumps(chat("K\ud800", "public_channel",
                                        [message(1, "x\udbffy"), "\ud800 bukan objek"])),
                        encoding="utf-8")
    frame, reader, warnings = read_all(telegram)
    # ijson's C parser already turns a lone surrogate escape into "?"
    assert frame["text"].tolist() == ["x?y"] and frame["chat"].tolist() == ["K?"]
    assert [r.raw for r in reader.rejected] == ['"? bukan objek"']
    write_rejects(tmp_path / "rejects.csv", reader.rejected)  # writable: valid UTF-8

    parquet = invalid_utf8_parquet(tmp_path / "a.parquet", [b"ok", b"a\xffb", None, b"\xc3("])
    frame, reader, warnings = read_all(parquet)
    assert frame["text"].tolist()[:2] == ["ok", "a\ufffdb"] and frame["text"].isna()[2]
    assert frame["text"].tolist()[3] == "\ufffd(" and frame["id"].tolist() == [0, 1, 2, 3]
    assert "2 cell(s) held invalid Unicode" in warnings[0] and "line 2" in warnings[0]
    for chunk in (c for c, _ in ExportReader([jsonl, telegram, parquet], warn=lambda m: None)):
        cells = [v for c in chunk.columns for v in chunk[c].tolist()]
        for value in [*chunk.columns, *cells]:
            if isinstance(value, str):
                value.encode("utf-8")  # never raises


@pytest.mark.parametrize("name", ["author_name", "AuthorName", "userName", "user.screen_name",
                                  "sender_username", "fromId", "from_name", "forwarded_from",
                                  "fwd_from", "nama_pengirim", "penulis", "post_author",
                                  "uploader", "Uploader Name", "uploaded_by", "postedBy",
                                  "first_name", "display_name", "owner_id", "pengunggah"])
def test_author_like_columns_are_found_by_the_words_of_their_name(name: str) -> None:
    from kanalml.io import is_author_column

    assert is_author_column(name)


@pytest.mark.parametrize("name", ["text", "message", "channel", "chat", "channel_username",
                                  "date", "views", "forwards", "message_id", "caption", "source",
                                  "channel_name", "file_name", "upload_date", "by"])
def test_other_columns_are_not_authors(name: str) -> None:
    from kanalml.io import is_author_column

    assert not is_author_column(name)


def test_rejected_records_never_carry_author_fields(tmp_path: Path) -> None:
    from kanalml.io import RAW_WITHHELD

    with_authors = write(tmp_path / "a.csv", "id,text,author_name\n1,halo,Budi Santoso\n"
                                             '2,"pecah,Budi Santoso,x,y\n3,ok,Siti\n')
    _, reader, _ = read_all(with_authors)
    assert [r.raw for r in reader.rejected] == [RAW_WITHHELD]
    _, kept, _ = read_all(with_authors, keep_authors=True)
    assert "Budi Santoso" in kept.rejected[0].raw
    without = write(tmp_path / "b.csv", 'id,text\n1,halo\n2,"a","b","c"\n')
    _, reader, _ = read_all(without)
    assert reader.rejected[0].raw == '2,"a","b","c"'  # nothing to hide: the line is shown
    jsonl = write(tmp_path / "c.jsonl", '{"text": "halo", "fromName": "Budi Santoso"\n'
                                        '{"text": "rusak" \n{"text": "ok"}\n')
    _, reader, _ = read_all(jsonl)
    assert [r.raw for r in reader.rejected] == [RAW_WITHHELD, '{"text": "rusak" ']
    telegram = tmp_path / "result.json"
    telegram.write_text(json.dumps(chat("K", "public_channel",
                                        [message(1, "halo"), [{"from": "Budi Santoso"}]])),
                        encoding="utf-8")
    _, reader, _ = read_all(telegram)
    assert [r.raw for r in reader.rejected] == [RAW_WITHHELD]


def test_error_messages_do_not_quote_posts_or_names(tmp_path: Path) -> None:
    bad = tmp_path / "result.json"
    bad.write_text('{"name": "K", "type": "public_channel", "messages": [{"id": 1, '
                   '"type": "message", "from": "Budi Santoso", "text": "rahasia" xx}]}',
                   encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_all(bad)
    assert "invalid JSON" in str(info.value)
    assert "Budi" not in str(info.value) and "rahasia" not in str(info.value)
    with pytest.raises(DataError) as info, AtomicWriter(tmp_path / "o.parquet") as writer:
        writer.write(pd.DataFrame({"n": [1, 2]}))
        writer.write(pd.DataFrame({"n": ["Budi Santoso", "3"]}))
    assert "'n'" in str(info.value) and "Budi" not in str(info.value)


# -- mixed encodings and NUL bytes -----------------------------------------------------------


def test_each_line_is_decoded_on_its_own(tmp_path: Path) -> None:
    # a UTF-8 export to which a Windows tool appended cp1252 lines: neither encoding fits all
    body = ("id,text\n1,kopi ☕ enak\n".encode() + b"2,caf\xe9 \x93kutip\x94\n"
            + "3,naïve 👍\r\n".encode() + b"4,\xe9t\xe9\r5,biasa\n")
    for name, data in [("mixed.csv", body), ("mixed.csv.gz", gzip.compress(body))]:
        frame, reader, warnings = read_all(write_bytes(tmp_path / name, data))
        assert frame["text"].tolist() == ["kopi ☕ enak", "café “kutip”", "naïve 👍", "été",
                                          "biasa"], name
        assert frame["_line"].tolist() == [2, 3, 4, 5, 6] and reader.rejected == []
        assert warnings == [f"{tmp_path / name}: 2 line(s) are not valid UTF-8 (first: line 3); "
                            "read those as cp1252 (Windows-1252), the other lines as UTF-8"]
    jsonl = write_bytes(tmp_path / "mixed.jsonl", '{"text": "☕"}\n'.encode()
                        + b'{"text": "caf\xe9"}\n')
    frame, _, warnings = read_all(jsonl)
    assert frame["text"].tolist() == ["☕", "café"] and "first: line 2" in warnings[0]


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_nul_bytes_are_removed_from_cells_not_taken_for_binary(tmp_path: Path) -> None:
    more = "".join(f"{i},pesan biasa nomor {i}\n" for i in range(4, 30)).encode()
    csv_path = write_bytes(tmp_path / "nul.csv",
                           b"id,text\n1,halo\x00 semua\n2,\x00\x00\n3,biasa\n" + more)
    frame, reader, warnings = read_all(csv_path)
    assert frame["text"].tolist()[:3] == ["halo semua", "", "biasa"] and reader.rejected == []
    assert len(frame) == 29
    assert warnings == [f"{csv_path}: 2 cell(s) held NUL characters (first at line 2); they were "
                        "removed"]
    jsonl = write(tmp_path / "nul.jsonl", '{"text": "a\\u0000b", "k": "\\u0000"}\n')
    frame, _, warnings = read_all(jsonl)
    assert frame["text"].tolist() == ["ab"] and frame["k"].tolist() == [""]
    pq.write_table(pa.table({"text": ["x\x00y", "z"]}), tmp_path / "nul.parquet")
    frame, _, warnings = read_all(tmp_path / "nul.parquet")
    assert frame["text"].tolist() == ["xy", "z"] and "1 cell(s) held NUL" in warnings[0]
    utf16 = write_bytes(tmp_path / "utf16.csv", "id,text\n1,halo\n".encode("utf-16-le"))
    with pytest.raises(DataError, match="binary data"):  # half its bytes are NUL
        list(ExportReader([utf16]))


def test_nested_author_keys_are_dropped_at_any_depth(tmp_path) -> None:
    src = tmp_path / "nested.jsonl"
    src.write_text('{"text": "halo", "meta": {"from_id": "user123", "views": 5, '
                   '"fwd": [{"sender_name": "Budi", "date": "2026-11-01"}]}}\n', encoding="utf-8")
    kept = pd.concat(frame for frame, _ in ExportReader([src], keep_authors=True))
    dropped = pd.concat(frame for frame, _ in ExportReader([src]))
    assert "user123" in kept["meta"].iloc[0] and "Budi" in kept["meta"].iloc[0]
    assert json.loads(dropped["meta"].iloc[0]) == {"views": 5, "fwd": [{"date": "2026-11-01"}]}


# -- the readers' context ----------------------------------------------------------------------


def test_a_format_reader_needs_only_its_context(tmp_path: Path) -> None:
    """Each format module reads through a ReadContext (options and a sink), not ExportReader."""
    from kanalml.io import ReadContext, ReadOptions, ReadSink
    from kanalml.io.jsonl import read_jsonl
    from kanalml.io.telegram_public import read_telegram
    from kanalml.io.text import encoding_of

    src = write(tmp_path / "a.jsonl", '{"text": "halo", "user": "Budi"}\n[1]\n{"text": "x"}\n')
    warnings: list[str] = []
    sink = ReadSink(warn=warnings.append)
    context = ReadContext(src, ReadOptions(chunk_rows=1, reserved=frozenset(
        {"_file", "_line", "user"})), sink)
    chunks = list(read_jsonl(context, False, encoding_of(src, False)))
    assert [(len(frame), column) for frame, column in chunks] == [(1, "text"), (1, "text")]
    assert "user" not in chunks[0][0].columns  # an author column, dropped before renaming
    assert [(r.line, r.reason) for r in sink.rejected] == [(2, "a JSON list, not an object")]
    assert warnings == []  # the per-file summary is ExportReader's, not the format's

    private = tmp_path / "result.json"
    private.write_text(json.dumps(chat("Keluarga", "personal_chat", PUBLIC_MESSAGES)),
                       encoding="utf-8")
    sink = ReadSink(warn=warnings.append)
    assert list(read_telegram(ReadContext(private, ReadOptions(), sink), False)) == []
    assert sink.skipped_chats == {"personal_chat": 1} and sink.rejected == []
    with pytest.raises(DataError, match=r"a.jsonl:2: a JSON list"):
        list(read_jsonl(ReadContext(src, ReadOptions(on_bad_lines="error"), ReadSink(print)),
                        False, encoding_of(src, False)))
