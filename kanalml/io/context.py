"""What a format reader is given: the options, and a sink for what it cannot turn into rows.

Owns :class:`ReadOptions` (the same for every file), :class:`ReadSink` (rejected records, skipped
chats and warnings, collected over all files) and :class:`ReadContext` (one file: its path, the
options, the sink, and the helpers every format needs: rejecting a record, choosing the text
column, dropping author columns, adding ``_file``/``_line``). A format module reads through its
context and never reaches into :class:`~kanalml.io.reader.ExportReader`. Knows nothing about
formats or models.

Privacy: unless ``keep_authors``, author columns (:func:`~kanalml.io.columns.is_author_column`)
are not read, and a rejected record of a file with such fields (or whose JSON names one) is kept
as :data:`RAW_WITHHELD` instead of its text: a malformed record cannot be split into fields to
drop.

Input columns are never overwritten: a column already named ``_file``, ``_line`` or one of the
``reserved`` names (the columns a command adds) is renamed ``NAME_input``
(:func:`~kanalml.io.columns.free_name`); the reader warns once per file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from kanalml.errors import DataError
from kanalml.io.columns import (
    TEXT_COLUMNS,
    free_name,
    has_author_key,
    is_author_column,
    list_columns,
    unique_names,
)
from kanalml.io.text import valid_text

RAW_CHARS = 500  # Rejected.raw is cut to this many characters
RAW_WITHHELD = "(left out: the record may hold author fields; --keep-authors keeps it)"
BAD_LINES = ("error", "warn", "skip")
BadLines = Literal["error", "warn", "skip"]


@dataclass
class Rejected:
    """One input record that could not be read."""

    file: str
    line: int
    reason: str
    raw: str  # the record as written, cut to ~500 characters; RAW_WITHHELD if it may name authors


def cut(raw: str) -> str:
    """``raw`` without its line break, cut to :data:`RAW_CHARS`, valid as UTF-8."""
    raw = raw.rstrip("\r\n")
    raw = raw if len(raw) <= RAW_CHARS else raw[:RAW_CHARS] + "…"
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # a rejected JSON value, dumped again, may hold one
        raw = valid_text(raw)
    return raw


@dataclass(frozen=True)
class ReadOptions:
    """How every file is read.

    ``on_bad_lines``: "error" raises :class:`DataError` at the first bad record, "warn" and
    "skip" collect it in the sink (the reader warns once per file with "warn").
    ``reserved``: column names the reader adds or a command will add (``_file`` and ``_line``
    always included); input columns so named are renamed ``NAME_input``.
    """

    text_column: str | None = None
    chunk_rows: int = 20_000
    on_bad_lines: BadLines = "warn"
    keep_authors: bool = False
    reserved: frozenset[str] = frozenset(("_file", "_line"))
    sheet: str | None = None  # in Excel workbooks, read only this sheet (default: every one)


@dataclass
class ReadSink:
    """Where readers put what is not a row: rejected records, skipped chats (by chat type) and
    warnings (one line each, passed on as they come)."""

    warn: Callable[[str], None]
    rejected: list[Rejected] = field(default_factory=list)
    skipped_chats: dict[str, int] = field(default_factory=dict)


class ReadContext:
    """One file being read: its path, the options, the sink, and what the file showed so far.

    Per file: ``repaired`` and ``nuls`` (lines of cells made valid Unicode / freed of NULs),
    ``renamed`` (input columns given a free name), ``author_fields`` (whether the header names an
    author column: its rejected records are withheld). ``where`` is how messages, rejects and
    ``_file`` name the part being read: the path, or ``PATH[SHEET]`` in a workbook.
    """

    def __init__(self, path: Path, options: ReadOptions, sink: ReadSink) -> None:
        self.path, self.options, self.sink = path, options, sink
        self.where = str(path)
        self.repaired: list[int] = []
        self.nuls: list[int] = []
        self.renamed: dict[str, str] = {}
        self.author_fields = False

    def warn(self, message: str) -> None:
        """Pass one warning to the sink."""
        self.sink.warn(message)

    def reject(self, line: int, reason: str, raw: str, column: int | None = None) -> None:
        """A record that cannot be read: raise with "error", else keep it in the sink."""
        if self.options.on_bad_lines == "error":
            where = f"{line}:{column}" if column else f"{line}"
            raise DataError(f"{self.where}:{where}: {reason}")
        if not self.options.keep_authors and (self.author_fields or has_author_key(raw)):
            raw = RAW_WITHHELD  # a malformed record cannot be split into fields to drop
        self.sink.rejected.append(Rejected(self.where, line, reason, cut(raw)))

    def skip_chat(self, kind: str) -> None:
        """Count one chat that was not read, by its type."""
        self.sink.skipped_chats[kind] = self.sink.skipped_chats.get(kind, 0) + 1

    def text_column(self, columns: Sequence[str]) -> str:
        """The column holding the post text: the one asked for (exact, else the only one equal
        ignoring case and spaces), or the first named like :data:`TEXT_COLUMNS`."""
        wanted_name = self.options.text_column
        if wanted_name is not None:
            if wanted_name in columns:
                return wanted_name
            wanted = wanted_name.strip().lower()
            folded = [c for c in columns if c.strip().lower() == wanted]
            if len(folded) == 1:
                return folded[0]
            raise DataError(f"{self.where}: no column {wanted_name!r} (columns: "
                            f"{list_columns(columns)})")
        for column in columns:
            if column.strip().lower() in TEXT_COLUMNS:
                return column
        raise DataError(f"{self.where}: no text column found; expected one of "
                        f"{', '.join(TEXT_COLUMNS)} (columns: {list_columns(columns)}); name it "
                        "with --text-column")

    def is_author(self, column: str, text_column: str | None = None) -> bool:
        """Whether ``column`` is left out as an author's (never the text column)."""
        return (not self.options.keep_authors and column != text_column
                and is_author_column(column))

    def finish(self, data: dict[str, Any] | pd.DataFrame,
               lines: Sequence[int]) -> pd.DataFrame:
        """A chunk with ``_file`` and ``_line`` added last, input columns with reserved names
        renamed (recorded in ``renamed``)."""
        reserved = self.options.reserved
        if isinstance(data, pd.DataFrame):
            names = [str(c) for c in data.columns]
        else:
            try:
                "".join(data).encode("utf-8")
            except UnicodeEncodeError:  # a JSON key with a lone surrogate: pandas cannot hold it
                data = dict(zip(unique_names([valid_text(k) for k in data]), data.values()))
            names = list(data)
        clash = [n for n in names if n in reserved]
        if clash:
            taken = set(names) | reserved
            for name in clash:
                if name not in self.renamed:
                    self.renamed[name] = free_name(name, taken)
                taken.add(self.renamed[name])
            if isinstance(data, pd.DataFrame):
                data = data.rename(columns=self.renamed)
            else:
                data = {self.renamed.get(k, k): v for k, v in data.items()}
        if isinstance(data, pd.DataFrame):
            frame = data
        else:
            frame = (pd.DataFrame(data, dtype=object) if data
                     else pd.DataFrame(index=range(len(lines))))
        frame["_file"] = pd.Series([self.where] * len(frame), dtype=object, index=frame.index)
        frame["_line"] = np.asarray(lines, dtype=np.int64)
        return frame
