"""kanalml.io.detect: format detection, row estimates and glob expansion, on files in tmp_path.

Fixture texts are everyday Indonesian posts; nothing here is extremist content.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from kanalml.io import DataError, Detected, detect_format, estimate_rows, expand_globs

POSTS = pd.DataFrame({"id": range(12), "text": [f"kabar pagi nomor {i}" for i in range(12)]})


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# -- detect_format -----------------------------------------------------------------------------


def test_formats_by_suffix_and_by_content(tmp_path: Path) -> None:
    lines = '{"text": "halo"}\n{"text": "apa kabar"}\n'
    telegram = json.dumps({"name": "Kanal", "type": "public_channel", "messages": []})
    POSTS.to_parquet(tmp_path / "a.parquet", index=False)
    POSTS.to_parquet(tmp_path / "no_suffix", index=False)
    cases = {
        write(tmp_path / "a.csv", "id,text\n1,halo\n"): ("csv", False),
        write(tmp_path / "a.tsv", "id\ttext\n1\thalo\n"): ("csv", False),
        write(tmp_path / "a.txt", "id;text\n1;halo\n"): ("csv", False),
        write(tmp_path / "a.jsonl", lines): ("jsonl", False),
        write(tmp_path / "lines.json", lines): ("jsonl", False),
        write(tmp_path / "result.json", telegram): ("telegram", False),
        write(tmp_path / "pretty.json", json.dumps(json.loads(telegram), indent=1)):
            ("telegram", False),
        write(tmp_path / "export", lines): ("jsonl", False),
        write(tmp_path / "a.csv.gz", gzip.compress(b"id,text\n1,halo\n")): ("csv", True),
        write(tmp_path / "gz_no_suffix", gzip.compress(lines.encode())): ("jsonl", True),
        tmp_path / "a.parquet": ("parquet", False),
        tmp_path / "no_suffix": ("parquet", False),
    }
    for path, expected in cases.items():
        assert detect_format(path) == expected, path
        assert detect_format(str(path)) == Detected(*expected)
    assert detect_format(tmp_path / "a.csv.gz").gzipped


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.csv", b"", "empty file"),
    ("blank.csv", b"\xef\xbb\xbf \n\n", "empty file"),
    ("a.zip", b"PK\x03\x04" + bytes(100), "a zip archive: extract it first"),
    ("utf16.csv", "\ufeffid,text\n".encode("utf-16-le"), "UTF-16 text is not supported"),
    ("image.csv", bytes(range(256)) * 4, "binary data"),
    ("fake.parquet", b"id,text\n1,halo\n", "no PAR1 magic bytes"),
    ("a.parquet.gz", gzip.compress(b"PAR1" + bytes(10)), "gzip-compressed Parquet"),
    ("broken.csv.gz", b"\x1f\x8b\x08\x00garbage", "corrupt gzip data"),
])
def test_what_is_not_an_export_is_one_line_naming_the_file(tmp_path: Path, name: str,
                                                           data: bytes, message: str) -> None:
    path = write(tmp_path / name, data)
    with pytest.raises(DataError, match=message) as caught:
        detect_format(path)
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_missing_files_and_directories(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        detect_format(tmp_path / "missing.csv")
    with pytest.raises(DataError, match=r"is a directory, not a file .*\*\.csv"):
        detect_format(tmp_path)


# -- estimate_rows -----------------------------------------------------------------------------


def test_rows_from_lines_and_parquet_metadata(tmp_path: Path) -> None:
    POSTS.to_csv(tmp_path / "a.csv", index=False)
    POSTS.to_parquet(tmp_path / "b.parquet", index=False)
    POSTS.to_csv(tmp_path / "c.tsv", index=False, sep="\t")
    assert estimate_rows([tmp_path / "a.csv", tmp_path / "b.parquet"]) == 24
    assert estimate_rows([str(tmp_path / "c.tsv")]) == 12
    write(tmp_path / "header.csv", "id,text\n")
    write(tmp_path / "no_newline.csv", "id,text")
    assert estimate_rows([tmp_path / "header.csv", tmp_path / "no_newline.csv"]) == 0
    # records, not lines: a field over two lines is one row; blank lines are none
    write(tmp_path / "multi.csv", 'id,text\n1,"baris satu\nbaris dua"\n\n2,"x"\n')
    assert estimate_rows([tmp_path / "multi.csv"]) == 2
    write(tmp_path / "multi.tsv", 'id\ttext\n1\t"baris satu\nbaris dua"\n')
    assert estimate_rows([tmp_path / "multi.tsv"]) == 1
    assert estimate_rows([]) == 0


def test_rows_unknown_for_gzip_csv_and_what_the_reader_will_refuse(tmp_path: Path) -> None:
    POSTS.to_csv(tmp_path / "a.csv", index=False)
    POSTS.to_csv(tmp_path / "c.csv.gz", index=False)
    write(tmp_path / "empty.csv", "")
    write(tmp_path / "broken.parquet", b"PAR1" + bytes(20))
    write(tmp_path / "broken.jsonl.gz", b"\x1f\x8b\x08\x00garbage")
    # its first mebibyte detects as JSON Lines; the count then meets the cut: unknown, no raise
    lines = "".join(json.dumps({"id": i, "text": f"kabar pagi nomor {i}"}) + "\n"
                    for i in range(60_000)).encode()
    packed = gzip.compress(lines)
    write(tmp_path / "cut.jsonl.gz", packed[: len(packed) * 3 // 4])
    assert detect_format(tmp_path / "cut.jsonl.gz") == ("jsonl", True)
    for other in ("c.csv.gz", "missing.csv", "empty.csv", "broken.parquet", "broken.jsonl.gz",
                  "cut.jsonl.gz"):
        assert estimate_rows([tmp_path / "a.csv", tmp_path / other]) is None, other
    assert estimate_rows([tmp_path]) is None  # a directory


def tg_message(i: int, text: object = None, kind: str = "message") -> dict[str, object]:
    text = f"kabar pagi nomor {i}" if text is None else text
    return {"id": i, "type": kind, "date": "2024-05-01T10:00:00", "from": "Admin",
            "text": text, "text_entities": [{"type": "plain", "text": str(text)}]}


def tg_chat(name: str | None, kind: str | None, messages: list[object]) -> dict[str, object]:
    chat: dict[str, object] = {} if name is None else {"name": name}
    if kind is not None:
        chat["type"] = kind
    return {**chat, "id": len(messages), "messages": messages}


# A full-account export: 10 rows to read, from 3 public chats; every other message is private,
# a service message, a type written after the messages, or not an object
TG_EXPORT = {
    "about": "ekspor akun",
    "personal_information": {"first_name": "Budi", "phone_number": "+62 812 0000 0000"},
    "chats": {"about": "obrolan", "list": [
        tg_chat("Teman Kantor", "private_group", [tg_message(i) for i in range(1, 6)]),
        tg_chat("Kanal Info", "public_channel", [
            tg_message(1),
            tg_message(2, "", kind="service"),
            tg_message(3, ["info ", {"type": "bold", "text": "penting"}, " hari ini"]),
            tg_message(4, 'tulis "type": "message" di JSON, "messages": [] juga'),  # quoted
            "bukan objek",  # rejected by the reader: not a row
            tg_message(5)]),
        tg_chat(None, "saved_messages", [tg_message(1, "catatan pribadi")]),
        tg_chat("Tanpa Jenis", None, [tg_message(1, "jenisnya tidak ada")]),
        tg_chat("Diskusi Umum", "public_supergroup", [tg_message(i) for i in range(1, 6)]),
        {"name": "Telat", "messages": [tg_message(1)], "type": "public_channel"},  # type late
        tg_chat("Ibu", "personal_chat", [tg_message(i, "pulang jam berapa?") for i in range(3)]),
    ]},
    "left_chats": {"about": "keluar", "list": [
        tg_chat("Grup Lama", "public_supergroup", [tg_message(7), tg_message(8, kind="service")]),
        tg_chat("Grup Tertutup", "private_supergroup", [tg_message(9)]),
    ]},
}


def read_rows(path: Path) -> int:
    from kanalml.io import ExportReader

    reader = ExportReader([path], warn=lambda message: None)
    for _ in reader:
        pass
    return reader.rows_read


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])  # bytes per read: keys cut across reads
def test_rows_of_a_telegram_export_are_the_messages_of_its_public_chats(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr("kanalml.io.text.BLOCK", block)
    forms = {  # as Telegram Desktop writes it, on one line, minified, gzip'd
        "result.json": json.dumps(TG_EXPORT, indent=1, ensure_ascii=False),
        "line.json": json.dumps(TG_EXPORT, ensure_ascii=False),
        "min.json": json.dumps(TG_EXPORT, separators=(",", ":")),
        "result.json.gz": gzip.compress(json.dumps(TG_EXPORT, indent=1).encode()),
    }
    for name, data in forms.items():
        path = write(tmp_path / name, data)
        assert detect_format(path).kind == "telegram"
        assert estimate_rows([path]) == read_rows(path) == 10, name
    # a single chat's export: its messages if public, none if private
    single = write(tmp_path / "chat.json", json.dumps(TG_EXPORT["chats"]["list"][1], indent=1))
    assert estimate_rows([single]) == read_rows(single) == 4
    private = write(tmp_path / "ibu.json", json.dumps(TG_EXPORT["chats"]["list"][-1], indent=1))
    assert estimate_rows([private]) == read_rows(private) == 0
    POSTS.to_csv(tmp_path / "a.csv", index=False)
    assert estimate_rows([tmp_path / "result.json", single, tmp_path / "a.csv"]) == 26


@pytest.mark.parametrize("block", [1, 5, 1 << 20])
def test_rows_of_json_lines_are_its_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          block: int) -> None:
    monkeypatch.setattr("kanalml.io.text.BLOCK", block)
    records = [json.dumps({"id": i, "text": f"kabar, pagi {i}"}) for i in range(1, 6)]
    forms = {  # line ends as the reader takes them: LF, CRLF, a lone CR, the last one or none
        "lf.jsonl": "\n".join(records) + "\n",
        "crlf.jsonl": "\r\n".join(records),
        "cr.jsonl": "\r".join(records) + "\r",
        "mixed.jsonl": "\r\n".join(records[:2]) + "\r" + "\n".join(records[2:]),
        "lines.json": "\n".join(records),
        "a.jsonl.gz": gzip.compress(("\r\n".join(records) + "\r\n").encode()),
    }
    for name, data in forms.items():
        path = write(tmp_path / name, data)
        assert detect_format(path).kind == "jsonl", name
        assert estimate_rows([path]) == read_rows(path) == 5, name
    # a blank line is counted but is no row: the bar ends at the rows read (tests/test_outputs)
    blank = write(tmp_path / "blank.jsonl", records[0] + "\n\n" + records[1] + "\n")
    assert (estimate_rows([blank]), read_rows(blank)) == (3, 2)


# -- expand_globs ------------------------------------------------------------------------------


def test_globs_expand_in_order_sorted_within_a_pattern(tmp_path: Path) -> None:
    for name in ("b.csv", "a.csv", "c.jsonl", "x[1].csv"):
        write(tmp_path / name, "id,text\n1,halo\n")
    paths = expand_globs([str(tmp_path / "c.jsonl"), str(tmp_path / "?.csv"),
                          str(tmp_path / "*.jsonl")])
    assert paths == [str(tmp_path / n) for n in ("c.jsonl", "a.csv", "b.csv", "c.jsonl")]
    # an existing name with glob characters is that file; a plain missing name is left to the
    # reader to report; a pattern matching nothing is an error naming the pattern
    literal, missing = str(tmp_path / "x[1].csv"), str(tmp_path / "missing.csv")
    assert expand_globs([literal, missing]) == [literal, missing]
    with pytest.raises(DataError, match=r"nothing-\*\.csv: no files match"):
        expand_globs([str(tmp_path / "nothing-*.csv")])
    assert expand_globs([]) == []
