"""The decisions store behind ``kanalml review``: SQLite in WAL mode, with a CSV export.

Owns where decisions are kept and how they reach the disk; knows nothing of HTTP or of what the
page shows. A store is a pair of files with one stem:

- ``NAME.sqlite``: the store itself, an SQLite database (WAL journal, ``synchronous=FULL``)
  marked with kanalml's ``application_id``. Each decision (or undo) is one row, added in one
  transaction: it is on disk when :meth:`DecisionStore.append` returns, or, when anything
  fails (a full disk, an I/O error, a kill), it is not there at all.
- ``NAME.csv``: the export, one row per decision in the order they were made (the columns of
  :data:`DECISION_COLUMNS`, cells spreadsheet-safe), which ``kanalml train --feedback``,
  ``kanalml known add`` and spreadsheets read. It is appended to inside the same transaction
  and cut back to its previous size when the transaction fails; a store notes the export's
  size, so an export left longer or shorter by a crash, or edited by hand, is rewritten from
  the store (atomically) before the next decision and when a server starts.

Several servers (several reviewers) may share one store: SQLite's write lock orders their
decisions, and each server reads the others' decisions from the store whenever its page asks.
A decisions CSV written by an earlier kanalml (no ``.sqlite`` beside it) is imported into a
new store. Nothing is ever written to a file that is not a decisions store or export: such a
file is refused before anything is written, and left as it was.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kanalml.errors import DataError
from kanalml.io.spreadsheet import escape_cell, unescape_cell
from kanalml.io.writers import fsync_path

__all__ = ["DECISION_COLUMNS", "DecisionStore", "DecisionStoreError", "export_text",
           "is_store", "store_paths"]

DECISION_COLUMNS = ("message_id", "text", "decided_at", "label", "reviewer")
STORE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
APPLICATION_ID = 0x6B6E6C64  # "knld": a kanalml decisions store
SCHEMA_VERSION = 1
BUSY_TIMEOUT = 10.0  # seconds a writer waits for another server's transaction
_SCHEMA = f"""
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {SCHEMA_VERSION};
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    text TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    label INTEGER CHECK (label IS NULL OR label IN (0, 1)),
    reviewer TEXT NOT NULL
);
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Characters after which str.splitlines or a spreadsheet would start a new row: a cell holding
# one is quoted (Python's csv writer quotes only for its own line terminator).
_QUOTE = frozenset(',"\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029')
HEADER = ",".join(DECISION_COLUMNS) + "\n"


class DecisionStoreError(DataError):
    """A decision could not be saved, or a file is not a decisions store."""


def _cell(value: str) -> str:
    value = escape_cell(value)
    if any(c in _QUOTE for c in value):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_row(message_id: str, text: str, decided_at: str, label: int | None,
            reviewer: str) -> str:
    """One decision as a line of the export."""
    cells = (message_id, text, decided_at, "" if label is None else str(label), reviewer)
    return ",".join(_cell(c) for c in cells) + "\n"


def store_paths(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(store, CSV export) for ``--decisions PATH``: ``NAME.sqlite`` and ``NAME.csv``, given
    either of them; DecisionStoreError for any other name."""
    given = Path(path)
    suffix = given.suffix.lower()
    if suffix == ".csv":
        return given.with_suffix(".sqlite"), given
    if suffix in STORE_SUFFIXES:
        return given, given.with_suffix(".csv")
    raise DecisionStoreError(
        f"{given}: not a decisions store: give NAME.sqlite (the store; its CSV export is "
        "NAME.csv beside it) or NAME.csv")


def is_store(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is named like a store (``.sqlite``, ``.sqlite3``, ``.db``)."""
    return Path(path).suffix.lower() in STORE_SUFFIXES



def _connect(store: Path) -> sqlite3.Connection:
    """A connection to an existing store, verified before anything is written to it."""
    uri = "file:" + urllib.parse.quote(str(store.resolve())) + "?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None,
                                     check_same_thread=False, timeout=BUSY_TIMEOUT)
    except sqlite3.Error as exc:
        raise DecisionStoreError(f"{store}: cannot open the decisions store ({exc})") from None
    try:
        app = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError:
        connection.close()
        raise DecisionStoreError(f"{store}: not a decisions store (not an SQLite database); "
                                 "give another --decisions file") from None
    if app != APPLICATION_ID:
        connection.close()
        raise DecisionStoreError(f"{store}: not a decisions store (an SQLite database of "
                                 "another application); give another --decisions file")
    if version != SCHEMA_VERSION:
        connection.close()
        raise DecisionStoreError(f"{store}: decisions store version {version} is not supported "
                                 f"(this kanalml reads version {SCHEMA_VERSION})")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    return connection


def read_csv_rows(path: Path) -> list[tuple[str, str, str, int | None, str]]:
    """The decisions of a decisions CSV (``kanalml review``'s export, or a file written by an
    earlier kanalml), each cell as it was before spreadsheet escaping. A last line cut by a
    crash mid-write (no newline at its end) was never shown as saved and is left out. The file
    is only read."""
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DecisionStoreError(f"{path}:{line}: not valid UTF-8") from None
    header = next(csv.reader(io.StringIO(content, newline="")), [])
    if tuple(h.strip() for h in header) != DECISION_COLUMNS:
        raise DecisionStoreError(
            f"{path}:1: not a review decisions file (columns: {', '.join(header)}; expected "
            f"{', '.join(DECISION_COLUMNS)}); give another --decisions file")
    if "\n" in content and not content.endswith("\n"):
        content = content[:content.rfind("\n") + 1]  # the row a crash cut short: never saved
    rows = csv.reader(io.StringIO(content, newline=""))
    next(rows, None)
    records: list[tuple[str, str, str, int | None, str]] = []
    while True:
        try:
            values = next(rows, None)
        except csv.Error as exc:
            raise DecisionStoreError(f"{path}:{rows.line_num}: {exc}") from None
        if values is None:
            break
        line = rows.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(DECISION_COLUMNS):
            raise DecisionStoreError(f"{path}:{line}: {len(values)} fields, the header "
                                     f"has {len(DECISION_COLUMNS)}")
        message_id, text, decided_at, label, reviewer = (unescape_cell(v) for v in values)
        value = {"1": 1, "1.0": 1, "0": 0, "0.0": 0, "": None}.get(label.strip(), -1)
        if value == -1:
            raise DecisionStoreError(f"{path}:{line}: label {label!r} is not 0, 1 or "
                                     "empty (an undo)")
        records.append((message_id, text, decided_at, value, reviewer))
    return records


def _create(store: Path, rows: list[tuple[str, str, str, int | None, str]]) -> None:
    """A new store holding ``rows``, made under a temporary name and linked into place, so it
    appears whole or not at all (another server creating it at the same moment wins)."""
    if not store.parent.is_dir():
        raise DecisionStoreError(f"{store}: directory {str(store.parent)!r} does not exist")
    tmp = store.with_name(f".{store.name}.{secrets.token_hex(4)}.tmp")
    try:
        connection = sqlite3.connect(tmp, isolation_level=None)
        try:
            connection.executescript(_SCHEMA)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("BEGIN")
            connection.executemany("INSERT INTO decisions (message_id, text, decided_at, label,"
                                   " reviewer) VALUES (?, ?, ?, ?, ?)", rows)
            connection.execute("COMMIT")
        finally:
            connection.close()
        with suppress(FileExistsError):
            os.link(tmp, store)
        fsync_path(store.parent)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise DecisionStoreError(f"{store}: cannot create the decisions store ({reason})"
                                 ) from None
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def _key(message_id: str, text: str) -> str:
    return f"id:{message_id.strip()}" if message_id.strip() else f"text:{text.strip()}"


class DecisionStore:
    """The decisions of one store (see the module): :meth:`append` writes one, ``state`` is
    every post's latest decision per reviewer, read again from the store each time it is asked
    for, so decisions made by other servers on the same store are in it.

    ``path`` is ``NAME.sqlite`` or ``NAME.csv`` (:func:`store_paths`). A new store is created
    (importing ``NAME.csv`` when it is a decisions CSV of an earlier kanalml); a file that is
    not a store or a decisions CSV is refused with :class:`DecisionStoreError`, unchanged.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path, self.export = store_paths(path)
        self._lock = threading.Lock()
        self._state: dict[str, dict[str, int]] = {}
        self._seen = 0
        if self.export.is_dir():
            raise DecisionStoreError(f"{self.export}: is a directory")
        if not self.path.exists():
            rows = read_csv_rows(self.export) if self.export.exists() else []
            _create(self.path, rows)
        elif self.export.exists():
            self._check_export_header()
        self._db = _connect(self.path)
        try:
            with self._transaction():
                if not self._export_current():
                    self._rewrite_export()
        except BaseException:
            self._db.close()
            raise
        self._refresh()

    def _check_export_header(self) -> None:
        with open(self.export, "rb") as f:
            first = f.readline(4096).decode("utf-8-sig", "replace")
        if tuple(h.strip() for h in next(csv.reader([first]), [])) != DECISION_COLUMNS:
            raise DecisionStoreError(
                f"{self.export}:1: not a review decisions file, so it is not overwritten with "
                f"the export of {self.path.name}; move it or give another --decisions file")

    # -- transactions -------------------------------------------------------------------------

    def _begin(self) -> None:
        """Start a write transaction: SQLite's write lock, which other servers wait for."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise DecisionStoreError(f"{self.path}: busy or not writable ({exc})") from None

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, committed when the block ends, else rolled back."""
        self._begin()
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise

    def _meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, name: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO "
                         "UPDATE SET value = excluded.value", (name, value))

    def _export_current(self) -> bool:
        """Whether the export is the size this store last left it (else a crash or an editor
        changed it since)."""
        try:
            size = self.export.stat().st_size
        except FileNotFoundError:
            return False
        return self._meta("export_size") == str(size)

    def _rewrite_export(self) -> None:
        """The export written again from the store, atomically; inside a transaction."""
        tmp = self.export.with_name(f".{self.export.name}.{secrets.token_hex(4)}.tmp")
        try:
            with open(tmp, "x", encoding="utf-8", newline="") as f:
                f.write(HEADER)
                for row in self._db.execute("SELECT message_id, text, decided_at, label, "
                                            "reviewer FROM decisions ORDER BY id"):
                    f.write(csv_row(*row))
                f.flush()
                os.fsync(f.fileno())
                size = f.tell()
            os.replace(tmp, self.export)
            fsync_path(self.export.parent)
        finally:
            tmp.unlink(missing_ok=True)
        self._set_meta("export_size", str(size))

    # -- decisions ----------------------------------------------------------------------------

    def append(self, item: dict[str, Any], label: int | None, reviewer: str) -> str:
        """Save one decision (``label`` 0 or 1) or undo (None) on ``item`` (its
        ``message_id`` and ``text``) by ``reviewer``; returns its ``decided_at``.

        All or nothing: when this returns, the decision is in the store and in the export,
        both on disk; when it raises :class:`DecisionStoreError` (a full disk, an I/O error,
        another server holding the store too long), neither holds any trace of it.
        """
        if label not in (0, 1, None) or isinstance(label, bool):
            raise ValueError(f"a decision's label is 0, 1 or None, not {label!r}")
        with self._lock:
            try:
                decided_at = self._append(str(item["message_id"]), str(item["text"]), label,
                                          reviewer)
            except (OSError, sqlite3.Error) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                raise DecisionStoreError(f"{self.path}: decision not saved ({reason})"
                                         ) from None
            self._refresh()
            return decided_at

    def _append(self, message_id: str, text: str, label: int | None, reviewer: str) -> str:
        self._begin()
        fd, size = -1, 0
        try:
            if not self._export_current():
                self._rewrite_export()
            size = int(self._meta("export_size") or 0)
            decided_at = datetime.now(UTC).isoformat(timespec="milliseconds")
            self._db.execute("INSERT INTO decisions (message_id, text, decided_at, label, "
                             "reviewer) VALUES (?, ?, ?, ?, ?)",
                             (message_id, text, decided_at, label, reviewer))
            data = csv_row(message_id, text, decided_at, label, reviewer).encode("utf-8")
            fd = os.open(self.export, os.O_WRONLY | os.O_APPEND)
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            os.fsync(fd)
            self._set_meta("export_size", str(size + len(data)))
            self._db.execute("COMMIT")
        except BaseException:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            if fd >= 0:
                # Cut the export back to the decisions the store holds; if even that fails,
                # its size no longer matches the store's note and it is rewritten before the
                # next decision (and when a server starts).
                with suppress(OSError):
                    os.ftruncate(fd, size)
                    os.fsync(fd)
            raise
        finally:
            if fd >= 0:
                os.close(fd)
        return decided_at

    def _refresh(self) -> None:
        """Apply the rows added to the store since last read (by this server or another)."""
        rows = self._db.execute("SELECT id, message_id, text, label, reviewer FROM decisions "
                                "WHERE id > ? ORDER BY id", (self._seen,)).fetchall()
        for row_id, message_id, text, label, reviewer in rows:
            key = _key(message_id, text)
            if label is None:
                self._state.get(key, {}).pop(reviewer, None)
            else:
                self._state.setdefault(key, {})[reviewer] = int(label)
            self._seen = row_id

    @property
    def state(self) -> dict[str, dict[str, int]]:
        """Each post's key -> {reviewer: label}: the latest decision per post and reviewer (an
        undo removes the reviewer's entry), every server's decisions included."""
        with self._lock:
            self._refresh()
            return self._state

    def count(self) -> int:
        """Rows in the store: decisions and undos."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM decisions").fetchone()[0])

    def disagreements(self) -> dict[str, dict[str, int]]:
        """Posts that reviewers decided differently: key -> {reviewer: label}."""
        return {key: dict(by) for key, by in self.state.items() if len(set(by.values())) > 1}

    def close(self) -> None:
        with self._lock:
            self._db.close()


def export_text(path: str | os.PathLike[str]) -> str:
    """The CSV export of the store at ``path`` (``.sqlite``), made from the store itself: what
    ``train --feedback`` and ``known add`` read when given the store. The store is only read."""
    store = Path(path)
    if not store.is_file():
        raise DecisionStoreError(f"{store}: no such decisions store")
    connection = _connect(store)
    try:
        rows = connection.execute("SELECT message_id, text, decided_at, label, reviewer FROM "
                                  "decisions ORDER BY id").fetchall()
    finally:
        connection.close()
    return HEADER + "".join(csv_row(*row) for row in rows)
