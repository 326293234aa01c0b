"""Label Studio both ways: queue items out as tasks with kanalml's pre-annotations, a Label
Studio JSON export back in as moderator decisions.

Out (:func:`tasks`, :func:`write_tasks`; ``kanalml rank --format label-studio``): one task per
queue item, in review order. ``data`` holds the text and where it came from (``message_id``: the
earliest copy's ``channel/message_id``, as the review page records it; ``source``, ``channels``,
``copies``, ``rank``); ``predictions`` holds one prediction of the model: its ``score``, the
``ekstremisme`` choice (``ekstremis`` if flagged, else ``bukan``), the ``category`` choice (flagged
items only) and each evidence word as a labelled span of the text. Spans use Label Studio's
offsets, which count UTF-16 code units as JavaScript does (an emoji before a word counts 2).
:data:`LABEL_CONFIG` is the labelling interface these tasks are made for; ``write_tasks`` writes
it beside the tasks (``NAME.label-config.xml``) to paste into the project's settings.

In (:func:`read_export`): the JSON export of such a project (Label Studio's "JSON" format: a list
of tasks, each with its ``annotations``). Each annotation that chose ``ekstremis`` or ``bukan``
and was not cancelled (skipped) is a decision: ``message_id`` and ``text`` from the task's data,
``decided_at`` the annotation's last update, ``label`` 1 or 0, ``category`` the chosen one, if
any. :func:`kanalml.labelled.read_decisions` (``train --feedback``) and
:func:`kanalml.labelled.read_confirmed` (``known add``) read an export through it. A file that is
not such an export is a :class:`~kanalml.errors.DataError` naming the file, and the line and
column where its JSON breaks, or the task that is wrong.

Knows nothing about models or the command line; needs no Label Studio package.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kanalml.errors import DataError
from kanalml.lexicon import CATEGORIES

__all__ = ["CHOICES", "LABEL_CONFIG", "config_path", "is_export", "read_export", "tasks",
           "write_tasks"]

# The primary label's choices, in Indonesian as moderators read them: 1 and 0.
CHOICES = {"ekstremis": 1, "bukan": 0}
LABEL_CONFIG = (
    '<View>\n'
    '  <Header value="$source"/>\n'
    '  <Text name="text" value="$text"/>\n'
    '  <Choices name="ekstremisme" toName="text" choice="single" showInline="true">\n'
    + "".join(f'    <Choice value="{c}"/>\n' for c in CHOICES)
    + '  </Choices>\n'
    '  <Choices name="category" toName="text" choice="single" showInline="true">\n'
    + "".join(f'    <Choice value="{c}"/>\n' for c in CATEGORIES)
    + '  </Choices>\n'
    '  <Labels name="evidence" toName="text">\n'
    '    <Label value="evidence"/>\n'
    '  </Labels>\n'
    '</View>\n')
_EVIDENCE = re.compile(r"\s*(.+?)\s*\(\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*\)\s*(?:;|$)", re.I)


def _cell(value: Any) -> Any:
    """A queue cell as JSON: missing -> None, numpy scalars as Python values."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") and not isinstance(value, str) else value


def _utf16(text: str, index: int) -> int:
    """The JavaScript (UTF-16) offset of Python index ``index`` in ``text``."""
    return len(text[:index].encode("utf-16-le")) // 2


def evidence_spans(text: str, evidence: str) -> list[dict[str, Any]]:
    """Each evidence word (``word (weight); ...``) where it stands in ``text`` (every whole-word
    occurrence, case-insensitive), as Label Studio span results."""
    spans = []
    for match in _EVIDENCE.finditer(evidence or ""):
        word, weight = match.group(1), float(match.group(2))
        pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
        for found in pattern.finditer(text):
            spans.append({"from_name": "evidence", "to_name": "text", "type": "labels",
                          "score": round(weight, 4),
                          "value": {"start": _utf16(text, found.start()),
                                    "end": _utf16(text, found.end()),
                                    "text": found.group(), "labels": ["evidence"]}})
    return spans


def tasks(queue: pd.DataFrame, *, model_version: str, text_column: str = "text"
          ) -> list[dict[str, Any]]:
    """Label Studio tasks of a queue (``kanalml rank``'s columns), with kanalml's
    pre-annotations as each task's prediction."""
    out = []
    for row in queue.to_dict("records"):
        text = "" if _cell(row.get(text_column)) is None else str(row[text_column])
        flagged = bool(_cell(row.get("flagged")))
        ids = [i for i in str(_cell(row.get("message_ids")) or "").split("; ")
               if i and not i.startswith("+")]
        source = str(_cell(row.get("source")) or "")
        data = {"text": text,
                "message_id": source if source in ids else (ids[0] if ids else ""),
                "source": source, "channels": _cell(row.get("channels")),
                "copies": _cell(row.get("copies")), "rank": _cell(row.get("rank")),
                "score": _cell(row.get("score"))}
        result: list[dict[str, Any]] = [
            {"from_name": "ekstremisme", "to_name": "text", "type": "choices",
             "value": {"choices": ["ekstremis" if flagged else "bukan"]}}]
        category = _cell(row.get("category"))
        if flagged and category in CATEGORIES:
            result.append({"from_name": "category", "to_name": "text", "type": "choices",
                           "value": {"choices": [category]}})
        result += evidence_spans(text, str(_cell(row.get("evidence")) or ""))
        score = _cell(row.get("score"))
        out.append({"data": data, "predictions": [
            {"model_version": model_version, "score": score, "result": result}]})
    return out


def config_path(output: str | os.PathLike[str]) -> Path:
    """Where :func:`write_tasks` puts the labelling config: ``tasks.json`` ->
    ``tasks.label-config.xml``."""
    path = Path(output)
    return path.with_name(f"{path.name.split('.')[0] or path.name}.label-config.xml")


def write_tasks(queue: pd.DataFrame, output: str | os.PathLike[str], *,
                model_version: str) -> None:
    """Write the queue's tasks as one JSON list to ``output`` and :data:`LABEL_CONFIG` beside it
    (:func:`config_path`), each atomically (a temporary file, then a rename)."""
    _write(Path(output), json.dumps(tasks(queue, model_version=model_version),
                                    ensure_ascii=False, indent=1) + "\n")
    _write(config_path(output), LABEL_CONFIG)


def _write(path: Path, text: str) -> None:
    if not path.parent.is_dir():
        raise DataError(f"{path}: directory {str(path.parent)!r} does not exist")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# -- reading an export ----------------------------------------------------------------------

def is_export(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` looks like a Label Studio JSON export: a ``.json`` file holding a list
    whose first item has ``annotations`` or ``data`` (read no further than needed)."""
    path = Path(path)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16).lstrip()
    except OSError:
        return False
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    if not head.startswith(b"["):
        return False
    return bool(re.match(rb'\[\s*\{.*?"(annotations|data|predictions)"\s*:', head, re.S))


def _load(path: Path) -> list[Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg})") from None
    if not isinstance(document, list):
        raise DataError(f"{path}: not a Label Studio JSON export (expected a list of tasks; "
                        "export the project as JSON)")
    return document


def _choice(result: Any, name: str) -> str | None:
    """The choice an annotation's result made in the control ``name``, if any."""
    for item in result if isinstance(result, list) else []:
        if isinstance(item, dict) and item.get("from_name") == name:
            choices = (item.get("value") or {}).get("choices") or []
            if choices:
                return str(choices[0])
    return None


def read_export(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The decisions in a Label Studio JSON export, one row per annotation: ``message_id``,
    ``text``, ``decided_at`` (ISO 8601, UTC), ``label`` (1/0), ``category`` ("" if none),
    ``reviewer``, ``task`` (the task's position, 1-based, and its id).

    Annotations that were cancelled (skipped) or chose neither ``ekstremis`` nor ``bukan`` are
    left out. A task without ``data.text`` and ``data.message_id``, or an annotation without a
    date, is a :class:`~kanalml.errors.DataError` naming the task."""
    path = Path(path)
    rows = []
    for number, task in enumerate(_load(path), start=1):
        where = f"{path}: task {number}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise DataError(f"{where}: not a Label Studio task (no 'data'); export the project "
                            "as JSON")
        if task.get("id") is not None:
            where += f" (id {task['id']})"
        data = task["data"]
        text = "" if data.get("text") is None else str(data.get("text"))
        message_id = "" if data.get("message_id") is None else str(data.get("message_id"))
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            raise DataError(f"{where}: 'annotations' is not a list")
        for annotation in annotations:
            if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
                continue
            choice = _choice(annotation.get("result"), "ekstremisme")
            if choice not in CHOICES:
                continue
            if not text.strip() and not message_id.strip():
                raise DataError(f"{where}: a decision needs data.text or data.message_id")
            when = annotation.get("updated_at") or annotation.get("created_at")
            stamp = pd.to_datetime(when, utc=True, errors="coerce") if when else pd.NaT
            if pd.isna(stamp):
                raise DataError(f"{where}: annotation {annotation.get('id')}: "
                                f"{when!r} is not a date and time")
            reviewer = annotation.get("completed_by")
            if isinstance(reviewer, dict):
                reviewer = reviewer.get("email") or reviewer.get("id")
            rows.append({"message_id": message_id, "text": text,
                         "decided_at": stamp.isoformat(), "label": CHOICES[choice],
                         "category": _choice(annotation.get("result"), "category") or "",
                         "reviewer": "" if reviewer is None else str(reviewer),
                         "task": where.split(": ", 1)[1]})
    return pd.DataFrame(rows, columns=["message_id", "text", "decided_at", "label", "category",
                                       "reviewer", "task"])


def decision_rows(path: str | os.PathLike[str]) -> tuple[list[str], list[Sequence[str]]]:
    """An export's decisions as the header and rows of a review decisions file
    (``message_id, text, decided_at, label, reviewer``, plus ``category``), for
    :func:`kanalml.labelled.read_decisions`."""
    frame = read_export(path)
    header = ["message_id", "text", "decided_at", "label", "reviewer", "category"]
    return header, [[str(v) for v in row] for row in frame[header].itertuples(index=False)]
