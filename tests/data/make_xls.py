"""Builds tests/data/sheets.xls: an .xlsx written with openpyxl, converted by LibreOffice.

Run once, from the repository root, where LibreOffice is installed (see README.md here);
the tests read the committed .xls and never need LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent


def main() -> int:
    book = openpyxl.Workbook()
    book.remove(book.active)
    posts = book.create_sheet("Lembar1")
    for row in [["id", "text", "views", "date", "ok", "author_name"],
                [48212, "halo dunia", 1500, dt.datetime(2026, 11, 2, 6, 30), True, "budi"],
                [],  # an empty row: row 3
                [48213, "pasar pagi ramai", 2.5, dt.date(2026, 11, 3), False, "sari"]]:
        posts.append(row)
    lower = book.create_sheet("Lembar2")  # a table at C3, its header's D3 left empty
    for i, row in enumerate([["text", None, "id"], ["kabar sore", "x", "x1"]]):
        for j, value in enumerate(row):
            lower.cell(row=3 + i, column=3 + j, value=value)
    book.create_sheet("Kosong")  # an empty sheet
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "sheets.xlsx"
        book.save(source)
        subprocess.run(["soffice", "--headless", "--convert-to", "xls", "--outdir", str(HERE),
                        str(source)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
