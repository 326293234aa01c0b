"""Excel .xlsx output with openpyxl.

Owns writing a table as one worksheet. Knows nothing about models; reading workbooks (.xlsx,
.xls, .ods) is :mod:`kanalml.io.workbook`'s.

One worksheet, ``kanalml``; cells are spreadsheet-safe as in CSV (a text starting with
``= + - @``, TAB or CR gets a leading ``'``, :func:`kanalml.io.spreadsheet.spreadsheet_safe`) and
every text is written as a text cell, never a formula. Control characters that XLSX cannot hold
become U+FFFD; a text longer than Excel's 32,767 characters per cell is cut there with "…". A
table of more rows than a worksheet holds (1,048,575 under the header) is a
:class:`~kanalml.errors.DataError`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from kanalml.errors import DataError

MAX_ROWS = 1_048_576  # rows in one worksheet, the header included
MAX_CELL_CHARS = 32_767  # characters in one cell
SHEET_TITLE = "kanalml"
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what the XML of a cell cannot hold


def _cell_value(value: Any) -> Any:
    """One value as openpyxl stores it: text cut to a cell, numbers, booleans, naive dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    if isinstance(value, (bool, int, float)):
        return value if not (isinstance(value, float) and math.isinf(value)) else str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat() if value.tzinfo is not None else value
    if isinstance(value, (list, tuple, dict)):
        value = json.dumps(value, ensure_ascii=False, default=str)
    text = _ILLEGAL.sub("\ufffd", str(value))
    return text if len(text) <= MAX_CELL_CHARS else text[:MAX_CELL_CHARS - 1] + "…"


class XlsxSheet:
    """One worksheet being written (write-only mode: rows go to a temporary file as they come,
    memory stays flat)."""

    def __init__(self, path: Path) -> None:
        from openpyxl import Workbook

        self.path = path
        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet(SHEET_TITLE)
        self.rows = 0

    def append(self, frame: pd.DataFrame, header: bool) -> None:
        """Append ``frame``'s rows (and its header first if ``header``); cells are already
        spreadsheet-safe."""
        from openpyxl.cell import WriteOnlyCell

        if self.rows + len(frame) + int(header) > MAX_ROWS:
            raise DataError(f"{self.path}: more than {MAX_ROWS - 1:,} rows, more than an Excel "
                            "sheet holds; write .csv or .parquet")

        def row(values: list[Any]) -> list[Any]:
            out = []
            for value in map(_cell_value, values):
                if isinstance(value, str):
                    cell = WriteOnlyCell(self.sheet, value=value)
                    cell.data_type = "s"  # a text, never a formula
                    out.append(cell)
                else:
                    out.append(value)
            return out

        if header:
            self.sheet.append(row([str(c) for c in frame.columns]))
            self.rows += 1
        for values in frame.itertuples(index=False, name=None):
            self.sheet.append(row(list(values)))
        self.rows += len(frame)

    def save(self, stream: Any) -> None:
        self.workbook.save(stream)

