"""What a reader reports besides rows: rejected records.

Owns :class:`Rejected` and how its ``raw`` text is cut. Knows nothing about formats.
"""

from __future__ import annotations

from dataclasses import dataclass

from kanalml.io.text import valid_text

RAW_CHARS = 500  # Rejected.raw is cut to this many characters
RAW_WITHHELD = "(left out: the record may hold author fields; --keep-authors keeps it)"


@dataclass
class Rejected:
    """One input record that could not be read."""

    file: str
    line: int
    reason: str
    raw: str  # the record as written, cut to ~500 characters; RAW_WITHHELD if it may name authors


def cut(raw: str) -> str:
    raw = raw.rstrip("\r\n")
    raw = raw if len(raw) <= RAW_CHARS else raw[:RAW_CHARS] + "…"
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # a rejected JSON value, dumped again, may hold one
        raw = valid_text(raw)
    return raw
