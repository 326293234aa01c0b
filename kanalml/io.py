"""Readers and writers for exports: CSV/TSV, JSON Lines, Parquet and Telegram Desktop JSON.

This module knows nothing about models. :class:`ExportReader` streams one or more
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

import codecs
import contextlib
import csv
import gzip
import io
import itertools
import json
import math
import os
import re
import secrets
import shutil
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from kanalml.errors import DataError

__all__ = ["AtomicWriter", "DataError", "ExportReader", "Rejected", "spreadsheet_safe",
           "unescape_cell", "write_csv", "write_rejects"]

TEXT_COLUMNS = ("text", "message", "content", "original_text", "isi", "teks", "caption", "tweet")
# A column is an author's when a word of its name (split at separators and camelCase) is one of
# these, or it starts with "from" (from, from_id, fromName) or names a forward's origin
# (forwarded_from, fwd_from) - unless it names a channel or chat (channel_username, from_chat).
AUTHOR_WORDS = frozenset({"author", "authors", "user", "users", "username", "usernames", "userid",
                          "sender", "actor", "poster", "screen", "handle", "nickname", "nick",
                          "penulis", "pengirim", "pengguna", "signature"})
_FORWARD_WORDS = frozenset({"forwarded", "forward", "fwd", "fw"})
_PLACE_WORDS = frozenset({"channel", "chat", "group", "kanal", "grup", "saluran"})
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
PUBLIC_CHAT_TYPES = frozenset({"public_channel", "public_supergroup"})
DELIMITERS = (",", ";", "\t", "|")
MAX_FIELD_CHARS = 32 * 1024 * 1024  # a CSV field longer than this is rejected (runaway quote)
RAW_CHARS = 500  # Rejected.raw is cut to this many characters
RAW_WITHHELD = "(left out: the record may hold author fields; --keep-authors keeps it)"
_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.){1,200})"\s*:')
_BLOCK = 1 << 20  # bytes per read in the streaming passes
_HEAD = 1 << 20  # bytes looked at to detect the format
_SNIFF_CHARS = 64 * 1024  # characters looked at to choose the CSV delimiter
_BAD_LINES = ("error", "warn", "skip")
_LATIN1_FALLBACK = "kanalml-latin1"
# A cell a spreadsheet runs as a formula (OWASP's CSV injection list: = + - @ TAB CR), possibly
# behind apostrophes already there, so that escaping stays reversible (see unescape_cell).
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")  # "-5" is data, not a formula


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the 5 bytes cp1252 leaves undefined (0x81, 0x8d, 0x8f, 0x90, 0x9d) as latin-1."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error(_LATIN1_FALLBACK, _latin1_fallback)
if csv.field_size_limit() < MAX_FIELD_CHARS:
    csv.field_size_limit(MAX_FIELD_CHARS)


@dataclass
class Rejected:
    """One input record that could not be read."""

    file: str
    line: int
    reason: str
    raw: str  # the record as written, cut to ~500 characters; RAW_WITHHELD if it may name authors


def is_author_column(name: str) -> bool:
    """Whether a column name looks like it holds who wrote or forwarded a post (see
    :data:`AUTHOR_WORDS`)."""
    words = [w.lower() for w in _NAME_WORDS.findall(name)]
    if not words or _PLACE_WORDS.intersection(words):
        return False
    return (bool(AUTHOR_WORDS.intersection(words)) or words[0] == "from"
            or ("from" in words and bool(_FORWARD_WORDS.intersection(words))))


def _has_author_key(raw: str) -> bool:
    """Whether JSON text (a malformed JSON Lines record, a rejected Telegram item) has a key
    naming an author column."""
    return '"' in raw and any(is_author_column(k) for k in _JSON_KEY.findall(raw))


def _warn_stderr(message: str) -> None:
    print(f"kanalml: warning: {message}", file=sys.stderr)


def _one_line(text: object, limit: int = 300) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _cut(raw: str) -> str:
    raw = raw.rstrip("\r\n")
    raw = raw if len(raw) <= RAW_CHARS else raw[:RAW_CHARS] + "…"
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # a rejected JSON value, dumped again, may hold one
        raw = _valid_text(raw)
    return raw


def _list_columns(columns: Sequence[Any]) -> str:
    shown = ", ".join(repr(str(c)) for c in list(columns)[:30])
    more = len(columns) - 30
    return (shown + (f", … ({more} more)" if more > 0 else "")) if columns else "none"


# -- reading -------------------------------------------------------------------------------


class ExportReader:
    """Streams one or more export files as pandas DataFrame chunks of at most chunk_rows rows.

    Iterating yields ``(chunk, text_column)``; a chunk never mixes files. Bad
    records go to :attr:`rejected` (``on_bad_lines`` "warn": with one summary
    warning per file; "skip": silently) or, with "error", the first one raises
    :class:`DataError`. Telegram chats that are not public channels or public
    supergroups are never read beyond their type and are counted in
    :attr:`skipped_chats`. Counters are reset at the start of each iteration.

    Unless ``keep_authors``: author-like columns (:func:`is_author_column`) and
    Telegram's ``from``, ``from_id`` and ``forwarded_from`` are not read, and a
    rejected record of a file with such fields is listed without its raw text.
    """

    def __init__(self, paths: Sequence[str | os.PathLike[str]], *,
                 text_column: str | None = None, chunk_rows: int = 20_000,
                 on_bad_lines: str = "warn", keep_authors: bool = False,
                 warn: Callable[[str], None] = _warn_stderr,
                 reserved: Sequence[str] = ()) -> None:
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        if on_bad_lines not in _BAD_LINES:
            raise ValueError(f"on_bad_lines must be one of {_BAD_LINES}, got {on_bad_lines!r}")
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
        self.paths = [Path(p) for p in paths]
        self.text_column = text_column
        self.chunk_rows = int(chunk_rows)
        self.on_bad_lines = on_bad_lines
        self.keep_authors = keep_authors
        self.warn = warn
        self.rejected: list[Rejected] = []
        self.skipped_chats: dict[str, int] = {}
        self.rows_read = 0
        self._repaired: list[int] = []  # lines of the current file's cells made valid Unicode
        self._nuls: list[int] = []  # lines of the current file's cells that held NULs
        self.reserved = frozenset(("_file", "_line", *reserved))
        self._renamed: dict[str, str] = {}  # input columns of the current file given a new name
        self._author_fields = False  # the current file's header names author columns
        for path in self.paths:
            _check_file(path)

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, str]]:
        self.rejected, self.skipped_chats, self.rows_read = [], {}, 0
        for path in self.paths:
            before = len(self.rejected)
            self._repaired, self._nuls, self._renamed, self._author_fields = [], [], {}, False
            for chunk, column in self._read(path):
                self.rows_read += len(chunk)
                chunk = _clean_text(chunk, self._repaired, self._nuls)
                yield chunk, self._renamed.get(column, column)
            if self._renamed:
                self.warn(f"{path}: input column(s) renamed so that kanalml's own columns do not "
                          "overwrite them: " + ", ".join(f"{a!r} -> {b!r}"
                                                         for a, b in self._renamed.items()))
            bad = self.rejected[before:]
            if bad and self.on_bad_lines == "warn":
                self.warn(f"{path}: {len(bad)} malformed record(s) not read (first at line "
                          f"{bad[0].line}: {bad[0].reason})")
            if self._repaired:
                self.warn(f"{path}: {len(self._repaired)} cell(s) held invalid Unicode (lone "
                          f"surrogates or bytes that are not UTF-8; first at line "
                          f"{min(self._repaired)}); each bad code point now reads U+FFFD")
            if self._nuls:
                self.warn(f"{path}: {len(self._nuls)} cell(s) held NUL characters (first at line "
                          f"{min(self._nuls)}); they were removed")

    # -- dispatch --

    def _read(self, path: Path) -> Iterator[tuple[pd.DataFrame, str]]:
        kind, gz = _detect(path)
        try:
            if kind == "parquet":
                yield from self._read_parquet(path)
            elif kind == "telegram":
                yield from self._read_telegram(path, gz)
            else:
                encoding = self._encoding(path, gz)
                if kind == "jsonl":
                    yield from self._read_jsonl(path, gz, encoding)
                else:
                    yield from self._read_csv(path, gz, encoding)
                if encoding.legacy_lines:
                    lines = encoding.legacy_lines
                    self.warn(f"{path}: {len(lines)} line(s) are not valid UTF-8 (first: line "
                              f"{lines[0]}); read those as cp1252 (Windows-1252), the other "
                              "lines as UTF-8")
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise DataError(f"{path}: corrupt gzip data: {_one_line(exc)}") from None
        except OSError as exc:
            raise DataError(f"{path}: cannot read: {_one_line(exc.strerror or exc)}") from None

    def _reject(self, path: Path, line: int, reason: str, raw: str,
                column: int | None = None) -> None:
        if self.on_bad_lines == "error":
            where = f"{line}:{column}" if column else f"{line}"
            raise DataError(f"{path}:{where}: {reason}")
        if not self.keep_authors and (self._author_fields or _has_author_key(raw)):
            raw = RAW_WITHHELD  # a malformed record cannot be split into fields to drop
        self.rejected.append(Rejected(str(path), line, reason, _cut(raw)))

    def _encoding(self, path: Path, gz: bool) -> _Encoding:
        """UTF-8 (BOM or not) if every byte sequence is valid UTF-8; else line by line (a file
        appended to by several tools): UTF-8 where a line is valid UTF-8, cp1252 where not."""
        return _Encoding(per_line=_first_invalid_utf8_line(path, gz) is not None)

    def _text_column(self, path: Path, columns: Sequence[str]) -> str:
        if self.text_column is not None:
            if self.text_column in columns:
                return self.text_column
            wanted = self.text_column.strip().lower()
            folded = [c for c in columns if c.strip().lower() == wanted]
            if len(folded) == 1:
                return folded[0]
            raise DataError(f"{path}: no column {self.text_column!r} (columns: "
                            f"{_list_columns(columns)})")
        for column in columns:
            if column.strip().lower() in TEXT_COLUMNS:
                return column
        raise DataError(f"{path}: no text column found; expected one of {', '.join(TEXT_COLUMNS)} "
                        f"(columns: {_list_columns(columns)}); name it with --text-column")

    def _is_author(self, column: str, text_column: str | None = None) -> bool:
        return not self.keep_authors and column != text_column and is_author_column(column)

    def _finish(self, data: dict[str, Any] | pd.DataFrame, path: Path,
                lines: Sequence[int]) -> pd.DataFrame:
        """A chunk with ``_file`` and ``_line`` added last, input columns with reserved names
        renamed (recorded in ``_renamed``)."""
        if isinstance(data, pd.DataFrame):
            names = [str(c) for c in data.columns]
        else:
            try:
                "".join(data).encode("utf-8")
            except UnicodeEncodeError:  # a JSON key with a lone surrogate: pandas cannot hold it
                data = dict(zip(_unique_names([_valid_text(k) for k in data]), data.values()))
            names = list(data)
        clash = [n for n in names if n in self.reserved]
        if clash:
            taken = set(names) | self.reserved
            for name in clash:
                if name not in self._renamed:
                    self._renamed[name] = _free_name(name, taken)
                taken.add(self._renamed[name])
            if isinstance(data, pd.DataFrame):
                data = data.rename(columns=self._renamed)
            else:
                data = {self._renamed.get(k, k): v for k, v in data.items()}
        if isinstance(data, pd.DataFrame):
            frame = data
        else:
            frame = (pd.DataFrame(data, dtype=object) if data
                     else pd.DataFrame(index=range(len(lines))))
        frame["_file"] = pd.Series([str(path)] * len(frame), dtype=object, index=frame.index)
        frame["_line"] = np.asarray(lines, dtype=np.int64)
        return frame

    # -- CSV / TSV --

    def _read_csv(self, path: Path, gz: bool,
                  encoding: _Encoding) -> Iterator[tuple[pd.DataFrame, str]]:
        with _open_text(path, gz, encoding, count=False) as stream:
            sample = stream.read(_SNIFF_CHARS)
        delimiter = _sniff_delimiter(sample, len(sample) == _SNIFF_CHARS, _inner_suffix(path))
        with _open_text(path, gz, encoding) as stream:
            yield from self._parse_csv(path, stream, delimiter)

    def _parse_csv(self, path: Path, stream: IO[str],
                   delimiter: str) -> Iterator[tuple[pd.DataFrame, str]]:
        captured: list[str] = []  # physical lines of the record being parsed

        def feed(lines: Iterator[str]) -> Iterator[str]:
            for line in lines:
                captured.append(line)
                yield line

        def reader(lines: Iterator[str]) -> Any:
            return csv.reader(feed(lines), delimiter=delimiter, strict=True)

        rows = reader(stream)
        try:
            header = next(rows)
        except StopIteration:
            raise DataError(f"{path}: empty file") from None
        except csv.Error as exc:
            raise DataError(f"{path}:1: cannot read the header row: {_csv_reason(exc)}") from None
        if not any(cell.strip() for cell in header):
            raise DataError(f"{path}:1: the header row is empty")
        header = _unique_names(header)
        text_column = self._text_column(path, header)
        keep = [i for i, name in enumerate(header) if not self._is_author(name, text_column)]
        self._author_fields = len(keep) < len(header)
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
                        if len(batch) >= self.chunk_rows:
                            yield self._csv_frame(path, batch, lines, keep, names), text_column
                            batch, lines, emitted = [], [], True
                    elif not row or (len(row) == 1 and not row[0].strip()):
                        pass  # a blank line is not a record
                    elif span > 1:  # let the lines after the first be read again on their own
                        self._reject(path, start, f"expected {width} fields, found {len(row)}",
                                     captured[0])
                        restart = captured[1:]
                        done += 1
                        captured.clear()
                        break
                    else:
                        self._reject(path, start, f"expected {width} fields, found {len(row)}",
                                     captured[0])
                    done += span
                    captured.clear()
            except csv.Error as exc:
                start = done + 1
                self._reject(path, start, _csv_reason(exc), captured[0] if captured else "")
                restart = captured[1:]
                done += 1
                captured.clear()
            if restart is None:
                break
            rows = reader(itertools.chain(restart, stream))
        if batch or not emitted:  # a header-only file still says what its columns are
            yield self._csv_frame(path, batch, lines, keep, names), text_column

    def _csv_frame(self, path: Path, batch: list[list[str]], lines: list[int],
                   keep: list[int], names: list[str]) -> pd.DataFrame:
        columns = list(zip(*batch)) or [()] * (max(keep, default=-1) + 1)
        data: dict[str, Any] = {name: columns[i] for i, name in zip(keep, names)}
        return self._finish(data, path, lines)

    # -- JSON Lines --

    def _read_jsonl(self, path: Path, gz: bool,
                    encoding: _Encoding) -> Iterator[tuple[pd.DataFrame, str]]:
        columns: dict[str, None] = {}
        text_column: str | None = None
        records: list[dict[str, Any]] = []
        lines: list[int] = []
        with _open_text(path, gz, encoding) as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    # without its line break, an error at the end is still on this line's column
                    record = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as exc:
                    self._reject(path, number, f"not valid JSON at column {exc.colno}: {exc.msg}",
                                 line, exc.colno)
                    continue
                except RecursionError:
                    self._reject(path, number, "JSON nested too deeply", line)
                    continue
                if not isinstance(record, dict):
                    self._reject(path, number, f"a JSON {type(record).__name__}, not an object",
                                 line)
                    continue
                records.append(record)
                lines.append(number)
                if len(records) >= self.chunk_rows:
                    text_column = yield from self._jsonl_chunk(path, records, lines, columns,
                                                               text_column)
                    records, lines = [], []
        if records:
            yield from self._jsonl_chunk(path, records, lines, columns, text_column)

    def _jsonl_chunk(self, path: Path, records: list[dict[str, Any]], lines: list[int],
                     columns: dict[str, None], text_column: str | None,
                     ) -> Iterator[tuple[pd.DataFrame, str]]:
        for record in records:
            if record.keys() - columns.keys():
                columns.update(dict.fromkeys(str(k) for k in record))
        if text_column is None:
            text_column = self._text_column(path, list(columns))
        data: dict[str, Any] = {}
        for name in columns:
            if self._is_author(name, text_column):
                continue
            if name == text_column:
                data[name] = [_message_text(r.get(name)) for r in records]
            else:
                data[name] = [_json_cell(self._without_authors(r.get(name))) for r in records]
        yield self._finish(data, path, lines), text_column
        return text_column

    def _without_authors(self, value: Any) -> Any:
        """A nested JSON value without author keys at any depth ({"meta": {"from_id": ...}})."""
        if self.keep_authors or not isinstance(value, (dict, list)):
            return value
        if isinstance(value, list):
            return [self._without_authors(v) for v in value]
        return {k: self._without_authors(v) for k, v in value.items()
                if not is_author_column(str(k))}

    # -- Parquet --

    def _read_parquet(self, path: Path) -> Iterator[tuple[pd.DataFrame, str]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, ValueError) as exc:
            raise DataError(f"{path}: not a readable Parquet file: {_one_line(exc)}") from None
        with parquet:
            names = [str(n) for n in parquet.schema_arrow.names]
            text_column = self._text_column(path, names)
            keep = [n for n in names if not self._is_author(n, text_column)]
            start = 1
            try:
                for batch in parquet.iter_batches(batch_size=self.chunk_rows, columns=keep):
                    if batch.num_rows == 0:
                        continue
                    frame = _utf8_batch(batch, start, self._repaired).to_pandas()
                    lines = range(start, start + len(frame))
                    start += len(frame)
                    yield self._finish(frame, path, lines), text_column
            except pa.ArrowException as exc:
                raise DataError(f"{path}: corrupt Parquet data near row {start}: "
                                f"{_one_line(exc)}") from None

    # -- Telegram Desktop JSON --

    def _read_telegram(self, path: Path, gz: bool) -> Iterator[tuple[pd.DataFrame, str]]:
        import ijson

        parser = _TelegramParser(self, path)
        try:
            chat = _public_single_chat(path, gz)
            with _open_binary(path, gz) as raw:
                if chat is not None:  # fast path: ijson builds the messages in C
                    parser.found = True
                    items = ijson.items(raw, "messages.item", use_float=True)
                    yield from parser.messages(chat, items)
                else:
                    yield from parser.run(ijson.parse(raw, use_float=True))
        except ijson.JSONError as exc:
            # yajl quotes the text around the error on the lines after the first: posts, names
            reason = (str(exc).strip().splitlines() or ["parse error"])[0]
            raise DataError(f"{path}: invalid JSON: {_one_line(reason, 200)}") from None
        if not parser.found:
            raise DataError(f"{path}: JSON, but not a Telegram Desktop export (no \"messages\" "
                            "list and no \"chats\" list)")


def _public_single_chat(path: Path, gz: bool) -> dict[str, Any] | None:
    """Name and type of a single-chat export of a public chat, read from the keys before its
    messages; None for anything else (a full-account export, a private chat, other JSON)."""
    import ijson

    chat: dict[str, Any] = {}
    with _open_binary(path, gz) as raw:
        events = ijson.parse(raw)
        if next(events, (None, None, None))[1] != "start_map":
            return None
        for prefix, event, value in events:
            if prefix in ("name", "type") and event in ("string", "null"):
                chat[prefix] = value
            elif event in ("start_map", "start_array"):
                public = chat.get("type") in PUBLIC_CHAT_TYPES
                return chat if prefix == "messages" and public else None
            elif prefix == "" and event == "end_map":
                return None
    return None


def _valid_text(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD; a surrogate pair (as JSON may spell
    an emoji) becomes its character."""
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _clean_cell(value: str) -> tuple[str, bool, bool]:
    """(``value`` valid as UTF-8 and without NUL, whether it held invalid Unicode, a NUL)."""
    invalid = False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value, invalid = _valid_text(value), True
    nul = "\x00" in value
    return (value.replace("\x00", "") if nul else value), invalid, nul


def _clean_text(frame: pd.DataFrame, repaired: list[int], nuls: list[int]) -> pd.DataFrame:
    """``frame`` with every str cell encodable as UTF-8 (names: see ``_finish``) and free of
    NUL characters, which carry no text and end strings in C tools and databases; the
    ``_line`` of each repaired cell is appended to ``repaired``, of each cell that held NULs
    to ``nuls``.

    Only JSON can spell a lone surrogate (``"\\ud800"``); CSV is decoded strictly. One encode of a
    column's joined cells finds the clean columns, nearly all of them, at C speed.
    """
    lines = None
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
            continue
        values = series.tolist()
        joined = "".join(v for v in values if type(v) is str)
        try:
            joined.encode("utf-8")
            if "\x00" not in joined:
                continue
        except UnicodeEncodeError:
            pass
        if lines is None:
            lines = frame["_line"].tolist()
            frame = frame.copy()
        fixed = []
        for row, value in enumerate(values):
            if type(value) is str:
                value, invalid, nul = _clean_cell(value)
                if invalid:
                    repaired.append(lines[row])
                if nul:
                    nuls.append(lines[row])
            fixed.append(value)
        frame.isetitem(i, pd.Series(fixed, index=frame.index, dtype=object, name=frame.columns[i]))
    return frame


def _utf8_batch(batch: Any, start: int, repaired: list[int]) -> Any:
    """A Parquet record batch whose string columns hold valid UTF-8 (Parquet does not check):
    bad bytes become U+FFFD; the row number of each repaired cell is appended to ``repaired``."""
    import pyarrow as pa

    columns = list(batch.columns)
    changed = False
    for i, column in enumerate(columns):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        try:
            column.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        cells = []
        for row, raw in enumerate(column.cast(pa.large_binary()).to_pylist()):
            if raw is not None:
                try:
                    raw = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raw = raw.decode("utf-8", "replace")
                    repaired.append(start + row)
            cells.append(raw)
        columns[i] = pa.array(cells, type=column.type)
        changed = True
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema) if changed else batch


def _free_name(name: str, taken: set[str]) -> str:
    candidate, n = f"{name}_input", 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_input{n}"
    return candidate


class _TelegramParser:
    """Turns the ijson events of a single-chat or full-account export into row chunks.

    A chat's messages are read only if its ``type``, which Telegram Desktop
    writes before the messages, is a public one; otherwise they are passed over
    without being built. Chats are counted in ``skipped_chats`` when they end.
    """

    _CHAT_ITEMS = ("chats.list.item", "left_chats.list.item")

    def __init__(self, owner: ExportReader, path: Path) -> None:
        self.owner, self.path = owner, path
        self.found = False
        self.rows: list[dict[str, Any]] = []
        self.lines: list[int] = []
        self.optional: dict[str, None] = {}  # views / forwards, once seen in this file

    def run(self, events: Iterator[tuple[str, str, Any]]) -> Iterator[tuple[pd.DataFrame, str]]:
        import ijson

        first = next(events, None)
        if first is None or first[1] != "start_map":
            raise DataError(f"{self.path}: JSON, but not a Telegram Desktop export (the top level "
                            "is not an object)")
        chats: list[dict[str, Any]] = [{"prefix": "", "base": ""}]  # open chats, innermost last
        item = ""  # prefix of the message items of the list being read ("" = not in a list)
        public = False
        index = 0
        builder: Any = None
        skipping = False
        for prefix, event, value in events:
            if item:
                if builder is not None or skipping:
                    if prefix == item and event in ("end_map", "end_array"):
                        if builder is not None:
                            builder.event(event, value)
                            self._message(chats[-1], index, builder.value)
                            builder = None
                            if len(self.rows) >= self.owner.chunk_rows:
                                yield self._chunk()
                        skipping = False
                    elif builder is not None:
                        builder.event(event, value)
                    continue
                if prefix == item:
                    index += 1
                    if not public:
                        skipping = event in ("start_map", "start_array")
                    elif event in ("start_map", "start_array"):
                        builder = ijson.ObjectBuilder()
                        builder.event(event, value)
                    else:
                        self.owner._reject(self.path, index, "a message that is not an object",
                                           json.dumps(value, default=str))
                    continue
                item = ""  # the end of the messages list
                continue
            chat = chats[-1]
            base = chat["base"]
            if event == "start_map" and prefix in self._CHAT_ITEMS:
                chats.append({"prefix": prefix, "base": prefix + "."})
            elif event == "end_map" and prefix == chat["prefix"]:
                self._end_chat(chats.pop())
            elif event == "start_array" and prefix == base + "messages":
                self.found = chat["messages"] = True
                public = chat.get("type") in PUBLIC_CHAT_TYPES
                chat["read"] = public
                item, index = prefix + ".item", 0
            elif event == "start_array" and prefix in ("chats.list", "left_chats.list"):
                self.found = True
            elif event in ("string", "null") and prefix in (base + "name", base + "type"):
                chat[prefix[len(base):]] = value
        if self.rows:
            yield self._chunk()

    def messages(self, chat: dict[str, Any],
                 items: Iterator[Any]) -> Iterator[tuple[pd.DataFrame, str]]:
        """Rows of one public chat's already built messages."""
        for index, item in enumerate(items, 1):
            self._message(chat, index, item)
            if len(self.rows) >= self.owner.chunk_rows:
                yield self._chunk()
        if self.rows:
            yield self._chunk()

    def _end_chat(self, chat: dict[str, Any]) -> None:
        if not chat["prefix"] and not chat.get("messages"):
            return  # the top level of a full-account export is not a chat
        if chat.get("read"):
            return
        kind = str(chat.get("type") or "unknown")
        if kind in PUBLIC_CHAT_TYPES:  # its type came after its messages: not read, to be safe
            self.owner.warn(f"{self.path}: chat {chat.get('name')!r} was skipped: its type is "
                            "listed after its messages")
        self.owner.skipped_chats[kind] = self.owner.skipped_chats.get(kind, 0) + 1

    def _message(self, chat: dict[str, Any], index: int, message: Any) -> None:
        if not isinstance(message, dict):
            self.owner._reject(self.path, index, "a message that is not an object",
                               json.dumps(message, default=str, ensure_ascii=False))
            return
        if message.get("type") != "message":
            return  # service message: joins, pins, title changes
        row = {
            "chat": chat.get("name"),
            "chat_type": chat.get("type"),
            "message_id": message.get("id"),
            "date": _json_cell(message.get("date")),
        }
        for key in ("views", "forwards"):
            if key in message:
                self.optional[key] = None
                row[key] = message[key]
        row["text"] = _message_text(message.get("text"))
        if self.owner.keep_authors:
            row["from"] = _json_cell(message.get("from"))
            row["from_id"] = _json_cell(message.get("from_id"))
            row["forwarded_from"] = _json_cell(message.get("forwarded_from"))
        self.rows.append(row)
        self.lines.append(index)

    def _chunk(self) -> tuple[pd.DataFrame, str]:
        names = ["chat", "chat_type", "message_id", "date", *self.optional, "text"]
        if self.owner.keep_authors:
            names += ["from", "from_id", "forwarded_from"]
        data: dict[str, Any] = {}
        for name in names:
            values = [r.get(name) for r in self.rows]
            if name in ("message_id", "views", "forwards"):
                try:
                    data[name] = pd.Series(values, dtype="Int64")
                    continue
                except (TypeError, ValueError):
                    values = [_json_cell(v) for v in values]
            data[name] = pd.Series(values, dtype=object)  # not inferred as str: None stays
        frame = self.owner._finish(pd.DataFrame(data), self.path, self.lines)
        self.rows, self.lines = [], []
        return frame, "text"


def _message_text(value: Any) -> str | None:
    """A Telegram message text (a string, or a list of strings and entity objects) as one str."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                text = part.get("text")
                parts.append(text if isinstance(text, str) else "" if text is None else str(text))
            elif part is not None:
                parts.append(str(part))
        return "".join(parts)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return value["text"]
    return _json_cell(value)


def _json_cell(value: Any) -> str | None:
    """A parsed JSON value as a cell: str and None as they are, anything else as JSON text."""
    if value is None or type(value) is str:
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _unique_names(header: list[str]) -> list[str]:
    """Column names made unique the way pandas does it (``a``, ``a.1``); blanks get a name."""
    names: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(header):
        name = name if name.strip() else f"Unnamed: {i}"
        candidate, n = name, 0
        while candidate in seen:
            n += 1
            candidate = f"{name}.{n}"
        seen.add(candidate)
        names.append(candidate)
    return names


def _csv_reason(exc: csv.Error) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return "unclosed quote: the quoted field runs to the end of the file"
    if "expected after" in message:
        return "a closing quote is followed by other characters (unclosed or stray quote?)"
    if "field larger than field limit" in message:
        return f"a field longer than {MAX_FIELD_CHARS} characters (unclosed quote?)"
    return _one_line(message)


def _sniff_delimiter(sample: str, truncated: bool, suffix: str) -> str:
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


# -- files, formats and encodings ----------------------------------------------------------


def _check_file(path: Path) -> None:
    try:
        if path.is_dir():
            raise DataError(f"{path}: is a directory, not a file (pass the files in it, "
                            f"e.g. {path}/*.csv)")
        if not path.exists():
            raise DataError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: empty file")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {_one_line(exc.strerror or exc)}") from None


def _inner_suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return os.path.splitext(name)[1]


def _open_binary(path: Path, gz: bool) -> IO[bytes]:
    return gzip.open(path, "rb") if gz else open(path, "rb")


@dataclass
class _Encoding:
    """How a text file is decoded; ``legacy_lines`` collects the lines read as cp1252."""

    per_line: bool
    legacy_lines: list[int] = field(default_factory=list)


def _open_text(path: Path, gz: bool, encoding: _Encoding, count: bool = True) -> IO[str]:
    """A text stream with ``newline=""`` semantics (lines end at \\n, \\r\\n or a lone \\r).
    A per-line stream appends its cp1252 lines to ``encoding.legacy_lines`` if ``count``."""
    if not encoding.per_line:
        return io.TextIOWrapper(_open_binary(path, gz), encoding="utf-8-sig", newline="")
    return _PerLineText(_open_binary(path, gz), encoding.legacy_lines if count else [])


_LONE_CR = re.compile(r"(?<=\r)(?!\n|$)")


class _PerLineText:
    """Decodes each line as UTF-8 if it is valid UTF-8, else as cp1252 (the 5 bytes cp1252
    leaves undefined as latin-1); iterable and readable like the TextIOWrapper it replaces."""

    def __init__(self, raw: IO[bytes], legacy_lines: list[int]) -> None:
        self.raw, self.legacy_lines, self.number = raw, legacy_lines, 0
        self._pending = ""

    def __enter__(self) -> _PerLineText:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.raw.close()

    def __iter__(self) -> Iterator[str]:
        first = True
        for data in self.raw:
            if first and data.startswith(codecs.BOM_UTF8):
                data = data[3:]
            first = False
            try:
                line = data.decode("utf-8")
            except UnicodeDecodeError:
                line = data.decode("cp1252", _LATIN1_FALLBACK)
                self.legacy_lines.append(self.number + 1)
            parts = _LONE_CR.split(line) if "\r" in line else [line]
            self.number += len(parts)
            yield from parts

    def read(self, size: int) -> str:
        """About ``size`` characters from the start (for sniffing; whole lines, so it may be
        a little more)."""
        out, total = [], 0
        for line in self:
            out.append(line)
            total += len(line)
            if total >= size:
                break
        return "".join(out)[:size]


def _detect(path: Path) -> tuple[str, bool]:
    """(kind, gzipped): kind is "csv", "jsonl", "parquet" or "telegram"."""
    _check_file(path)
    not_export = f"{path}: not a CSV/JSONL/Parquet/Telegram export"
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
        gz = magic[:2] == b"\x1f\x8b"
        suffix = _inner_suffix(path)
        if magic == b"PAR1":
            return "parquet", False
        if suffix in (".parquet", ".pq") and not gz:
            raise DataError(f"{path}: not a Parquet file (no PAR1 magic bytes)")
        if magic.startswith(b"PK\x03\x04"):
            raise DataError(f"{not_export} (a zip archive: extract it first)")
        with _open_binary(path, gz) as handle:
            head = handle.read(_HEAD)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: corrupt gzip data: {_one_line(exc)}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {_one_line(exc.strerror or exc)}") from None
    if gz and head.startswith(b"PAR1"):
        raise DataError(f"{path}: gzip-compressed Parquet is not supported; decompress it first")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(f"{path}: UTF-16 text is not supported; save the file as UTF-8")
    body = head[3:] if head.startswith(codecs.BOM_UTF8) else head
    if not body.strip():
        raise DataError(f"{path}: empty file")
    if _looks_binary(body):
        raise DataError(f"{not_export} (binary data)")
    if suffix in (".csv", ".tsv", ".tab"):
        return "csv", gz
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl", gz
    first = body.lstrip()[:1]
    if suffix == ".json" or first in (b"{", b"["):
        return _json_kind(body, len(head) == _HEAD), gz
    return "csv", gz


def _json_kind(head: bytes, truncated: bool) -> str:
    """JSON Lines if the first line is a whole JSON object, not a Telegram export, and more
    lines follow; otherwise one JSON document (read as a Telegram export)."""
    line, newline, rest = head.lstrip().partition(b"\n")
    if not rest.strip() and not truncated:
        return "telegram"  # a single line: one document
    if not newline:
        return "telegram"  # one line longer than the head: a minified document
    if line.strip() in (b"{", b"["):
        return "telegram"  # a pretty-printed document
    try:
        record = json.loads(line.decode("utf-8", errors="replace"))
    except ValueError:
        return "jsonl" if newline else "telegram"
    if isinstance(record, dict) and ("messages" in record or "chats" in record):
        return "telegram"
    return "jsonl" if isinstance(record, dict) else "telegram"


_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\x1b") + b"\x7f"  # with NUL


def _looks_binary(head: bytes) -> bool:
    """Whether more than 5% of the head (at least 3 bytes) are control bytes, NUL included: a few
    NULs in a text export (a broken tool, a NUL-padded line) do not make it binary."""
    sample = head[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    return controls > max(2, len(sample) // 20)


def _first_invalid_utf8_line(path: Path, gz: bool) -> int | None:
    """The line of the first byte that is not valid UTF-8, or None: one constant-memory pass."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    newlines = 0
    with _open_binary(path, gz) as handle:
        while True:
            block = handle.read(_BLOCK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                at = max(0, exc.start - pending)
                return newlines + block[:at].count(b"\n") + 1
            if not block:
                return None
            newlines += block.count(b"\n")


# -- writing -------------------------------------------------------------------------------


def _escape_cell(value: Any) -> Any:
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
    return _spreadsheet_safe(frame)[0]


def _spreadsheet_safe(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """(:func:`spreadsheet_safe` of ``frame``, whether a text cell holds a carriage return)."""
    out, carriage_return = None, False
    for i, column in enumerate(frame.columns):
        series = frame.iloc[:, i]
        if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
            continue
        values = series.tolist()
        escaped = [_escape_cell(v) for v in values]
        if any(a is not b for a, b in zip(escaped, values)):
            if out is None:
                out = frame.copy()
            out.isetitem(i, pd.Series(escaped, index=frame.index, dtype=object, name=column))
        carriage_return = carriage_return or any(isinstance(v, str) and "\r" in v for v in values)
    names = [_escape_cell(str(c)) for c in frame.columns]
    carriage_return = carriage_return or any("\r" in name for name in names)
    if names != [str(c) for c in frame.columns]:
        out = (frame.copy() if out is None else out).set_axis(names, axis=1)
    return (frame if out is None else out), carriage_return


def write_csv(frame: pd.DataFrame, stream: IO[str], *, header: bool = True,
              sep: str = ",") -> None:
    """Write ``frame`` as spreadsheet-safe CSV (no index) to a text stream.

    Lines end in ``\\n``, except in a frame with a carriage return inside a cell: Python's csv
    writer quotes a field only for the characters of its line terminator, so that frame's lines
    end in ``\\r\\n`` and the cell is quoted (a bare ``\\r`` would split the record on reading).
    """
    safe, carriage_return = _spreadsheet_safe(frame)
    safe.to_csv(stream, header=header, index=False, sep=sep,
                lineterminator="\r\n" if carriage_return else "\n")


_OUTPUT_KINDS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".parquet": "parquet"}


class AtomicWriter:
    """Writes DataFrame chunks to ``path`` in the format its extension names.

    Formats: .csv, .tsv, .jsonl (or .ndjson), .parquet; the text formats may end
    in .gz. Data goes to a temporary file in the same directory, renamed over
    ``path`` only when the ``with`` block exits normally; on any exception
    (KeyboardInterrupt included) the temporary file is removed and ``path`` is
    untouched. Later chunks are reindexed to the first chunk's columns; a column
    the first chunk did not have raises :class:`DataError`. Text is UTF-8
    without BOM; CSV/TSV cells are made spreadsheet-safe (:func:`spreadsheet_safe`).
    In Parquet, bool and numeric columns keep their type and every other column
    is stored as strings. Writing no chunk at all gives an empty
    file (Parquet: a file with no columns).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._gz = self.path.name.lower().endswith(".gz")
        self._kind = self._format()
        self._tmp: Path | None = None
        self._raw: IO[bytes] | None = None
        self._stream: IO[Any] | None = None
        self._parquet: Any = None
        self._schema: Any = None
        self._columns: list[str] | None = None

    def _format(self) -> str:
        kind = _OUTPUT_KINDS.get(_inner_suffix(self.path))
        if kind is None or (self._gz and kind == "parquet"):
            raise DataError(f"{self.path}: cannot tell the output format from the file name; use "
                            ".csv, .tsv, .jsonl or .parquet (text formats may end in .gz)")
        return kind

    def __enter__(self) -> AtomicWriter:
        if self.path.is_dir():
            raise DataError(f"{self.path}: is a directory")
        parent = self.path.parent
        if not parent.is_dir():
            raise DataError(f"{self.path}: directory {str(parent)!r} does not exist")
        for _ in range(100):
            tmp = parent / f".{self.path.name}.{secrets.token_hex(4)}.tmp"
            try:
                self._raw = open(tmp, "xb")
            except FileExistsError:
                continue
            except OSError as exc:
                raise DataError(f"{self.path}: cannot write: "
                                f"{_one_line(exc.strerror or exc)}") from None
            self._tmp = tmp
            break
        else:  # pragma: no cover - 100 random names taken
            raise DataError(f"{self.path}: cannot create a temporary file in {parent}")
        if self._kind != "parquet":
            binary: IO[bytes] = self._raw
            if self._gz:
                binary = gzip.GzipFile(filename=self.path.name, mode="wb", fileobj=self._raw,
                                       mtime=0)
            self._stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        """Append one chunk."""
        if self._raw is None:
            raise RuntimeError("AtomicWriter.write() called outside its with block")
        first = self._columns is None
        if first:
            self._columns = [str(c) for c in chunk.columns]
            if len(set(self._columns)) != len(self._columns):
                raise DataError(f"{self.path}: duplicate column names in "
                                f"{_list_columns(self._columns)}")
        else:
            extra = [c for c in chunk.columns if c not in self._columns]
            if extra:
                raise DataError(f"{self.path}: a later chunk has column(s) the first did not "
                                f"have: {_list_columns(extra)}")
            if list(chunk.columns) != self._columns:
                chunk = chunk.reindex(columns=self._columns)
        if self._kind in ("csv", "tsv"):
            assert self._stream is not None
            write_csv(chunk, self._stream, header=first, sep="\t" if self._kind == "tsv" else ",")
        elif self._kind == "jsonl":
            if len(chunk):
                text = chunk.to_json(orient="records", lines=True, force_ascii=False,
                                     date_format="iso", double_precision=15, default_handler=str)
                # pandas writes "/" as "\/"; both are valid JSON, the first is easier to read
                text = text.replace("\\/", "/")
                assert self._stream is not None
                self._stream.write(text if text.endswith("\n") else text + "\n")
        else:
            self._write_parquet(chunk)

    def _write_parquet(self, chunk: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._schema is None:
            arrays = [_arrow_column(chunk[c], None) for c in chunk.columns]
            self._schema = pa.schema([pa.field(str(c), a.type) for c, a in
                                      zip(chunk.columns, arrays)])
            self._parquet = pq.ParquetWriter(str(self._tmp), self._schema)
        else:
            arrays = []
            for field in self._schema:
                try:
                    arrays.append(_arrow_column(chunk[field.name], field.type))
                except (pa.ArrowException, TypeError, ValueError):
                    # not the exception's text: Arrow quotes the offending cell
                    raise DataError(f"{self.path}: column {field.name!r} cannot be stored as "
                                    f"{field.type} like in the first chunk: a later chunk "
                                    "holds values of another type") from None
        self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        tmp = self._tmp
        try:
            if exc_type is None:
                try:
                    self._close()
                except OSError as error:
                    raise DataError(f"{self.path}: cannot write: "
                                    f"{_one_line(error.strerror or error)}") from None
                if self.path.exists():
                    with contextlib.suppress(OSError):
                        shutil.copymode(self.path, tmp)
                try:
                    os.replace(tmp, self.path)
                except OSError as error:
                    raise DataError(f"{self.path}: cannot write: "
                                    f"{_one_line(error.strerror or error)}") from None
            else:
                with contextlib.suppress(Exception):
                    self._close()
                if isinstance(exc, OSError) and not exc.filename:  # a full disk names no file
                    raise DataError(f"{self.path}: cannot write: "
                                    f"{_one_line(exc.strerror or exc)}") from None
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)

    def _close(self) -> None:
        raw, stream, parquet = self._raw, self._stream, self._parquet
        self._raw = self._stream = self._parquet = None
        try:
            if parquet is not None:
                parquet.close()
            elif self._kind == "parquet" and self._tmp is not None:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), str(self._tmp))
            if stream is not None:
                stream.close()  # closes the gzip layer too, which leaves raw open
            if raw is not None and not raw.closed:
                raw.flush()
                os.fsync(raw.fileno())
        finally:
            if raw is not None:
                raw.close()


def _arrow_column(series: pd.Series, target: Any) -> Any:
    """One column as an Arrow array: bool/numeric/datetime kept, anything else as strings."""
    import pyarrow as pa

    if target is None:
        dtype = series.dtype
        typed = (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
                 or pd.api.types.is_datetime64_any_dtype(dtype))
        if typed and series.notna().any():
            return pa.Array.from_pandas(series)
        target = pa.string()
    if target != pa.string():
        return pa.Array.from_pandas(series, type=target)
    try:
        return pa.Array.from_pandas(series, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        cells = [_cell_text(v) for v in series.tolist()]
        try:
            return pa.array(cells, type=pa.string())
        except (pa.ArrowException, UnicodeError):
            cells = [None if c is None else c.encode("utf-8", "replace").decode("utf-8")
                     for c in cells]
            return pa.array(cells, type=pa.string())


def _cell_text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def write_rejects(path: str | os.PathLike[str], rejected: list[Rejected]) -> None:
    """Write rejected records as CSV (columns file, line, reason, raw), atomically; phone
    numbers and emails in ``raw`` are masked like in the review queue."""
    from kanalml.rank import mask_pii

    frame = pd.DataFrame({
        "file": pd.array([r.file for r in rejected], dtype=object),
        "line": pd.array([r.line for r in rejected], dtype="int64"),
        "reason": pd.array([r.reason for r in rejected], dtype=object),
        "raw": pd.array([mask_pii(r.raw) for r in rejected], dtype=object),
    })
    with _CsvWriter(path) as writer:
        writer.write(frame)


class _CsvWriter(AtomicWriter):
    """An AtomicWriter that writes CSV whatever the file name (gzip'd if it ends in .gz)."""

    def _format(self) -> str:
        return "csv"
