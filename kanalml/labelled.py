"""Labelled data for training and evaluation, and moderator decisions merged into it.

Training files are read with :class:`kanalml.io.ExportReader` (same formats,
encodings and error rules as scoring; a malformed row stops the read, since a
silently smaller training set is worse than none). Label cells must be 0 or 1;
anything else is a :class:`~kanalml.io.DataError` naming the file, line and column.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from kanalml.io import TEXT_COLUMNS, DataError, ExportReader, unescape_cell
from kanalml.io.columns import ID_COLUMNS as ID_COLUMNS
from kanalml.preprocess import as_text

_TRUE = frozenset({"1", "1.0", "true", "yes", "y", "ya"})
_FALSE = frozenset({"0", "0.0", "false", "no", "n", "tidak"})
_PROVENANCE = ("_file", "_line")
DECIDED_COLUMNS = ("decided_at", "decided", "decision_time", "timestamp")
_FORMULA_START = frozenset("=+-@\t\r")


def _label_value(value: Any) -> int | None:
    """0 or 1 for a label cell, None if it is not a label."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    text = str(value).strip().lower() if value is not None else ""
    return 1 if text in _TRUE else 0 if text in _FALSE else None


def unguard(cell: str) -> str:
    """A CSV cell as written before :func:`kanalml.review.guard` protected it from being read
    as a spreadsheet formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _FORMULA_START else cell


def _is_label_column(values: pd.Series) -> bool:
    parsed = {_label_value(v) for v in values.tolist()}
    return parsed == {0, 1}


class Labelled(NamedTuple):
    """Labelled posts: the rows, the name of their text column, the label columns."""

    frame: pd.DataFrame
    text_column: str
    labels: list[str]


class Merged(NamedTuple):
    """Training rows with decisions applied, and counts: ``decisions``, ``updated`` (rows
    relabelled), ``added`` (posts added), ``undecided`` (decision rows without a label)."""

    frame: pd.DataFrame
    counts: dict[str, int]


class Confirmed(NamedTuple):
    """Confirmed posts (``text``, ``category``, ``source``) and what the file was:
    ``"decisions"``, ``"labelled"``, ``"queue"`` or ``"texts"``."""

    frame: pd.DataFrame
    kind: str


def label_mapping(spec: str | Sequence[str]) -> dict[str, str]:
    """``--labels`` as {label name: data column}: ``"a,b"`` reads labels ``a`` and ``b`` from
    columns so named, ``"ekstremisme=label"`` reads label ``ekstremisme`` from column ``label``
    (several labels may read one column). ValueError, saying what is wrong, otherwise."""
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    mapping: dict[str, str] = {}
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name, equals, column = (s.strip() for s in part.partition("="))
        column = column if equals else name
        if not name or not column:
            raise ValueError(f"{part!r}: expected LABEL or LABEL=COLUMN")
        if name in mapping and mapping[name] != column:
            raise ValueError(f"label {name!r} is given two columns ({mapping[name]!r}, "
                             f"{column!r})")
        mapping[name] = column
    if not mapping:
        raise ValueError("expected comma-separated label names (LABEL or LABEL=COLUMN)")
    return mapping


def row_filter(spec: str) -> tuple[str, list[str]]:
    """``--where COLUMN=VALUE[,VALUE...]`` as (column, values); ValueError otherwise."""
    column, equals, values = spec.partition("=")
    kept = [v.strip() for v in values.split(",") if v.strip()]
    if not equals or not column.strip() or not kept:
        raise ValueError(f"{spec!r}: expected COLUMN=VALUE or COLUMN=VALUE1,VALUE2")
    return column.strip(), kept


def _cell_key(value: Any) -> str:
    """A cell or value as ``--where`` compares it: ``4`` for 4, 4.0, "4.0" and " 4 "; ""
    for a missing cell; other text as it is, stripped."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = as_text(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def select_rows(frame: pd.DataFrame, where: Sequence[tuple[str, Sequence[str]]],
                source: str) -> pd.DataFrame:
    """The rows of ``frame`` where every (column, values) pair holds: the cell, as text, is one
    of the values. DataError naming ``source`` for a missing column or when no row is left."""
    for column, values in where:
        if column not in frame.columns:
            shown = ", ".join(c for c in frame.columns if c not in _PROVENANCE)
            raise DataError(f"{source}: no column {column!r} for --where (columns: {shown})")
        keys = frame[column].map(_cell_key)
        kept = keys.isin({_cell_key(v) for v in values})
        if not kept.any():
            seen = sorted(set(keys.tolist()) - {""},
                          key=lambda v: (0, int(v), v) if v.isdigit() else (1, 0, v))
            listed = ", ".join(seen[:10]) + (", ..." if len(seen) > 10 else "")
            raise DataError(f"{source}: no row has {column} = {', '.join(values)} "
                            f"(values of {column}: {listed or 'none'})")
        frame = frame[kept]
    return frame.reset_index(drop=True)


def read_labelled(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *,
                  text_column: str | None = None,
                  labels: Sequence[str] | Mapping[str, str] | None = None,
                  where: Sequence[tuple[str, Sequence[str]]] = (),
                  sheet: str | None = None) -> Labelled:
    """Read labelled posts: (frame, text column, label names) as a :class:`Labelled`.

    ``labels`` names the 0/1 label columns, or maps label names to the columns holding them
    (``{"ekstremisme": "label"}``: see :func:`label_mapping`); by default every column whose
    values are all 0/1 with both present. ``where`` keeps only the rows whose cells hold one of
    the given values (:func:`select_rows`), before labels are checked. The frame keeps every
    column (authors excepted, as everywhere) with labels as int8 under their label names, and
    ``_file``/``_line``. ``sheet``: in Excel inputs, read only this sheet.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    reader = ExportReader(paths, text_column=text_column, on_bad_lines="error", sheet=sheet)
    chunks, columns = [], []
    for chunk, name in reader:
        chunks.append(chunk)
        columns.append(name)
    source = ", ".join(map(str, reader.paths))
    if not chunks:
        raise DataError(f"{source}: no rows to read")
    if len(set(columns)) > 1:
        raise DataError("the files name their text column differently "
                        f"({', '.join(sorted(set(columns)))}); give one with --text-column")
    frame, column = pd.concat(chunks, ignore_index=True), columns[0]
    frame = select_rows(frame, where, source)
    candidates = [c for c in frame.columns if c not in (column, *_PROVENANCE)]
    if labels is None:
        found = [c for c in candidates if _is_label_column(frame[c])]
        if not found:
            raise DataError(f"{reader.paths[0]}: no 0/1 label columns found (columns: "
                            f"{', '.join(candidates)}); name them with --labels")
        labels = found
    mapping = dict(labels) if isinstance(labels, Mapping) else {n: n for n in labels}
    missing = [c for c in dict.fromkeys(mapping.values()) if c not in frame.columns]
    if missing:
        raise DataError(f"{reader.paths[0]}: no label column(s) {', '.join(map(repr, missing))} "
                        f"(columns: {', '.join(candidates)})")
    taken = [n for n, c in mapping.items() if n != c and n in frame.columns]
    if taken:
        raise DataError(f"{reader.paths[0]}: --labels {taken[0]}={mapping[taken[0]]}: the data "
                        f"already has a column {taken[0]!r}; map it to another name")
    parsed_columns: dict[str, pd.Series] = {}
    for data_column in dict.fromkeys(mapping.values()):
        parsed = frame[data_column].map(_label_value)
        bad = parsed.isna()
        if bad.any():
            row = frame[bad].iloc[0]
            raise DataError(f"{row['_file']}:{row['_line']}: column {data_column!r}: "
                            f"{row[data_column]!r} is not a 0/1 label")
        parsed_columns[data_column] = parsed.astype("int8")
    for name, data_column in mapping.items():
        frame[name] = parsed_columns[data_column]
    frame[column] = _capped([as_text(t) for t in frame[column].tolist()], frame)
    return Labelled(frame, column, list(mapping))


def _capped(texts: list[str], frame: pd.DataFrame) -> list[str]:
    """The texts cut to what scoring reads (:data:`kanalml.scoring.MAX_TEXT_CHARS`), so a model
    trains and is evaluated on the posts as it will score them (and a 10 MB post costs no
    more than that); a warning names the first one cut."""
    import warnings

    from kanalml.scoring import MAX_TEXT_CHARS, clip_text

    long = [i for i, text in enumerate(texts) if len(text) > MAX_TEXT_CHARS]
    if long:
        row = frame.iloc[long[0]]
        warnings.warn(f"{row['_file']}:{row['_line']}: {len(long)} text(s) longer than "
                      f"{MAX_TEXT_CHARS:,} characters (this is the first) were cut to their "
                      f"first {MAX_TEXT_CHARS:,}, as scoring reads them", stacklevel=3)
        for i in long:
            texts[i] = clip_text(texts[i])
    return texts


def read_decisions(path: str | os.PathLike[str], labels: Sequence[str]) -> pd.DataFrame:
    """Moderator decisions as a frame: ``key`` ("id:..." or "text:..."), ``message_id``,
    ``text``, ``decided_at`` (UTC), one column per decided label (0/1, or missing), ``_line``.

    A CSV with a message id column and/or a text column, a decided-at column, and
    either ``label`` (the primary label, ``labels[0]``) or columns named after
    labels. An empty label cell means "not decided"; a row with no label decided
    and no date (a suggestion not labelled yet) is skipped and counted in
    ``attrs["undecided"]``; one with a date withdraws the earlier decisions on
    that post (an undo on the review page), counted in ``attrs["withdrawn"]``.
    Only the latest decision per post is kept. A cell guarded against
    spreadsheet formulas (``'`` before ``= + - @``, tab or CR) is read unguarded, once.
    ``path`` may also be a decisions store (``.sqlite``, see :mod:`kanalml.review.store`):
    its decisions are read as its CSV export holds them; or a Label Studio JSON export
    (:mod:`kanalml.labelstudio`): its annotations, the ``ekstremisme`` choice as ``label``.
    """
    path = Path(path)
    content = _decisions_text(path)
    rows = csv.reader(io.StringIO(content, newline=""))
    header = [unescape_cell(h).strip() for h in next(rows, [])]
    lowered = {h.lower(): i for i, h in enumerate(header)}

    def find(names: Sequence[str]) -> int | None:
        return next((lowered[n] for n in names if n in lowered), None)

    id_at, text_at, time_at = find(ID_COLUMNS), find(TEXT_COLUMNS), find(DECIDED_COLUMNS)
    label_at = {name: lowered[name.lower()] for name in labels if name.lower() in lowered}
    if "label" in lowered and labels[0] not in label_at:
        label_at[labels[0]] = lowered["label"]
    problems = []
    if id_at is None and text_at is None:
        problems.append(f"a message id ({', '.join(ID_COLUMNS)}) or text column")
    if time_at is None:
        problems.append(f"a decided-at column ({', '.join(DECIDED_COLUMNS)})")
    if not label_at:
        problems.append(f"a 'label' column or one named after a label ({', '.join(labels)})")
    if problems or time_at is None:
        raise DataError(f"{path}: decisions need {'; '.join(problems)} "
                        f"(columns: {', '.join(header) or 'none'})")

    records, undecided = [], 0
    for values in rows:
        line = rows.line_num
        # kanalml wrote the file (suggest's output): undo its spreadsheet escaping of cells
        values = [unescape_cell(v) for v in values]
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise DataError(f"{path}:{line}: {len(values)} fields, the header has {len(header)}")
        decided_labels = {}
        for name, at in label_at.items():
            cell = values[at].strip()
            if cell:
                value = _label_value(cell)
                if value is None:
                    raise DataError(f"{path}:{line}: column {header[at]!r}: {cell!r} is not a "
                                    "0/1 label")
                decided_labels[name] = value
        if not decided_labels and not values[time_at].strip():  # a suggestion not labelled yet
            undecided += 1
            continue
        message_id = values[id_at].strip() if id_at is not None else ""
        text = values[text_at] if text_at is not None else ""
        if not message_id and not text.strip():
            raise DataError(f"{path}:{line}: a decision needs a message id or a text")
        cell = values[time_at].strip()
        when = pd.to_datetime(cell, utc=True, errors="coerce", format="ISO8601") if cell \
            else pd.NaT
        if pd.isna(when):
            raise DataError(f"{path}:{line}: column {header[time_at]!r}: "
                            f"{values[time_at]!r} is not a date and time (ISO 8601)")
        records.append({
            "key": f"id:{message_id}" if message_id else f"text:{text.strip()}",
            "message_id": message_id or None, "text": text if text.strip() else None,
            "decided_at": when, "_file": str(path), "_line": line, **decided_labels})
    if not records:
        raise DataError(f"{path}: no decisions")
    decisions = pd.DataFrame(records)
    decisions = decisions.sort_values(["decided_at", "_line"], kind="stable")
    decisions = decisions.drop_duplicates("key", keep="last")
    decided = [name for name in label_at if name in decisions.columns]
    withdrawn = decisions[decided].isna().all(axis=1) if decided else decisions["key"].notna()
    decisions = decisions[~withdrawn].reset_index(drop=True)
    if decisions.empty:
        raise DataError(f"{path}: no decisions (every one was withdrawn)")
    decisions.attrs["undecided"] = undecided
    decisions.attrs["withdrawn"] = int(withdrawn.sum())
    return decisions


def _decisions_text(path: Path) -> str:
    """A decisions CSV's text, or the CSV export of a decisions store or of a Label Studio
    export's annotations (cells spreadsheet-escaped, as read_decisions unescapes them)."""
    from kanalml import labelstudio
    from kanalml.review.store import export_text, is_store

    if is_store(path):
        return export_text(path)
    if labelstudio.is_export(path):
        from kanalml.io import write_csv

        header, rows = labelstudio.decision_rows(path)
        buffer = io.StringIO()
        write_csv(pd.DataFrame(rows, columns=header, dtype=object), buffer)
        return buffer.getvalue()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8") from None


def merge_decisions(frame: pd.DataFrame, text_column: str, labels: Sequence[str],
                    decisions: pd.DataFrame, id_column: str | None = None) -> Merged:
    """Training rows with moderator decisions applied: (frame, counts) as a :class:`Merged`.

    A decision matches training rows by message id (when both have one) or by
    exact text. Matched rows take the decided labels; undecided labels keep
    their values. Unmatched decisions become new rows whose undecided labels are
    unknown (NaN): training leaves such a row out of those labels only.
    A decision that matches nothing and has no text cannot be used: DataError.
    """
    frame = frame.copy()
    by_text: dict[str, list[int]] = {}
    for i, text in enumerate(frame[text_column].tolist()):
        by_text.setdefault(as_text(text).strip(), []).append(i)
    by_id: dict[str, list[int]] = {}
    if id_column is not None:
        for i, value in enumerate(frame[id_column].tolist()):
            by_id.setdefault(as_text(value).strip(), []).append(i)
    decided = [name for name in labels if name in decisions.columns]
    updated, added = 0, []
    for record in decisions.to_dict("records"):
        rows: list[int] = []
        if record["message_id"] is not None and id_column is not None:
            rows = by_id.get(record["message_id"], [])
        if not rows and record["text"] is not None:
            rows = by_text.get(record["text"].strip(), [])
        values = {name: int(record[name]) for name in decided if not pd.isna(record[name])}
        if rows:
            for name, value in values.items():
                frame.loc[rows, name] = value
            updated += len(rows)
        elif record["text"] is None:
            raise DataError(f"{record['_file']}:{record['_line']}: message id "
                            f"{record['message_id']!r} is not in the training data and the "
                            "decision has no text to add")
        else:
            new = dict.fromkeys(labels, None) | values | {text_column: record["text"]}
            if id_column is not None:
                new[id_column] = record["message_id"]
            added.append(new)
    if added:
        frame = pd.concat([frame, pd.DataFrame(added)], ignore_index=True)
        frame[list(labels)] = frame[list(labels)].astype("float64")  # NaN: not decided
    return Merged(frame, {"decisions": len(decisions), "updated": updated, "added": len(added),
                          "undecided": int(decisions.attrs.get("undecided", 0))})


def read_confirmed(path: str | os.PathLike[str], *, text_column: str | None = None,
                   all_confirmed: bool = False, sheet: str | None = None) -> Confirmed:
    """Posts confirmed as extremist, to add to a known-content list: (frame of ``text``,
    ``category``, ``source``; what the file was) as a :class:`Confirmed`.

    Only rows a person confirmed are taken: from a decisions file (``kanalml review``'s store
    or its CSV export: a decided-at and a ``label`` column), the posts whose latest decision is
    1 (kind ``"decisions"``); a decision without a text is a :class:`~kanalml.io.DataError`.
    From any other file with a ``label`` column, its rows labelled 1 (``"labelled"``). A queue
    from ``kanalml rank`` (``"queue"``) or a file of texts (``"texts"``) says nothing about
    what a person decided: it is refused unless ``all_confirmed`` says a person confirmed
    every row. ``category`` comes from a ``category`` column where there is one; ``source``
    is the row's ``source`` cell (a queue's channel/message id) or file:line. A Label Studio
    JSON export (:mod:`kanalml.labelstudio`) gives its posts whose latest annotation chose
    ``ekstremis``, with the category the annotator chose (``"Label Studio export"``).
    ``sheet``: in an Excel workbook, read only this sheet.
    """
    from kanalml import labelstudio
    from kanalml.review.store import is_store

    path = Path(path)
    if labelstudio.is_export(path):
        return _confirmed_in_export(path)
    decisions_file = is_store(path)
    if not decisions_file and path.suffix.lower() in (".csv", ".txt") and path.is_file():
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
            header = {h.strip().lower() for h in next(csv.reader(f), [])}
        decisions_file = bool(header & set(DECIDED_COLUMNS)) and "label" in header
    if decisions_file:
        decisions = read_decisions(path, ["label"])
        decisions = decisions[decisions["label"] == 1]
        missing = decisions[decisions["text"].isna()]
        if len(missing):
            row = missing.iloc[0]
            raise DataError(f"{path}:{row['_line']}: decision for message id "
                            f"{row['message_id']!r} has no text to add")
        frame = pd.DataFrame({
            "text": decisions["text"].tolist(),
            "category": [""] * len(decisions),
            "source": [f"{path}:{line}" for line in decisions["_line"].tolist()]})
        return Confirmed(frame, "decisions")
    frame, column, _ = _read_rows(path, text_column, sheet)
    if "label" in frame.columns:
        parsed = frame["label"].map(_label_value)
        bad = parsed.isna()
        if bad.any():
            row = frame[bad].iloc[0]
            raise DataError(f"{row['_file']}:{row['_line']}: column 'label': {row['label']!r} "
                            "is not a 0/1 label")
        frame = frame[parsed == 1]
        kind = "labelled"
    else:
        kind = "queue" if {"rank", "copies"} <= set(frame.columns) else "texts"
        if not all_confirmed:
            what = ("a queue (kanalml rank output) says what the model scored, not what a "
                    "person decided" if kind == "queue" else "a file without a label column "
                    "does not say which posts a person confirmed")
            raise DataError(f"{path}: {what}: add the decisions kanalml review saved "
                            "(QUEUE.decisions.sqlite or .csv) or a file with a 0/1 label column, "
                            "or pass --all-confirmed if a person confirmed every row as "
                            "extremist")
    sources = (frame["source"].fillna("").astype(str).tolist() if "source" in frame.columns
               else [""] * len(frame))
    lines = [f"{f}:{line}" for f, line in zip(frame["_file"].tolist(), frame["_line"].tolist())]
    out = pd.DataFrame({
        "text": [unescape_cell(as_text(t)) for t in frame[column].tolist()],
        "category": (frame["category"].fillna("").astype(str).tolist()
                     if "category" in frame.columns else [""] * len(frame)),
        "source": [s or line for s, line in zip(sources, lines)]})
    return Confirmed(out, kind)


def _read_rows(path: Path, text_column: str | None,
               sheet: str | None = None) -> tuple[pd.DataFrame, str, None]:
    reader = ExportReader([path], text_column=text_column, on_bad_lines="error", sheet=sheet)
    chunks, columns = [], []
    for chunk, name in reader:
        chunks.append(chunk)
        columns.append(name)
    if not chunks:
        raise DataError(f"{path}: no rows to read")
    return pd.concat(chunks, ignore_index=True), columns[0], None


def _confirmed_in_export(path: Path) -> Confirmed:
    """:func:`read_confirmed` of a Label Studio export: the posts whose latest annotation chose
    ``ekstremis``, with the category chosen."""
    from kanalml import labelstudio

    decided = labelstudio.read_export(path)
    decided["key"] = [f"id:{m}" if m.strip() else f"text:{t.strip()}"
                      for m, t in zip(decided["message_id"], decided["text"])]
    decided["order"] = range(len(decided))
    decided["when"] = pd.to_datetime(decided["decided_at"], utc=True)
    latest = decided.sort_values(["when", "order"], kind="stable").drop_duplicates(
        "key", keep="last")
    latest = latest[latest["label"] == 1].sort_values("order")
    missing = latest[~latest["text"].str.strip().astype(bool)]
    if len(missing):
        row = missing.iloc[0]
        raise DataError(f"{path}: {row['task']}: decision for message id "
                        f"{row['message_id']!r} has no text to add")
    frame = pd.DataFrame({
        "text": latest["text"].tolist(), "category": latest["category"].tolist(),
        "source": [m or f"{path}: {t}" for m, t in zip(latest["message_id"],
                                                        latest["task"])]})
    return Confirmed(frame, "Label Studio export")
