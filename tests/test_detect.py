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


def test_rows_unknown_for_gzip_json_and_what_the_reader_will_refuse(tmp_path: Path) -> None:
    POSTS.to_csv(tmp_path / "a.csv", index=False)
    POSTS.to_csv(tmp_path / "c.csv.gz", index=False)
    POSTS.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    write(tmp_path / "result.json", json.dumps({"name": "K", "type": "public_channel",
                                                "messages": []}))
    write(tmp_path / "empty.csv", "")
    write(tmp_path / "broken.parquet", b"PAR1" + bytes(20))
    for other in ("c.csv.gz", "d.jsonl", "result.json", "missing.csv", "empty.csv",
                  "broken.parquet"):
        assert estimate_rows([tmp_path / "a.csv", tmp_path / other]) is None, other
    assert estimate_rows([tmp_path]) is None  # a directory


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
