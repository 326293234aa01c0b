"""Text and encodings of input files: decoding, per-line legacy encodings, Unicode repair.

Owns how bytes become ``str``: UTF-8 (BOM or not), or line by line UTF-8 / cp1252 for a file
appended to by several tools (:func:`encoding_of`); streams that end lines at ``\n``, ``\r\n``
or a lone ``\r``; the repair of cells that are not valid Unicode (lone surrogates, which only
JSON can spell) and the removal of NUL characters (:func:`clean_text`); one-line messages; raw
bytes in pieces for byte counts (:func:`segments`). Knows nothing about formats, columns or
models.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import pandas as pd

BLOCK = 1 << 20  # bytes per read in the streaming passes
_RUN = 1 << 16  # bytes without a line break or comma that segments() passes on as one piece
_LATIN1_FALLBACK = "kanalml-latin1"


def _latin1_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the 5 bytes cp1252 leaves undefined (0x81, 0x8d, 0x8f, 0x90, 0x9d) as latin-1."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error(_LATIN1_FALLBACK, _latin1_fallback)


def one_line(text: object, limit: int = 300) -> str:
    """``text`` on one line (runs of white space made one space), cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def valid_text(value: str) -> str:
    """``value`` with each lone surrogate replaced by U+FFFD; a surrogate pair (as JSON may spell
    an emoji) becomes its character."""
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _clean_cell(value: str) -> tuple[str, bool, bool]:
    """(``value`` valid as UTF-8 and without NUL, whether it held invalid Unicode, a NUL)."""
    invalid = False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value, invalid = valid_text(value), True
    nul = "\x00" in value
    return (value.replace("\x00", "") if nul else value), invalid, nul


def clean_text(frame: pd.DataFrame, repaired: list[int], nuls: list[int]) -> pd.DataFrame:
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
        column = pd.Series(fixed, index=frame.index, dtype=object, name=frame.columns[i])
        frame.isetitem(i, column)  # type: ignore[arg-type]  # pandas takes a Series; stubs do not
    return frame


def open_binary(path: Path, gz: bool) -> gzip.GzipFile | io.BufferedReader:
    """``path`` opened for reading bytes, through gzip if ``gz``."""
    return gzip.open(path, "rb") if gz else open(path, "rb")


def segments(handle: io.BufferedIOBase) -> Iterator[tuple[bytes, int, int]]:
    """The bytes of ``handle`` in pieces of at most about :data:`BLOCK` bytes, each ending just
    after a line break or comma, so that a byte pattern without one inside (a JSON key and its
    short value) or with one only at its end (``\\r\\n``) is never cut in two. A piece is
    ``(data, start, end)``, the bytes ``data[start:end]``: a block read is searched in place, not
    copied (copying each piece out took 0.2 s of 0.47 s to count a 527 MB Telegram export's
    messages, measured). Bytes without a line break or comma are passed on once :data:`_RUN` of
    them gathered (a string that long may be cut; memory stays bounded)."""
    rest = b""
    while block := handle.read(BLOCK):
        cut = max(block.rfind(b"\n"), block.rfind(b",")) + 1
        if not cut:  # inside a long string: joined to the next block, up to a bound
            rest += block
            if len(rest) >= _RUN:
                yield rest, 0, len(rest)
                rest = b""
            continue
        first = min(i for i in (block.find(b"\n"), block.find(b","), cut - 1) if i >= 0) + 1
        if rest:
            head = rest + block[:first]
            yield head, 0, len(head)
        else:
            first = 0
        if first < cut:
            yield block, first, cut
        rest = block[cut:]
    if rest:
        yield rest, 0, len(rest)


class TextStream(Protocol):
    """What the readers use of a text stream: lines, a first sample, the ``with`` block."""

    def __enter__(self) -> TextStream: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def __iter__(self) -> Iterator[str]: ...

    def read(self, size: int, /) -> str: ...


@dataclass
class Encoding:
    """How a text file is decoded; ``legacy_lines`` collects the lines read as cp1252."""

    per_line: bool
    legacy_lines: list[int] = field(default_factory=list)


def open_text(path: Path, gz: bool, encoding: Encoding, count: bool = True) -> TextStream:
    """A text stream with ``newline=""`` semantics (lines end at \\n, \\r\\n or a lone \\r).
    A per-line stream appends its cp1252 lines to ``encoding.legacy_lines`` if ``count``."""
    if not encoding.per_line:
        return io.TextIOWrapper(open_binary(path, gz), encoding="utf-8-sig", newline="")
    return _PerLineText(open_binary(path, gz), encoding.legacy_lines if count else [])


_LONE_CR = re.compile(r"(?<=\r)(?!\n|$)")


class _PerLineText:
    """Decodes each line as UTF-8 if it is valid UTF-8, else as cp1252 (the 5 bytes cp1252
    leaves undefined as latin-1); iterable and readable like the TextIOWrapper it replaces."""

    def __init__(self, raw: io.BufferedIOBase, legacy_lines: list[int]) -> None:
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


def encoding_of(path: Path, gz: bool) -> Encoding:
    """UTF-8 (BOM or not) if every byte sequence is valid UTF-8; else line by line (a file
    appended to by several tools): UTF-8 where a line is valid UTF-8, cp1252 where not."""
    return Encoding(per_line=first_invalid_utf8_line(path, gz) is not None)


def first_invalid_utf8_line(path: Path, gz: bool) -> int | None:
    """The line of the first byte that is not valid UTF-8, or None: one constant-memory pass."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    newlines = 0
    with open_binary(path, gz) as handle:
        while True:
            block = handle.read(BLOCK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                at = max(0, exc.start - pending)
                return newlines + block[:at].count(b"\n") + 1
            if not block:
                return None
            newlines += block.count(b"\n")
