"""CSV and TSV (delimited text) input.

Owns the delimiter choice (``,`` ``;`` TAB ``|``) and the reasons a delimited record is
rejected. Knows nothing about models.
"""

from __future__ import annotations

import csv
import io

from kanalml.io.text import one_line

DELIMITERS = (",", ";", "\t", "|")
MAX_FIELD_CHARS = 32 * 1024 * 1024  # a CSV field longer than this is rejected (runaway quote)


_SNIFF_CHARS = 64 * 1024  # characters looked at to choose the CSV delimiter


if csv.field_size_limit() < MAX_FIELD_CHARS:
    csv.field_size_limit(MAX_FIELD_CHARS)


def csv_reason(exc: csv.Error) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return "unclosed quote: the quoted field runs to the end of the file"
    if "expected after" in message:
        return "a closing quote is followed by other characters (unclosed or stray quote?)"
    if "field larger than field limit" in message:
        return f"a field longer than {MAX_FIELD_CHARS} characters (unclosed quote?)"
    return one_line(message)


def sniff_delimiter(sample: str, truncated: bool, suffix: str) -> str:
    """The delimiter among , ; TAB | that splits the header and the rows alike into most fields."""
    preferred = "\t" if suffix in (".tsv", ".tab") else ","
    best, best_key = preferred, (False, 0.0, False, 0)
    for delimiter in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
        except csv.Error:
            continue
        if truncated and len(rows) > 1:
            rows = rows[:-1]
        rows = [r for r in rows if r]
        if not rows:
            continue
        width = len(rows[0])
        body = rows[1:] or rows
        consistency = sum(len(r) == width for r in body) / len(body)
        key = (width > 1, round(consistency, 2), delimiter == preferred, width)
        if key > best_key:
            best, best_key = delimiter, key
    return best
