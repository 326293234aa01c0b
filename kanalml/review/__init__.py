"""The moderator's review page: queue items for the page, the decisions file, the static page.

This module owns what the page shows (a queue written by ``kanalml rank``, or
``kanalml suggest`` output, as a list of items) and the read-only one-file HTML
page; the decisions store (SQLite, with the CSV export ``kanalml train
--feedback`` reads) is :mod:`kanalml.review.store`'s. It needs no web framework:
the server, in :mod:`kanalml.review.server`, needs the ``review`` extra. It knows
nothing about scoring or models.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kanalml.errors import DataError
from kanalml.io.columns import ID_COLUMNS
from kanalml.review.store import DECISION_COLUMNS, DecisionStore, DecisionStoreError

DecisionLog = DecisionStore  # the name of earlier releases

__all__ = ["DECISION_COLUMNS", "DecisionLog", "DecisionStore", "DecisionStoreError",
           "frame_items", "guard", "load_items", "static_page", "write_static_page"]

STATIC = Path(__file__).with_name("static")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EVIDENCE_WORD = re.compile(r"\s*(.+?)\s*\(\s*[-+]?[\d.]+(?:e[-+]?\d+)?\s*\)\s*(?:;|$)", re.I)
_CHANNEL_COLUMNS = ("channels", "channel", "chat", "channel_name", "chat_name")
_REACH_COLUMNS = ("views", "forwards", "reach")


def guard(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula: a leading ``'`` when it starts with
    = + - @, a tab or a carriage return."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


# -- queue items ------------------------------------------------------------------------------

def _text(value: Any) -> str:
    """A cell as text: missing (None, NaN) -> ""; a float id read with gaps loses its ``.0``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value.item() if hasattr(value, "item") else value)


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _number(value: Any) -> float | None:
    try:
        number = float(_text(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _flag(value: Any) -> bool | None:
    text = _text(value).strip().lower()
    return {"true": True, "1": True, "1.0": True, "false": False, "0": False,
            "0.0": False}.get(text)


def load_items(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The items of a queue (``kanalml rank``) or of ``kanalml suggest`` output, in review order.

    Each item has ``key`` (how :func:`kanalml.labelled.read_decisions` names the post:
    ``id:MESSAGE_ID`` or ``text:TEXT``), ``message_id`` and ``text`` (what a decision
    records), ``rank``, ``score``, ``category``, ``flagged``, ``evidence`` (words),
    ``copies``, ``channels``, ``first_seen``, ``last_seen``, ``reach``, ``source`` and
    ``message_ids``; a field the file does not have is None. ``category`` is given for flagged
    posts only: the category a harmless post most resembles means nothing.
    """
    from kanalml.io import ExportReader

    reader = ExportReader([path], on_bad_lines="error", keep_authors=False)
    items: list[dict[str, Any]] = []
    for chunk, text_column in reader:
        items.extend(frame_items(chunk, text_column, start=len(items)))
    keys = [item["key"] for item in items]
    if len(set(keys)) != len(keys):  # a queue has one item per post; keep the first of each
        first = {key: at for at, key in reversed(list(enumerate(keys)))}
        items = [item for at, item in enumerate(items) if first[item["key"]] == at]
    if not items:
        raise DataError(f"{path}: no items to review")
    return items


def frame_items(frame: Any, text_column: str, start: int = 0) -> list[dict[str, Any]]:
    """:func:`load_items` for one DataFrame (a queue, or ``suggest`` output)."""
    columns = [str(c) for c in frame.columns]
    rank = _find(columns, ("rank", "suggest_rank"))
    ident = _find(columns, ID_COLUMNS)
    channel = _find(columns, _CHANNEL_COLUMNS)
    reach = _find(columns, _REACH_COLUMNS)
    items: list[dict[str, Any]] = []
    for row in frame.to_dict("records"):
        text = _text(row[text_column])
        message_ids = _text(row.get("message_ids"))
        ids = [i for i in message_ids.split("; ") if i and not i.startswith("+")]
        source = _text(row.get("source"))
        if ids:  # a queue: the source copy's channel/message id names the post
            message_id = source if source in ids else ids[0]
        else:
            message_id = _text(row.get(ident)).strip() if ident else ""
            if not source and message_id and channel:
                source = f"{_text(row.get(channel))}/{message_id}"
            elif not source and "_file" in row:
                source = f"{row['_file']}:{row['_line']}"
        if not (message_id or text.strip()):
            continue
        rank_value = _number(row.get(rank)) if rank else None
        items.append({
            "key": f"id:{message_id}" if message_id else f"text:{text.strip()}",
            "message_id": message_id, "text": text,
            "rank": int(rank_value) if rank_value is not None else start + len(items) + 1,
            "score": _number(row.get("score")),
            # a category only where it means something: on a flagged post
            "category": (_text(row.get("category")) or None
                         if _flag(row.get("flagged")) else None),
            "flagged": _flag(row.get("flagged")),
            "evidence": [m.group(1) for m in _EVIDENCE_WORD.finditer(_text(row.get("evidence")))],
            "copies": _number(row.get("copies")),
            "channels": _text(row.get(channel)) if channel else "",
            "first_seen": _text(row.get("first_seen")) or None,
            "last_seen": _text(row.get("last_seen")) or None,
            "reach": _number(row.get(reach)) if reach else None,
            "source": source,
            "message_ids": message_ids or None,
        })
    return items


# -- the page ---------------------------------------------------------------------------------

def _asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def page_data(items: list[dict[str, Any]] | str, *, name: str, reviewer: str = "",
              decisions: dict[str, dict[str, int]] | None = None) -> str:
    """The page's data as JSON that is safe inside a ``<script type="application/json">``;
    ``items`` may be given already as :func:`safe_json`."""
    listed = items if isinstance(items, str) else safe_json(items)
    return (f'{{"name":{safe_json(name)},"reviewer":{safe_json(reviewer)},'
            f'"items":{listed},"decisions":{safe_json(decisions or {})}}}')


def safe_json(value: Any) -> str:
    """JSON with no character that could end a script element or an HTML comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # no "</script>" or "<!--" can end the data block; U+2028/9 are safe in JSON but not all JS
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _sha256(text: str) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _html_escape(value: str) -> str:
    import html

    return html.escape(value, quote=True)


def static_page(items: list[dict[str, Any]], name: str) -> str:
    """One self-contained, read-only HTML page of the queue: its script and style inline,
    allowed by hash in a Content-Security-Policy that also forbids any network access."""
    script, style = _asset("review.js"), _asset("review.css")
    policy = (f"default-src 'none'; script-src 'sha256-{_sha256(script)}'; "
              f"style-src 'sha256-{_sha256(style)}'; img-src 'none'; connect-src 'none'; "
              "base-uri 'none'; form-action 'none'")
    head = (f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
            f"<style>{style}</style>")
    data = (f'<script type="application/json" id="queue-data">'
            f"{page_data(items, name=name)}</script>\n<script>{script}</script>")
    return _page(head, data, mode="static", title=name)


def served_page(name: str, csrf: str) -> str:
    """The server's page: script and style from /static, the CSRF token in a meta tag."""
    head = (f'<meta name="csrf-token" content="{_html_escape(csrf)}">\n'
            '<link rel="stylesheet" href="/static/review.css">')
    return _page(head, '<script src="/static/review.js"></script>', mode="server", title=name)


def _page(head: str, scripts: str, *, mode: str, title: str) -> str:
    template = _asset("review.html")
    return (template.replace("{{head}}", head).replace("{{scripts}}", scripts)
            .replace("{{mode}}", mode).replace("{{title}}", _html_escape(title)))


def write_static_page(items: list[dict[str, Any]], path: str | os.PathLike[str],
                      name: str) -> None:
    """Write :func:`static_page` to ``path`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    if not path.parent.is_dir():
        raise DataError(f"{path}: directory {str(path.parent)!r} does not exist")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(static_page(items, name), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
