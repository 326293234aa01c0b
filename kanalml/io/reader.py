"""The export reader: one or more files, any supported format, as DataFrame chunks.

Owns :class:`ExportReader`: it checks the files, detects each file's format
(:mod:`kanalml.io.detect`), hands the file to its format's reader with a
:class:`~kanalml.io.context.ReadContext`, repairs the text of every chunk
(:func:`~kanalml.io.text.clean_text`) and warns once per file about what it repaired,
renamed or rejected. The formats' own rules live in their modules: :mod:`~kanalml.io.delimited`,
:mod:`~kanalml.io.jsonl`, :mod:`~kanalml.io.parquet`, :mod:`~kanalml.io.telegram_public`,
:mod:`~kanalml.io.workbook` (.xlsx, .xls, .ods); :data:`READERS` is the registry that maps
each detected format to its reader (a new format: a module with one reader function, its kind
in :func:`~kanalml.io.detect.detect_format`, one entry here). Knows nothing about models.
"""

from __future__ import annotations

import gzip
import os
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import cast

import pandas as pd

from kanalml.errors import DataError
from kanalml.io.context import BAD_LINES, BadLines, ReadContext, ReadOptions, ReadSink, Rejected
from kanalml.io.delimited import read_delimited
from kanalml.io.detect import check_file, detect_format
from kanalml.io.jsonl import read_jsonl
from kanalml.io.parquet import read_parquet
from kanalml.io.telegram_public import read_telegram
from kanalml.io.text import clean_text, encoding_of, one_line
from kanalml.io.workbook import read_workbook

Chunks = Iterator[tuple[pd.DataFrame, str]]


def _read_text(reader: Callable[..., Chunks]) -> Callable[[ReadContext, bool], Chunks]:
    """A text format's reader with the file's encoding found first, and a warning for lines
    read as cp1252."""

    def read(context: ReadContext, gz: bool) -> Chunks:
        encoding = encoding_of(context.path, gz)
        yield from reader(context, gz, encoding)
        if encoding.legacy_lines:
            lines = encoding.legacy_lines
            context.warn(f"{context.path}: {len(lines)} line(s) are not valid UTF-8 (first: line "
                         f"{lines[0]}); read those as cp1252 (Windows-1252), the other "
                         "lines as UTF-8")

    return read


# The readers' registry: each format detect_format names, and its reader (context, gzipped).
READERS: dict[str, Callable[[ReadContext, bool], Chunks]] = {
    "csv": _read_text(read_delimited),
    "jsonl": _read_text(read_jsonl),
    "parquet": lambda context, gz: read_parquet(context),
    "telegram": read_telegram,
    "xlsx": lambda context, gz: read_workbook(context, "xlsx"),
    "xls": lambda context, gz: read_workbook(context, "xls"),
    "ods": lambda context, gz: read_workbook(context, "ods"),
}


def _warn_stderr(message: str) -> None:
    print(f"kanalml: warning: {message}", file=sys.stderr)


class ExportReader:
    """Streams one or more export files as pandas DataFrame chunks of at most chunk_rows rows.

    Iterating yields ``(chunk, text_column)``; a chunk never mixes files. Bad
    records go to :attr:`rejected` (``on_bad_lines`` "warn": with one summary
    warning per file; "skip": silently) or, with "error", the first one raises
    :class:`DataError`. Telegram chats that are not public channels or public
    supergroups are never read beyond their type and are counted in
    :attr:`skipped_chats`. Counters are reset at the start of each iteration.

    Unless ``keep_authors``: author-like columns (:func:`~kanalml.io.columns.is_author_column`)
    and Telegram's ``from``, ``from_id`` and ``forwarded_from`` are not read, and a
    rejected record of a file with such fields is listed without its raw text.
    """

    def __init__(self, paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], *,
                 text_column: str | None = None, chunk_rows: int = 20_000,
                 on_bad_lines: str = "warn", keep_authors: bool = False,
                 warn: Callable[[str], None] = _warn_stderr,
                 reserved: Sequence[str] = (), sheet: str | None = None) -> None:
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if on_bad_lines not in BAD_LINES:
            raise ValueError(f"on_bad_lines must be one of {BAD_LINES}, got {on_bad_lines!r}")
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
        self.paths = [Path(p) for p in paths]
        self.options = ReadOptions(text_column=text_column, chunk_rows=int(chunk_rows),
                                   on_bad_lines=cast(BadLines, on_bad_lines),
                                   keep_authors=keep_authors,
                                   reserved=frozenset(("_file", "_line", *reserved)),
                                   sheet=sheet)
        self.warn = warn
        self.sink = ReadSink(warn=warn)
        self.rows_read = 0
        for path in self.paths:
            check_file(path)

    @property
    def text_column(self) -> str | None:
        """The text column asked for (None: found by name)."""
        return self.options.text_column

    @property
    def chunk_rows(self) -> int:
        """Rows per chunk, at most."""
        return self.options.chunk_rows

    @property
    def on_bad_lines(self) -> str:
        """"error", "warn" or "skip"."""
        return self.options.on_bad_lines

    @property
    def keep_authors(self) -> bool:
        """Whether author columns are read."""
        return self.options.keep_authors

    @property
    def reserved(self) -> frozenset[str]:
        """Column names an input column is renamed away from (``_file``, ``_line`` included)."""
        return self.options.reserved

    @property
    def rejected(self) -> list[Rejected]:
        """The records of the last iteration that could not be read."""
        return self.sink.rejected

    @property
    def skipped_chats(self) -> dict[str, int]:
        """Telegram chats of the last iteration not read (not public), by chat type."""
        return self.sink.skipped_chats

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, str]]:
        self.sink, self.rows_read = ReadSink(warn=self.warn), 0
        for path in self.paths:
            before = len(self.rejected)
            context = ReadContext(path, self.options, self.sink)
            for chunk, column in _read(context):
                self.rows_read += len(chunk)
                chunk = clean_text(chunk, context.repaired, context.nuls)
                yield chunk, context.renamed.get(column, column)
            if context.renamed:
                self.warn(f"{path}: input column(s) renamed so that kanalml's own columns do not "
                          "overwrite them: " + ", ".join(f"{a!r} -> {b!r}"
                                                         for a, b in context.renamed.items()))
            bad = self.rejected[before:]
            if bad and self.on_bad_lines == "warn":
                self.warn(f"{path}: {len(bad)} malformed record(s) not read (first at line "
                          f"{bad[0].line}: {bad[0].reason})")
            if context.repaired:
                self.warn(f"{path}: {len(context.repaired)} cell(s) held invalid Unicode (lone "
                          f"surrogates or bytes that are not UTF-8; first at line "
                          f"{min(context.repaired)}); each bad code point now reads U+FFFD")
            if context.nuls:
                self.warn(f"{path}: {len(context.nuls)} cell(s) held NUL characters (first at "
                          f"line {min(context.nuls)}); they were removed")


def _read(context: ReadContext) -> Chunks:
    """One file's chunks, by the reader of its format (:data:`READERS`); read errors as
    :class:`DataError`."""
    path = context.path
    kind, gz = detect_format(path)
    try:
        yield from READERS[kind](context, gz)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: corrupt gzip data: {one_line(exc)}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {one_line(exc.strerror or exc)}") from None
