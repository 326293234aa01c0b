"""Readers and writers for exports: CSV/TSV, JSON Lines, Parquet and Telegram Desktop JSON.

This package knows nothing about models. :class:`ExportReader` streams one or more
files as DataFrame chunks; :class:`AtomicWriter` writes chunks to a file that
appears only when writing succeeded.

Cell values, by format:

- CSV/TSV and JSON Lines: every cell is a ``str`` (object columns). An empty CSV
  field is ``""``; a JSON ``null`` or a key absent from a record is ``None``.
  JSON numbers, booleans, lists and objects become their JSON text
  (``12``, ``true``, ``["a"]``), except that a list in the text column is
  flattened like a Telegram message text.
- Parquet: columns keep their Parquet types, as pyarrow converts them.
- Telegram: ``message_id``, ``views`` and ``forwards`` are nullable integers
  (``Int64``); the other columns are ``str`` or ``None``.

Written CSV/TSV is spreadsheet-safe: a text cell (or column name) that a spreadsheet
would run as a formula gets a leading apostrophe (see :func:`spreadsheet_safe`);
:func:`unescape_cell` undoes it. JSON Lines and Parquet hold the values as they are.

Every row also carries ``_file`` (the path as given) and ``_line``: for CSV and
JSON Lines the 1-based physical line where the record starts (a CSV header is
line 1), for Parquet the 1-based row number, for Telegram the 1-based index of
the message in its chat's ``messages`` list. Input columns are never overwritten: one already
named ``_file``, ``_line`` or one of the reader's ``reserved`` names (the columns a command
adds) is renamed ``NAME_input``, with a warning.
"""

from __future__ import annotations

from kanalml.errors import DataError
from kanalml.io.columns import AUTHOR_WORDS, TEXT_COLUMNS, free_name, is_author_column
from kanalml.io.context import RAW_CHARS, RAW_WITHHELD, Rejected
from kanalml.io.delimited import DELIMITERS, MAX_FIELD_CHARS
from kanalml.io.reader import ExportReader
from kanalml.io.spreadsheet import spreadsheet_safe, unescape_cell
from kanalml.io.telegram_public import PUBLIC_CHAT_TYPES
from kanalml.io.writers import AtomicWriter, write_csv, write_rejects

_free_name = free_name  # the old name, imported by kanalml.dask; use free_name

__all__ = ["AUTHOR_WORDS", "DELIMITERS", "MAX_FIELD_CHARS", "PUBLIC_CHAT_TYPES", "RAW_CHARS",
           "RAW_WITHHELD", "TEXT_COLUMNS", "AtomicWriter", "DataError", "ExportReader", "Rejected",
           "free_name", "is_author_column", "spreadsheet_safe", "unescape_cell", "write_csv",
           "write_rejects"]
