"""JSON Lines input: one JSON object per line.

Owns the record parser and the cell values of JSON Lines: every cell is a ``str``; a JSON ``null``
or a key absent from a record is ``None``; numbers, booleans, lists and objects become their JSON
text (``12``, ``true``, ``["a"]``), except that a list in the text column is flattened like a
Telegram message text. Unless ``keep_authors``, author keys are dropped at any depth of a nested
value. ``_line`` is the 1-based physical line of the record; a line that is not a JSON object is
rejected. Columns are the keys in order of first appearance. Knows nothing about models.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from typing import Any

import pandas as pd

from kanalml.io.columns import is_author_column, json_cell, message_text
from kanalml.io.context import ReadContext
from kanalml.io.text import Encoding, open_text


def read_jsonl(context: ReadContext, gz: bool,
               encoding: Encoding) -> Iterator[tuple[pd.DataFrame, str]]:
    """``(chunk, text column)`` of one JSON Lines file, in chunks of ``chunk_rows`` records."""
    path, chunk_rows = context.path, context.options.chunk_rows
    columns: dict[str, None] = {}
    text_column: str | None = None
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    with open_text(path, gz, encoding) as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                # without its line break, an error at the end is still on this line's column
                record = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as exc:
                context.reject(number, f"not valid JSON at column {exc.colno}: {exc.msg}",
                               line, exc.colno)
                continue
            except RecursionError:
                context.reject(number, "JSON nested too deeply", line)
                continue
            if not isinstance(record, dict):
                context.reject(number, f"a JSON {type(record).__name__}, not an object", line)
                continue
            records.append(record)
            lines.append(number)
            if len(records) >= chunk_rows:
                text_column = yield from _chunk(context, records, lines, columns, text_column)
                records, lines = [], []
    if records:
        yield from _chunk(context, records, lines, columns, text_column)


def _chunk(context: ReadContext, records: list[dict[str, Any]], lines: list[int],
           columns: dict[str, None], text_column: str | None,
           ) -> Generator[tuple[pd.DataFrame, str], None, str]:
    """Yields one chunk; returns the text column, chosen at the first chunk."""
    for record in records:
        if record.keys() - columns.keys():
            columns.update(dict.fromkeys(str(k) for k in record))
    if text_column is None:
        text_column = context.text_column(list(columns))
    keep_authors = context.options.keep_authors
    data: dict[str, Any] = {}
    for name in columns:
        if context.is_author(name, text_column):
            continue
        if name == text_column:
            data[name] = [message_text(r.get(name)) for r in records]
        else:
            data[name] = [json_cell(_without_authors(r.get(name), keep_authors))
                          for r in records]
    yield context.finish(data, lines), text_column
    return text_column


def _without_authors(value: Any, keep_authors: bool) -> Any:
    """A nested JSON value without author keys at any depth ({"meta": {"from_id": ...}})."""
    if keep_authors or not isinstance(value, (dict, list)):
        return value
    if isinstance(value, list):
        return [_without_authors(v, keep_authors) for v in value]
    return {k: _without_authors(v, keep_authors) for k, v in value.items()
            if not is_author_column(str(k))}
