"""Excel 97-2003 .xls and OpenDocument .ods inputs, read as an .xlsx is: every sheet (or
--sheet), the sheet and row named, typed cells as text; and the files that only look like
workbooks refused in one line naming the file.

The .xls is tests/data/sheets.xls (made by LibreOffice, tests/data/README.md); every .ods is
built here. Fixture texts are everyday Indonesian posts; nothing here is extremist content.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest

from kanalml.cli import main
from kanalml.errors import DataError
from kanalml.io import ExportReader, detect_format, estimate_rows

pytest.importorskip("python_calamine")

XLS = Path(__file__).resolve().parent / "data" / "sheets.xls"

# What sheets.xls holds (tests/data/make_xls.py), cell for cell: None is an empty cell.
SHEETS: dict[str, list[list[object]]] = {
    "Lembar1": [["id", "text", "views", "date", "ok", "author_name"],
                [48212, "halo dunia", 1500, dt.datetime(2026, 11, 2, 6, 30), True, "budi"],
                [],
                [48213, "pasar pagi ramai", 2.5, dt.date(2026, 11, 3), False, "sari"]],
    "Lembar2": [[], [], [None, None, "text", None, "id"], [None, None, "kabar sore", "x", "x1"]],
    "Kosong": [],
}


def ods(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """An OpenDocument spreadsheet: ``mimetype`` stored first, the manifest, and content.xml
    with one table per sheet, each cell typed as ODF types it (no styles: none are needed)."""

    def cell(value: object) -> str:
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, bool):
            typed = f'office:value-type="boolean" office:boolean-value="{str(value).lower()}"'
        elif isinstance(value, (int, float)):
            typed = f'office:value-type="float" office:value="{value}"'
        elif isinstance(value, (dt.date, dt.datetime)):
            typed = f'office:value-type="date" office:date-value="{value.isoformat()}"'
        else:
            typed = 'office:value-type="string"'
        return f"<table:table-cell {typed}><text:p>{escape(str(value))}</text:p></table:table-cell>"

    tables = "".join(
        f'<table:table table:name="{escape(name)}">'
        + "".join("<table:table-row>" + ("".join(map(cell, row)) or "<table:table-cell/>")
                  + "</table:table-row>" for row in rows or [[]])
        + "</table:table>" for name, rows in sheets.items())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
        ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def ole(path: Path, streams: dict[str, bytes]) -> Path:
    """An OLE2 compound file (the container of .xls and .doc) holding ``streams`` (at most
    three): a header, one FAT sector, one directory sector, then each stream in 512-byte
    sectors, padded to the 4,096 bytes under which a stream would go to the mini stream."""
    end, free, fat_sector, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\0\0"
        return (encoded.ljust(64, b"\0") + struct.pack("<HBBIII", len(encoded), kind, 1, none,
                                                       right, child)
                + bytes(36) + struct.pack("<IQ", start, size))

    fat, entries, data, sector = [fat_sector, end], [], b"", 2
    for i, (name, body) in enumerate(streams.items()):
        body = body.ljust(max(4096, -(-len(body) // 512) * 512), b"\0")
        count = len(body) // 512
        fat += [sector + k + 1 for k in range(count - 1)] + [end]
        right = i + 2 if i + 1 < len(streams) else none
        entries.append(entry(name, 2, none, right, sector, len(body)))
        data, sector = data + body, sector + count
    directory = b"".join([entry("Root Entry", 5, 1 if streams else none, none, end, 0),
                          *entries]).ljust(512, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<9I", 0, 1, 1, 0, 4096, end, 0, end, 0)  # 1 FAT sector, dir at 1
              + struct.pack("<I", 0) + b"\xff" * 432)  # the FAT is sector 0
    path.write_bytes(header + struct.pack("<128I", *fat, *[free] * (128 - len(fat)))
                     + directory + data)
    return path


def read_all(path: Path, **options: object) -> pd.DataFrame:
    return pd.concat([chunk for chunk, _ in ExportReader([path], **options)],
                     ignore_index=True)


def one_line_error(path: Path, match: str) -> str:
    with pytest.raises(DataError, match=match) as caught:
        read_all(path)
    message = str(caught.value)
    assert message.startswith(f"{path}") and "\n" not in message
    return message


@pytest.fixture(params=["xls", "ods"])
def workbook(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The same three sheets as .xls (the committed fixture) and as .ods (built here)."""
    if request.param == "xls":
        return Path(shutil.copy(XLS, tmp_path / "sheets.xls"))
    return ods(tmp_path / "sheets.ods", SHEETS)


def test_every_sheet_typed_cells_as_text_and_rows_named(workbook: Path) -> None:
    assert detect_format(workbook).kind == workbook.suffix[1:]
    assert estimate_rows([workbook]) is None  # rows unknown until read, as for .xlsx
    frame = read_all(workbook)
    assert frame["text"].tolist() == ["halo dunia", "pasar pagi ramai", "kabar sore"]
    assert frame["id"].tolist() == ["48212", "48213", "x1"]  # whole numbers without ".0"
    assert frame["views"].tolist()[:2] == ["1500", "2.5"]
    assert frame["date"].tolist()[:2] == ["2026-11-02T06:30:00", "2026-11-03"]
    assert frame["ok"].tolist()[:2] == ["True", "False"]
    assert frame["column_D"].tolist()[2] == "x"  # Lembar2's empty header cell, at D3
    assert "author_name" not in frame.columns
    assert frame["_file"].tolist() == [f"{workbook}[Lembar1]"] * 2 + [f"{workbook}[Lembar2]"]
    assert frame["_line"].tolist() == [2, 4, 4]  # the row numbers the spreadsheet shows
    kept = read_all(workbook, keep_authors=True)
    assert kept["author_name"].tolist()[:2] == ["budi", "sari"]


def test_one_sheet_chunks_and_missing_sheets(workbook: Path) -> None:
    only = read_all(workbook, sheet="Lembar2")
    assert only["text"].tolist() == ["kabar sore"] and only["_line"].tolist() == [4]
    chunks = [chunk for chunk, _ in ExportReader([workbook], chunk_rows=1)]
    assert [len(c) for c in chunks] == [1, 1, 1]
    assert [c["_file"].iloc[0].endswith("[Lembar2]") for c in chunks] == [False, False, True]
    with pytest.raises(DataError, match=r"no sheet 'Lembar3' \(sheets: Lembar1, Lembar2, Kosong\)"):
        read_all(workbook, sheet="Lembar3")
    with pytest.raises(DataError, match=r": no sheet has a header row \(sheet 'Kosong'\)"):
        read_all(workbook, sheet="Kosong")


def test_a_workbook_named_for_another_kind_is_read_by_its_content(tmp_path: Path) -> None:
    for source, name in [(XLS, "export.xlsx"), (ods(tmp_path / "a.ods", SHEETS), "export.xls")]:
        renamed = Path(shutil.copy(source, tmp_path / name))
        assert detect_format(renamed).kind == source.suffix[1:]
        assert read_all(renamed)["text"].tolist()[-1] == "kabar sore"


def test_a_corrupt_xls_names_the_file(tmp_path: Path) -> None:
    data = XLS.read_bytes()
    cut = tmp_path / "cut.xls"
    cut.write_bytes(data[:3000])  # its directory sector lies past the end
    one_line_error(cut, "a corrupt OLE2 file")
    workbook_at = data.index(b"\x09\x08\x10\x00\x00\x06\x05\x00")  # the BIFF8 BOF record
    scrambled = tmp_path / "scrambled.xls"  # the container intact, its Workbook stream not
    scrambled.write_bytes(data[:workbook_at] + b"\xff" * 8 + data[workbook_at + 8:])
    one_line_error(scrambled, r"not a readable Excel 97-2003 \(\.xls\) workbook: ")


def test_ole2_files_that_are_not_workbooks(tmp_path: Path) -> None:
    doc = ole(tmp_path / "laporan.xls", {"WordDocument": b"\xec\xa5" + bytes(100)})
    one_line_error(doc, r"an OLE2 file that is not an Excel workbook .*streams: WordDocument")
    locked = ole(tmp_path / "locked.xlsx", {"EncryptionInfo": b"\x04\x00\x04\x00",
                                           "EncryptedPackage": bytes(200)})
    one_line_error(locked, r"an encrypted Office file \(saved with a password\)")
    book = ole(tmp_path / "book.xls", {"Workbook": bytes(100)})  # the stream that makes an .xls
    assert detect_format(book).kind == "xls"


def test_random_bytes_after_the_ole2_magic_are_a_corrupt_file(tmp_path: Path) -> None:
    rng = random.Random(5)
    path = tmp_path / "acak.xls"
    for size in (8, 600, 3000, 9000) * 50:
        data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(size)
        if size > 8:  # a sector size that reads on, into the random FAT and directory
            data = data[:30] + b"\x09\x00" + data[32:]
        path.write_bytes(data)
        with pytest.raises(DataError, match=r"a corrupt OLE2 file|not an Excel workbook"):
            detect_format(path)


def test_zips_and_texts_that_are_not_workbooks(tmp_path: Path) -> None:
    text = tmp_path / "surat.ods"
    with zipfile.ZipFile(text, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    one_line_error(text, "not a spreadsheet workbook .*OpenDocument spreadsheet mimetype")
    binary = tmp_path / "posts.xlsb"
    with zipfile.ZipFile(binary, "w") as archive:
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    one_line_error(binary, r"\.xlsb\) is not read; save it as \.xlsx")
    broken = tmp_path / "broken.ods"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content><table:table")
    one_line_error(broken, r"not a readable OpenDocument spreadsheet: ")
    page = tmp_path / "laporan.xls"
    page.write_text("<html><table><tr><td>text</td></tr></table></html>")
    one_line_error(page, r"an HTML or XML table named \.xls, not an Excel workbook")
    tabbed = tmp_path / "ekspor.xls"  # some tools export a tab-separated text as .xls
    tabbed.write_text("id\ttext\n1\thalo dunia\n")
    assert read_all(tabbed)["text"].tolist() == ["halo dunia"]


def test_score_each_format_through_the_command_line(tmp_path: Path, capsys) -> None:
    table = tmp_path / "posts.csv"
    pd.DataFrame({"text": ["halo dunia", "pasar pagi ramai", "kabar sore"]}).to_csv(
        table, index=False)
    assert main(["score", str(table), "-o", str(tmp_path / "csv.csv"), "-q"]) == 0
    expected = pd.read_csv(tmp_path / "csv.csv")
    for book in [Path(shutil.copy(XLS, tmp_path / "sheets.xls")),
                 ods(tmp_path / "sheets.ods", SHEETS)]:
        out = tmp_path / f"{book.suffix[1:]}.csv"
        assert main(["score", str(book), "-o", str(out), "-q"]) == 0
        scored = pd.read_csv(out)
        assert scored["text"].tolist() == expected["text"].tolist()
        assert scored["score"].tolist() == expected["score"].tolist()
        assert scored["_file"].tolist() == [f"{book}[Lembar1]"] * 2 + [f"{book}[Lembar2]"]
        assert "author_name" not in scored.columns
        only = tmp_path / f"{book.suffix[1:]}-lembar2.xlsx"
        assert main(["score", str(book), "--sheet", "Lembar2", "-o", str(only), "-q"]) == 0
        assert pd.read_excel(only, engine="openpyxl")["text"].tolist() == ["kabar sore"]
    doc = ole(tmp_path / "laporan.xls", {"WordDocument": bytes(100)})
    assert main(["score", str(doc), "-o", str(tmp_path / "doc.csv"), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"{doc}: an OLE2 file that is not an Excel workbook" in err
    assert "Traceback" not in err and not (tmp_path / "doc.csv").exists()
