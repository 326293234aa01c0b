"""Telegram Desktop JSON exports: only public channels and public supergroups are read.

Privacy rule: a chat's messages are read only if its ``type`` is ``public_channel`` or
``public_supergroup`` (:data:`PUBLIC_CHAT_TYPES`). Any other chat - a personal chat, a private
group or channel, a bot, saved messages - is never read beyond its name and type: its messages are
passed over without being built, and the chat is counted by type in the sink's ``skipped_chats``.
Telegram Desktop writes a chat's ``type`` before its messages; a public chat whose type comes
after its messages is skipped too, with a warning, since its messages went by unread.

Reads a single-chat export (``{"name", "type", "messages": [...]}``) and a full-account export
(``chats.list`` and ``left_chats.list``). Rows: ``chat``, ``chat_type``, ``message_id``, ``date``,
``views`` and ``forwards`` (once seen in the file), ``text`` (a list of text entities is joined),
then, only with ``keep_authors``, ``from``, ``from_id``, ``forwarded_from``. ``message_id``,
``views`` and ``forwards`` are nullable integers (``Int64``); the other columns are ``str`` or
``None``. Service messages (joins, pins) are not rows. ``_line`` is the 1-based index of the
message in its chat's ``messages`` list. :func:`count_public_messages` counts the rows to come,
for a progress bar, in the raw bytes. Knows nothing about models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from kanalml.errors import DataError
from kanalml.io.columns import json_cell, message_text
from kanalml.io.context import ReadContext
from kanalml.io.text import one_line, open_binary, segments

PUBLIC_CHAT_TYPES = frozenset({"public_channel", "public_supergroup"})

# Keys as Telegram Desktop writes them (indented: ": ") or minified (":"). In a JSON string their
# quotes would be escaped, so these bytes are only ever keys: never a post that quotes them.
_MESSAGE_TYPES = (b'"type": "message"', b'"type":"message"')
_MESSAGES_KEY = b'"messages":'
_TYPE_KEY = b'"type":'
_PUBLIC_BYTES = frozenset(kind.encode() for kind in PUBLIC_CHAT_TYPES)


def read_telegram(context: ReadContext, gz: bool) -> Iterator[tuple[pd.DataFrame, str]]:
    """``(chunk, "text")`` of the public chats of one Telegram Desktop export."""
    import ijson

    path = context.path
    parser = TelegramParser(context)
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


def public_single_chat(path: Path, gz: bool) -> dict[str, Any] | None:
    """Name and type of a single-chat export of a public chat, read from the keys before its
    messages; None for anything else (a full-account export, a private chat, other JSON)."""
    import ijson

    chat: dict[str, Any] = {}
    with open_binary(path, gz) as raw:
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


def count_public_messages(path: Path, gz: bool) -> int:
    """The messages (``"type": "message"``) in the public chats of a Telegram Desktop export,
    counted in its raw bytes without parsing it, for a progress bar's total: the rows
    :func:`read_telegram` gives, less any it rejects, as it reads the same chats.

    A chat is public if the last ``"type"`` key between the previous ``"messages"`` key and its
    own is a public type: the chat's type, written before its messages (a chat whose type comes
    after them is not read, and not counted). Service messages are not rows and not counted.
    A private chat's bytes are passed over as the reader passes them: only its ``"type"`` and
    ``"messages"`` keys are looked for, and nothing of it is kept.
    """
    total, public, chat_type = 0, False, None
    with open_binary(path, gz) as handle:
        for data, start, stop in segments(handle):
            while True:
                key = data.find(_MESSAGES_KEY, start, stop)
                end = stop if key < 0 else key
                if public:
                    total += sum(data.count(marker, start, end) for marker in _MESSAGE_TYPES)
                found = _last_type(data, start, end)
                if found is not None:
                    chat_type = found
                if key < 0:
                    break
                public, chat_type = chat_type in _PUBLIC_BYTES, None
                start = key + len(_MESSAGES_KEY)
    return total


def _last_type(data: bytes, start: int, end: int) -> bytes | None:
    """The value of the last ``"type"`` key in ``data[start:end]`` (b"" if not a string), or
    None if there is none."""
    at = data.rfind(_TYPE_KEY, start, end)
    if at < 0:
        return None
    value = data[at + len(_TYPE_KEY):at + len(_TYPE_KEY) + 64].lstrip()
    return value[1:].partition(b'"')[0] if value.startswith(b'"') else b""


class TelegramParser:
    """Turns the ijson events of a single-chat or full-account export into row chunks.

    A chat's messages are read only if its ``type``, which Telegram Desktop
    writes before the messages, is a public one; otherwise they are passed over
    without being built. Chats not read are counted in the context's sink when
    they end.
    """

    _CHAT_ITEMS = ("chats.list.item", "left_chats.list.item")

    def __init__(self, context: ReadContext) -> None:
        self.context, self.path = context, context.path
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
                            if len(self.rows) >= self.context.options.chunk_rows:
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
                        self.context.reject(index, "a message that is not an object",
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
            if len(self.rows) >= self.context.options.chunk_rows:
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
            self.context.warn(f"{self.path}: chat {chat.get('name')!r} was skipped: its type is "
                            "listed after its messages")
        self.context.skip_chat(kind)

    def _message(self, chat: dict[str, Any], index: int, message: Any) -> None:
        if not isinstance(message, dict):
            self.context.reject(index, "a message that is not an object",
                                json.dumps(message, default=str, ensure_ascii=False))
            return
        if message.get("type") != "message":
            return  # service message: joins, pins, title changes
        row = {
            "chat": chat.get("name"),
            "chat_type": chat.get("type"),
            "message_id": message.get("id"),
            "date": json_cell(message.get("date")),
        }
        for key in ("views", "forwards"):
            if key in message:
                self.optional[key] = None
                row[key] = message[key]
        row["text"] = message_text(message.get("text"))
        if self.context.options.keep_authors:
            row["from"] = json_cell(message.get("from"))
            row["from_id"] = json_cell(message.get("from_id"))
            row["forwarded_from"] = json_cell(message.get("forwarded_from"))
        self.rows.append(row)
        self.lines.append(index)

    def _chunk(self) -> tuple[pd.DataFrame, str]:
        names = ["chat", "chat_type", "message_id", "date", *self.optional, "text"]
        if self.context.options.keep_authors:
            names += ["from", "from_id", "forwarded_from"]
        data: dict[str, Any] = {}
        for name in names:
            values = [r.get(name) for r in self.rows]
            if name in ("message_id", "views", "forwards"):
                try:
                    data[name] = pd.Series(values, dtype="Int64")
                    continue
                except (TypeError, ValueError):
                    values = [json_cell(v) for v in values]
            data[name] = pd.Series(values, dtype=object)  # not inferred as str: None stays
        frame = self.context.finish(pd.DataFrame(data), self.lines)
        self.rows, self.lines = [], []
        return frame, "text"
