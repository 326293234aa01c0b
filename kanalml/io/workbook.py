"""Spreadsheet workbooks in: Excel .xlsx/.xlsm, Excel 97-2003 .xls and OpenDocument .ods.

Owns telling which workbook a zip archive holds (:func:`zip_workbook_kind`) and reading every
worksheet of a workbook (or the one ``--sheet`` names) as rows with python-calamine, which reads
the three kinds alike, turning their typed cells into the cells every format gives (``str``,
``None`` for an empty cell). Which file is which kind is decided by
:func:`~kanalml.io.detect.detect_format`, from the bytes, not the name. Knows nothing about
models, nor about writing (:mod:`kanalml.io.xlsx`).

Each worksheet's first non-empty row is its header; empty rows are skipped; a header cell left
empty names its column after its letter (``column_C``). ``_file`` is ``PATH[SHEET]`` and
``_line`` the row number the spreadsheet shows, so every message and rejects row names the
sheet and row. Cells as text: a whole number as ``4`` (not ``4.0``), other numbers as Python
writes them, dates and times in ISO 8601, booleans as ``True``/``False``. A formula cell is read
as the value last computed and saved with it, never evaluated (LibreOffice saves ``TRUE()`` in
an .ods as the number 1, so it reads ``1``).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from kanalml.errors import DataError
from kanalml.io.columns import unique_names
from kanalml.io.context import ReadContext
from kanalml.io.text import one_line

WorkbookKind = Literal["xlsx", "xls", "ods"]
SUFFIXES: dict[WorkbookKind, tuple[str, ...]] = {
    "xlsx": (".xlsx", ".xlsm"), "xls": (".xls",), "ods": (".ods",)}
NAMES: dict[WorkbookKind, str] = {
    "xlsx": "Excel workbook", "xls": "Excel 97-2003 (.xls) workbook",
    "ods": "OpenDocument spreadsheet"}
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def zip_workbook_kind(path: Path) -> WorkbookKind | Literal["xlsb"] | None:
    """Which workbook a zip archive is: ``xlsx`` (it holds ``xl/workbook.xml``), ``xlsb``
    (``xl/workbook.bin``), ``ods`` (its ``mimetype`` member says so), or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return "xlsx"
            if "xl/workbook.bin" in names:
                return "xlsb"
            if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
                return "ods"
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None
    return None


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


def _open(path: Path, kind: WorkbookKind) -> Any:
    """The workbook, opened as ``kind``: calamine picks its parser by the file's suffix, so a
    file named for another kind is handed over as bytes, for calamine to tell by content."""
    from python_calamine import CalamineWorkbook

    if path.name.lower().endswith(SUFFIXES[kind]):
        return CalamineWorkbook.from_path(str(path))
    with open(path, "rb") as handle:
        return CalamineWorkbook.from_filelike(handle)


def read_workbook(context: ReadContext, kind: WorkbookKind) -> Iterator[tuple[pd.DataFrame, str]]:
    """``(chunk, text column)`` of one workbook: its worksheets in order (only the one named
    ``sheet`` if given), each in chunks of ``chunk_rows`` rows."""
    from python_calamine import CalamineError, PasswordError

    path = context.path
    try:
        workbook = _open(path, kind)
        names = [m.name for m in workbook.sheets_metadata if "WorkSheet" in str(m.typ)]
    except PasswordError:
        raise DataError(f"{path}: the workbook is encrypted (saved with a password); save it "
                        "again without one") from None
    except (CalamineError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable {NAMES[kind]}: {one_line(exc)}") from None
    wanted = context.options.sheet
    if wanted is not None:
        if wanted not in names:
            workbook.close()
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
    rows = enumerate(sheet.iter_rows(), start=1)  # the row number the spreadsheet shows
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
