"""Spreadsheet safety of written text cells (CSV injection).

Owns which cells a spreadsheet would run as a formula and their reversible escape: a leading
apostrophe (:func:`spreadsheet_safe`), undone by :func:`unescape_cell`. Knows nothing about files.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

# A cell a spreadsheet runs as a formula (OWASP's CSV injection list: = + - @ TAB CR), possibly
# behind apostrophes already there, so that escaping stays reversible (see unescape_cell).
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # "-5" is data, not a formula


def escape_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (see :func:`spreadsheet_safe`),
    undone exactly by :func:`unescape_cell`; any other value as it is."""
    if (isinstance(value, str) and value[:1] in "=+-@\t\r'" and _FORMULA.match(value)
            and not _NUMBER.fullmatch(value)):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """A cell of a CSV kanalml wrote, as it was before :func:`spreadsheet_safe`."""
    return value[1:] if value[:1] == "'" and _ESCAPED.match(value) else value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell and column name that a spreadsheet would run as a formula
    (starting with ``= + - @``, TAB or CR, plain numbers such as ``-5`` excepted) prefixed with
    an apostrophe, which spreadsheets show as text. Cells that start with apostrophes followed by
    one of those characters get one more, so :func:`unescape_cell` restores every cell exactly."""
    return escape_frame(frame)[0]


def escape_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """(:func:`spreadsheet_safe` of ``frame``, whether a text cell holds a carriage return)."""
    out, carriage_return = None, False
    for i, column in enumerate(frame.columns):
        series = frame.iloc[:, i]
        if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
            continue
        values = series.tolist()
        escaped = [escape_cell(v) for v in values]
        if any(a is not b for a, b in zip(escaped, values)):
            if out is None:
                out = frame.copy()
            escaped_column = pd.Series(escaped, index=frame.index, dtype=object, name=column)
            out.isetitem(i, escaped_column)  # type: ignore[arg-type]  # as in text.clean_text
        carriage_return = carriage_return or any(isinstance(v, str) and "\r" in v for v in values)
    names = [escape_cell(str(c)) for c in frame.columns]
    carriage_return = carriage_return or any("\r" in name for name in names)
    if names != [str(c) for c in frame.columns]:
        out = (frame.copy() if out is None else out).set_axis(names, axis=1)
    return (frame if out is None else out), carriage_return
