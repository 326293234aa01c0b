"""The export reader: one or more files, any supported format, as DataFrame chunks.

Owns :class:`ExportReader`. Knows nothing about models.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import os
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from kanalml.errors import DataError
from kanalml.io.columns import (
    TEXT_COLUMNS,
    free_name,
    has_author_key,
    is_author_column,
    json_cell,
    list_columns,
    message_text,
    unique_names,
)
from kanalml.io.context import RAW_WITHHELD, Rejected, cut
from kanalml.io.delimited import _SNIFF_CHARS, csv_reason, sniff_delimiter
from kanalml.io.detect import check_file, detect, inner_suffix
from kanalml.io.parquet import utf8_batch
from kanalml.io.telegram_public import TelegramParser, public_single_chat
from kanalml.io.text import (
    Encoding,
    clean_text,
    first_invalid_utf8_line,
    one_line,
    open_binary,
    open_text,
    valid_text,
)

_BAD_LINES = ("error", "warn", "skip")


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
            check_file(path)

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, str]]:
        self.rejected, self.skipped_chats, self.rows_read = [], {}, 0
        for path in self.paths:
            before = len(self.rejected)
            self._repaired, self._nuls, self._renamed, self._author_fields = [], [], {}, False
            for chunk, column in self._read(path):
                self.rows_read += len(chunk)
                chunk = clean_text(chunk, self._repaired, self._nuls)
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
        kind, gz = detect(path)
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
            raise DataError(f"{path}: corrupt gzip data: {one_line(exc)}") from None
        except OSError as exc:
            raise DataError(f"{path}: cannot read: {one_line(exc.strerror or exc)}") from None

    def _reject(self, path: Path, line: int, reason: str, raw: str,
                column: int | None = None) -> None:
        if self.on_bad_lines == "error":
            where = f"{line}:{column}" if column else f"{line}"
            raise DataError(f"{path}:{where}: {reason}")
        if not self.keep_authors and (self._author_fields or has_author_key(raw)):
            raw = RAW_WITHHELD  # a malformed record cannot be split into fields to drop
        self.rejected.append(Rejected(str(path), line, reason, cut(raw)))

    def _encoding(self, path: Path, gz: bool) -> Encoding:
        """UTF-8 (BOM or not) if every byte sequence is valid UTF-8; else line by line (a file
        appended to by several tools): UTF-8 where a line is valid UTF-8, cp1252 where not."""
        return Encoding(per_line=first_invalid_utf8_line(path, gz) is not None)

    def _text_column(self, path: Path, columns: Sequence[str]) -> str:
        if self.text_column is not None:
            if self.text_column in columns:
                return self.text_column
            wanted = self.text_column.strip().lower()
            folded = [c for c in columns if c.strip().lower() == wanted]
            if len(folded) == 1:
                return folded[0]
            raise DataError(f"{path}: no column {self.text_column!r} (columns: "
                            f"{list_columns(columns)})")
        for column in columns:
            if column.strip().lower() in TEXT_COLUMNS:
                return column
        raise DataError(f"{path}: no text column found; expected one of {', '.join(TEXT_COLUMNS)} "
                        f"(columns: {list_columns(columns)}); name it with --text-column")

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
                data = dict(zip(unique_names([valid_text(k) for k in data]), data.values()))
            names = list(data)
        clash = [n for n in names if n in self.reserved]
        if clash:
            taken = set(names) | self.reserved
            for name in clash:
                if name not in self._renamed:
                    self._renamed[name] = free_name(name, taken)
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
                  encoding: Encoding) -> Iterator[tuple[pd.DataFrame, str]]:
        with open_text(path, gz, encoding, count=False) as stream:
            sample = stream.read(_SNIFF_CHARS)
        delimiter = sniff_delimiter(sample, len(sample) == _SNIFF_CHARS, inner_suffix(path))
        with open_text(path, gz, encoding) as stream:
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
            raise DataError(f"{path}:1: cannot read the header row: {csv_reason(exc)}") from None
        if not any(cell.strip() for cell in header):
            raise DataError(f"{path}:1: the header row is empty")
        header = unique_names(header)
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
                self._reject(path, start, csv_reason(exc), captured[0] if captured else "")
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
                    encoding: Encoding) -> Iterator[tuple[pd.DataFrame, str]]:
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
                data[name] = [message_text(r.get(name)) for r in records]
            else:
                data[name] = [json_cell(self._without_authors(r.get(name))) for r in records]
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
            raise DataError(f"{path}: not a readable Parquet file: {one_line(exc)}") from None
        with parquet:
            names = [str(n) for n in parquet.schema_arrow.names]
            text_column = self._text_column(path, names)
            keep = [n for n in names if not self._is_author(n, text_column)]
            start = 1
            try:
                for batch in parquet.iter_batches(batch_size=self.chunk_rows, columns=keep):
                    if batch.num_rows == 0:
                        continue
                    frame = utf8_batch(batch, start, self._repaired).to_pandas()
                    lines = range(start, start + len(frame))
                    start += len(frame)
                    yield self._finish(frame, path, lines), text_column
            except pa.ArrowException as exc:
                raise DataError(f"{path}: corrupt Parquet data near row {start}: "
                                f"{one_line(exc)}") from None

    # -- Telegram Desktop JSON --

    def _read_telegram(self, path: Path, gz: bool) -> Iterator[tuple[pd.DataFrame, str]]:
        import ijson

        parser = TelegramParser(self, path)
        try:
            chat = public_single_chat(path, gz)
            with open_binary(path, gz) as raw:
                if chat is not None:  # fast path: ijson builds the messages in C
                    parser.found = True
                    items = ijson.items(raw, "messages.item", use_float=True)
                    yield from parser.messages(chat, items)
                else:
                    yield from parser.run(ijson.parse(raw, use_float=True))
        except ijson.JSONError as exc:
            # yajl quotes the text around the error on the lines after the first: posts, names
            reason = (str(exc).strip().splitlines() or ["parse error"])[0]
            raise DataError(f"{path}: invalid JSON: {one_line(reason, 200)}") from None
        if not parser.found:
            raise DataError(f"{path}: JSON, but not a Telegram Desktop export (no \"messages\" "
                            "list and no \"chats\" list)")
