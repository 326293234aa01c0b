"""Readers and writers for exports: CSV/TSV, JSON Lines, Parquet, spreadsheets and Telegram JSON.

This package knows nothing about models. :class:`ExportReader` streams one or more
files as DataFrame chunks; :class:`AtomicWriter` writes chunks to a file that
appears only when writing succeeded.

Modules, one job each:

- :mod:`~kanalml.io.detect`: which format a file holds; row estimates; glob expansion.
- :mod:`~kanalml.io.reader`: :class:`ExportReader`, which hands each file to its format's
  reader with a :class:`~kanalml.io.context.ReadContext` (:mod:`~kanalml.io.context`: the
  options, and the sink for rejected records, skipped chats and warnings).
- One module per format, with its cell types: :mod:`~kanalml.io.delimited` (CSV/TSV),
  :mod:`~kanalml.io.jsonl`, :mod:`~kanalml.io.parquet`, :mod:`~kanalml.io.workbook` (Excel
  .xlsx and .xls, OpenDocument .ods in; :mod:`~kanalml.io.ole` tells an .xls from other OLE2
  files), :mod:`~kanalml.io.telegram_public` (only public channels and supergroups are read;
  other chats are counted, never read); ``reader.READERS`` maps each format to its reader.
- :mod:`~kanalml.io.text`: decoding, per-line cp1252, Unicode repair, NUL removal.
- :mod:`~kanalml.io.columns`: text and author column names, ``NAME_input``, JSON cells.
- :mod:`~kanalml.io.spreadsheet`, :mod:`~kanalml.io.writers` and :mod:`~kanalml.io.xlsx`:
  spreadsheet-safe CSV and .xlsx, :class:`AtomicWriter`, :func:`write_rejects`.

Cell values, by format: CSV/TSV, spreadsheet and JSON Lines cells are ``str`` (or ``None`` for a
JSON ``null`` or absent key); Parquet columns keep their Parquet types; Telegram's ``message_id``,
``views`` and ``forwards`` are nullable integers (``Int64``), the other columns ``str`` or
``None``. Each format module says more.

Every row also carries ``_file`` (the path as given) and ``_line``: for CSV and
JSON Lines the 1-based physical line where the record starts (a CSV header is
line 1), for Parquet the 1-based row number, for Telegram the 1-based index of
the message in its chat's ``messages`` list. Input columns are never overwritten: one already
named ``_file``, ``_line`` or one of the reader's ``reserved`` names (the columns a command
adds) is renamed ``NAME_input``, with a warning.

Unless ``keep_authors``, author columns are not read and rejected records that may name an
author are listed without their text (:mod:`~kanalml.io.context`).

Written CSV/TSV and XLSX are spreadsheet-safe: a text cell (or column name) that a spreadsheet
would run as a formula gets a leading apostrophe (see :func:`spreadsheet_safe`);
:func:`unescape_cell` undoes it. JSON Lines and Parquet hold the values as they are.
"""

from __future__ import annotations

from kanalml.errors import DataError
from kanalml.io.columns import AUTHOR_WORDS, TEXT_COLUMNS, free_name, is_author_column
from kanalml.io.context import RAW_CHARS, RAW_WITHHELD, ReadContext, ReadOptions, ReadSink, Rejected
from kanalml.io.delimited import MAX_FIELD_CHARS
from kanalml.io.detect import DELIMITERS, Detected, detect_format, estimate_rows, expand_globs
from kanalml.io.reader import ExportReader
from kanalml.io.spreadsheet import spreadsheet_safe, unescape_cell
from kanalml.io.telegram_public import PUBLIC_CHAT_TYPES
from kanalml.io.writers import AtomicWriter, write_csv, write_rejects

_free_name = free_name  # the old name, imported by kanalml.dask; use free_name

__all__ = ["AUTHOR_WORDS", "DELIMITERS", "MAX_FIELD_CHARS", "PUBLIC_CHAT_TYPES", "RAW_CHARS",
           "RAW_WITHHELD", "TEXT_COLUMNS", "AtomicWriter", "DataError", "Detected", "ExportReader",
           "ReadContext", "ReadOptions", "ReadSink", "Rejected", "detect_format", "estimate_rows",
           "expand_globs", "free_name", "is_author_column", "spreadsheet_safe", "unescape_cell",
           "write_csv", "write_rejects"]
