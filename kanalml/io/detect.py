"""Which format an input file holds, from its name and its first bytes.

Owns format detection: Parquet by its magic bytes, gzip, CSV/TSV and JSON Lines by suffix, and
for ``.json`` or unnamed JSON whether it is JSON Lines or one document (a Telegram export);
refuses zip archives, UTF-16, binary data and empty files with a one-line :class:`DataError`.
Knows nothing about reading the rows.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import zlib
from pathlib import Path

from kanalml.errors import DataError
from kanalml.io.text import one_line, open_binary

_HEAD = 1 << 20  # bytes looked at to detect the format


def check_file(path: Path) -> None:
    try:
        if path.is_dir():
            raise DataError(f"{path}: is a directory, not a file (pass the files in it, "
                            f"e.g. {path}/*.csv)")
        if not path.exists():
            raise DataError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: empty file")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {one_line(exc.strerror or exc)}") from None


def inner_suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return os.path.splitext(name)[1]


def detect(path: Path) -> tuple[str, bool]:
    """(kind, gzipped): kind is "csv", "jsonl", "parquet" or "telegram"."""
    check_file(path)
    not_export = f"{path}: not a CSV/JSONL/Parquet/Telegram export"
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
        gz = magic[:2] == b"\x1f\x8b"
        suffix = inner_suffix(path)
        if magic == b"PAR1":
            return "parquet", False
        if suffix in (".parquet", ".pq") and not gz:
            raise DataError(f"{path}: not a Parquet file (no PAR1 magic bytes)")
        if magic.startswith(b"PK\x03\x04"):
            raise DataError(f"{not_export} (a zip archive: extract it first)")
        with open_binary(path, gz) as handle:
            head = handle.read(_HEAD)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: corrupt gzip data: {one_line(exc)}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {one_line(exc.strerror or exc)}") from None
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
