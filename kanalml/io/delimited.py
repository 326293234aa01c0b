"""CSV and TSV (delimited text) input.

Owns the delimiter choice (``,`` ``;`` TAB ``|``, whichever splits the header and the rows alike
into most fields), the record parser that rejects a malformed record and reads on from the line
after its first, and the reasons given. Every cell is a ``str`` (an empty field is ``""``);
``_line`` is the 1-based physical line where a record starts (the header is line 1). A field
longer than :data:`MAX_FIELD_CHARS` is rejected as a runaway quote. Knows nothing about models.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import pandas as pd

from kanalml.errors import DataError
from kanalml.io.columns import unique_names
from kanalml.io.context import ReadContext
from kanalml.io.detect import inner_suffix, sniff_delimiter
from kanalml.io.text import Encoding, TextStream, one_line, open_text

MAX_FIELD_CHARS = 32 * 1024 * 1024  # a CSV field longer than this is rejected (runaway quote)
_SNIFF_CHARS = 64 * 1024  # characters looked at to choose the CSV delimiter

if csv.field_size_limit() < MAX_FIELD_CHARS:
    csv.field_size_limit(MAX_FIELD_CHARS)


def read_delimited(context: ReadContext, gz: bool,
                   encoding: Encoding) -> Iterator[tuple[pd.DataFrame, str]]:
    """``(chunk, text column)`` of one CSV/TSV file, in chunks of ``chunk_rows`` records."""
    path = context.path
    with open_text(path, gz, encoding, count=False) as stream:
        sample = stream.read(_SNIFF_CHARS)
    delimiter = sniff_delimiter(sample, len(sample) == _SNIFF_CHARS, inner_suffix(path))
    with open_text(path, gz, encoding) as stream:
        yield from _parse(context, stream, delimiter)


def _parse(context: ReadContext, stream: TextStream,
           delimiter: str) -> Iterator[tuple[pd.DataFrame, str]]:
    path, chunk_rows = context.path, context.options.chunk_rows
    captured: list[str] = []  # physical lines of the record being parsed

    def feed(lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            captured.append(line)
            yield line

    def reader(lines: Iterable[str]) -> Any:
        return csv.reader(feed(lines), delimiter=delimiter, strict=True)

    rows = reader(stream)
    try:
        header = next(rows)
    except StopIteration:
        raise DataError(f"{path}: empty file") from None
    except csv.Error as exc:
        raise DataError(f"{path}:1: cannot read the header row: {csv_reason(exc)}") from None
    if not any(cell.strip() for cell in header):
        raise DataError(f"{path}:1: the header row is empty")
    header = unique_names(header)
    text_column = context.text_column(header)
    keep = [i for i, name in enumerate(header) if not context.is_author(name, text_column)]
    context.author_fields = len(keep) < len(header)
    names = [header[i] for i in keep]
    width = len(header)
    done = len(captured)  # physical lines consumed before the current record
    captured.clear()
    batch: list[list[str]] = []
    lines: list[int] = []
    emitted = False
    while True:
        restart: list[str] | None = None
        try:
            for row in rows:
                start, span = done + 1, len(captured)
                if len(row) == width:
                    batch.append(row)
                    lines.append(start)
                    if len(batch) >= chunk_rows:
                        yield _frame(context, batch, lines, keep, names), text_column
                        batch, lines, emitted = [], [], True
                elif not row or (len(row) == 1 and not row[0].strip()):
                    pass  # a blank line is not a record
                elif span > 1:  # let the lines after the first be read again on their own
                    context.reject(start, f"expected {width} fields, found {len(row)}",
                                   captured[0])
                    restart = captured[1:]
                    done += 1
                    captured.clear()
                    break
                else:
                    context.reject(start, f"expected {width} fields, found {len(row)}",
                                   captured[0])
                done += span
                captured.clear()
        except csv.Error as exc:
            start = done + 1
            context.reject(start, csv_reason(exc), captured[0] if captured else "")
            restart = captured[1:]
            done += 1
            captured.clear()
        if restart is None:
            break
        rows = reader(itertools.chain(restart, stream))
    if batch or not emitted:  # a header-only file still says what its columns are
        yield _frame(context, batch, lines, keep, names), text_column


def _frame(context: ReadContext, batch: list[list[str]], lines: list[int],
           keep: list[int], names: list[str]) -> pd.DataFrame:
    columns = list(zip(*batch)) or [()] * (max(keep, default=-1) + 1)
    data: dict[str, Any] = {name: columns[i] for i, name in zip(keep, names)}
    return context.finish(data, lines)


def csv_reason(exc: csv.Error) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return "unclosed quote: the quoted field runs to the end of the file"
    if "expected after" in message:
        return "a closing quote is followed by other characters (unclosed or stray quote?)"
    if "field larger than field limit" in message:
        return f"a field longer than {MAX_FIELD_CHARS} characters (unclosed quote?)"
    return one_line(message)
