"""Column names and cell values shared by the readers.

Owns which column holds the text (:data:`TEXT_COLUMNS`), which columns name an author
(:func:`is_author_column`), how names are made unique (``a``, ``a.1``) or freed
(``NAME_input``), and how a parsed JSON value becomes a cell. Knows nothing about files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

TEXT_COLUMNS = ("text", "message", "content", "original_text", "isi", "teks", "caption", "tweet")
# A column is an author's when a word of its name (split at separators and camelCase) is one of
# these, or it starts with "from" (from, from_id, fromName), names a forward's origin
# (forwarded_from, fwd_from), says who did something (posted_by, uploaded_by) or a person's
# name (first_name, display_name) - unless it names a channel or chat (channel_username,
# from_chat).
AUTHOR_WORDS = frozenset({"author", "authors", "user", "users", "username", "usernames", "userid",
                          "sender", "actor", "poster", "screen", "handle", "nickname", "nick",
                          "penulis", "pengirim", "pengguna", "signature", "uploader", "uploaders",
                          "owner", "creator", "account", "admin", "commenter", "replier",
                          "fullname", "firstname", "lastname", "displayname", "pengunggah",
                          "pembuat", "akun", "pemilik"})
_PERSON_NAME_WORDS = frozenset({"first", "last", "full", "display", "real", "given", "family"})
_FORWARD_WORDS = frozenset({"forwarded", "forward", "fwd", "fw"})
_PLACE_WORDS = frozenset({"channel", "chat", "group", "kanal", "grup", "saluran"})
_NAME_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_JSON_KEY = re.compile(r'"((?:[^"\\]|\\.){1,200})"\s*:')


def is_author_column(name: str) -> bool:
    """Whether a column name looks like it holds who wrote or forwarded a post (see
    :data:`AUTHOR_WORDS`)."""
    words = [w.lower() for w in _NAME_WORDS.findall(name)]
    if not words or _PLACE_WORDS.intersection(words):
        return False
    return (bool(AUTHOR_WORDS.intersection(words)) or words[0] == "from"
            or ("from" in words and bool(_FORWARD_WORDS.intersection(words)))
            or (len(words) > 1 and words[-1] == "by")
            or ("name" in words and bool(_PERSON_NAME_WORDS.intersection(words))))


def has_author_key(raw: str) -> bool:
    """Whether JSON text (a malformed JSON Lines record, a rejected Telegram item) has a key
    naming an author column."""
    return '"' in raw and any(is_author_column(k) for k in _JSON_KEY.findall(raw))


def list_columns(columns: Sequence[Any]) -> str:
    """Column names for a one-line message: the first 30, quoted, and how many more."""
    shown = ", ".join(repr(str(c)) for c in list(columns)[:30])
    more = len(columns) - 30
    return (shown + (f", … ({more} more)" if more > 0 else "")) if columns else "none"


def free_name(name: str, taken: set[str]) -> str:
    """A new name for input column ``name`` that is not in ``taken``: ``NAME_input``, else
    ``NAME_input2``, ``NAME_input3``..."""
    candidate, n = f"{name}_input", 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_input{n}"
    return candidate


def message_text(value: Any) -> str | None:
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
    if isinstance(value, dict):
        text = value.get("text")
        if isinstance(text, str):
            return text
    return json_cell(value)


def json_cell(value: Any) -> str | None:
    """A parsed JSON value as a cell: str and None as they are, anything else as JSON text."""
    if value is None or type(value) is str:
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def unique_names(header: list[str]) -> list[str]:
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
