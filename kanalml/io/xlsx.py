"""Excel workbooks (.xlsx, .xlsm): input with python-calamine, output with openpyxl.

Owns reading every worksheet of a workbook (or the one ``--sheet`` names) as rows and turning
its typed cells into the cells every format gives (``str``, ``None`` for an empty cell), and
writing a table as one worksheet. Knows nothing about models.

Reading: each worksheet's first non-empty row is its header; empty rows are skipped; a header
cell left empty names its column after its letter (``column_C``). ``_file`` is
``PATH[SHEET]`` and ``_line`` the row number Excel shows, so every message and rejects row
names the sheet and row. Cells as text: a whole number as ``4`` (not ``4.0``), other numbers as
Python writes them, dates and times in ISO 8601, booleans as ``True``/``False``. A formula cell
is read as the value Excel last computed and saved with it, never evaluated.

Writing: one worksheet, ``kanalml``; cells are spreadsheet-safe as in CSV (a text starting with
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
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from kanalml.errors import DataError
from kanalml.io.columns import unique_names
from kanalml.io.context import ReadContext
from kanalml.io.text import one_line

SUFFIXES = (".xlsx", ".xlsm")
MAX_ROWS = 1_048_576  # rows in one worksheet, the header included
MAX_CELL_CHARS = 32_767  # characters in one cell
SHEET_TITLE = "kanalml"
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what the XML of a cell cannot hold


def is_workbook(path: Path) -> bool:
    """Whether a zip file is an Excel workbook (it holds ``xl/workbook.xml``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _letters(index: int) -> str:
    """The column letters of a 0-based column index: 0 -> A, 26 -> AA."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def cell_text(value: Any) -> str | None:
    """A calamine cell as the text every reader gives: None for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def read_xlsx(context: ReadContext, gz: bool = False) -> Iterator[tuple[pd.DataFrame, str]]:
    """``(chunk, text column)`` of one workbook: its worksheets in order (only the one named
    ``sheet`` if given), each in chunks of ``chunk_rows`` rows."""
    from python_calamine import CalamineError, CalamineWorkbook

    path = context.path
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = [m.name for m in workbook.sheets_metadata if "WorkSheet" in str(m.typ)]
    except (CalamineError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable Excel workbook: {one_line(exc)}") from None
    wanted = context.options.sheet
    if wanted is not None:
        if wanted not in names:
            raise DataError(f"{path}: no sheet {wanted!r} (sheets: {', '.join(names)})")
        names = [wanted]
    found = False
    try:
        for name in names:
            sheet = workbook.get_sheet_by_name(name)
            context.where = f"{path}[{name}]"
            for chunk in _read_sheet(context, sheet):
                found = True
                yield chunk
    except CalamineError as exc:
        raise DataError(f"{context.where}: cannot read the sheet: {one_line(exc)}") from None
    finally:
        context.where = str(path)
        workbook.close()
    if not found:
        raise DataError(f"{path}: no sheet has a header row"
                        + (f" (sheet {wanted!r})" if wanted else ""))


def _read_sheet(context: ReadContext, sheet: Any) -> Iterator[tuple[pd.DataFrame, str]]:
    start = sheet.start
    first_column = start[1] if start else 0
    rows = enumerate(sheet.iter_rows(), start=1)  # the row number Excel shows
    header: list[str] | None = None
    for _, cells in rows:
        texts = [cell_text(c) for c in cells]
        if any(t is not None for t in texts):
            header = unique_names([t.strip() if t is not None else
                                   f"column_{_letters(first_column + j)}"
                                   for j, t in enumerate(texts)])
            break
    if header is None:
        return  # an empty sheet
    text_column = context.text_column(header)
    keep = [j for j, name in enumerate(header) if not context.is_author(name, text_column)]
    names = [header[j] for j in keep]
    chunk_rows = context.options.chunk_rows
    columns: list[list[str | None]] = [[] for _ in keep]
    lines: list[int] = []

    def chunk() -> pd.DataFrame:
        return context.finish({n: pd.Series(c, dtype=object) for n, c in zip(names, columns)},
                              lines)

    given = False
    for line, cells in rows:
        texts = [cell_text(c) for c in cells]
        if all(t is None for t in texts):
            continue
        texts += [None] * (len(header) - len(texts))
        for column, j in zip(columns, keep):
            column.append(texts[j])
        lines.append(line)
        if len(lines) == chunk_rows:
            yield chunk(), text_column
            given = True
            columns, lines = [[] for _ in keep], []
    if lines or not given:
        yield chunk(), text_column  # a header-only sheet gives its columns, as a CSV does


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
