"""Writers: atomic output files, CSV, rejected records.

Owns :class:`AtomicWriter` (a file that appears only when writing succeeded, in the format its
name says), :func:`write_csv` and :func:`write_rejects`. Text is UTF-8 without BOM; written
CSV/TSV is spreadsheet-safe (:mod:`kanalml.io.spreadsheet`), JSON Lines and Parquet hold the values
as they are. Rejected records are written with phone numbers and emails masked. Knows nothing
about models; of the readers, only the :class:`~kanalml.io.context.Rejected` records it writes.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
import os
import secrets
import shutil
from pathlib import Path
from typing import IO, Any

import pandas as pd

from kanalml.errors import DataError
from kanalml.io.columns import list_columns
from kanalml.io.context import Rejected
from kanalml.io.detect import inner_suffix
from kanalml.io.spreadsheet import escape_frame
from kanalml.io.text import one_line


def write_csv(frame: pd.DataFrame, stream: IO[str], *, header: bool = True,
              sep: str = ",") -> None:
    """Write ``frame`` as spreadsheet-safe CSV (no index) to a text stream.

    Lines end in ``\\n``, except in a frame with a carriage return inside a cell: Python's csv
    writer quotes a field only for the characters of its line terminator, so that frame's lines
    end in ``\\r\\n`` and the cell is quoted (a bare ``\\r`` would split the record on reading).
    """
    safe, carriage_return = escape_frame(frame)
    safe.to_csv(stream, header=header, index=False, sep=sep,
                lineterminator="\r\n" if carriage_return else "\n")


_OUTPUT_KINDS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                 ".parquet": "parquet", ".xlsx": "xlsx"}
_BINARY_KINDS = ("parquet", "xlsx")


class AtomicWriter:
    """Writes DataFrame chunks to ``path`` in the format its extension names.

    Formats: .csv, .tsv, .jsonl (or .ndjson), .parquet, .xlsx (one worksheet:
    :mod:`kanalml.io.xlsx`); the text formats may end in .gz. Data goes to a temporary file in
    the same directory, renamed over ``path`` only when the ``with`` block exits normally; on
    any exception (KeyboardInterrupt included) the temporary file is removed and ``path`` is
    untouched. Later chunks are reindexed to the first chunk's columns; a column the first
    chunk did not have raises :class:`DataError`. Text is UTF-8 without BOM; CSV/TSV and XLSX
    cells are made spreadsheet-safe (:func:`spreadsheet_safe`). In Parquet, bool and numeric
    columns keep their type and every other column is stored as strings. Writing no chunk at
    all gives an empty file (Parquet: a file with no columns; XLSX: an empty sheet).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._gz = self.path.name.lower().endswith(".gz")
        self._kind = self._format()
        self._tmp: Path | None = None
        self._raw: IO[bytes] | None = None
        self._stream: IO[Any] | None = None
        self._parquet: Any = None
        self._schema: Any = None
        self._columns: list[str] | None = None
        self._sheet: Any = None

    def _format(self) -> str:
        kind = _OUTPUT_KINDS.get(inner_suffix(self.path))
        if kind is None or (self._gz and kind in _BINARY_KINDS):
            raise DataError(f"{self.path}: cannot tell the output format from the file name; use "
                            ".csv, .tsv, .jsonl, .parquet or .xlsx (text formats may end in .gz)")
        return kind

    def __enter__(self) -> AtomicWriter:
        if self.path.is_dir():
            raise DataError(f"{self.path}: is a directory")
        parent = self.path.parent
        if not parent.is_dir():
            raise DataError(f"{self.path}: directory {str(parent)!r} does not exist")
        for _ in range(100):
            tmp = parent / f".{self.path.name}.{secrets.token_hex(4)}.tmp"
            try:
                self._raw = open(tmp, "xb")
            except FileExistsError:
                continue
            except OSError as exc:
                raise DataError(f"{self.path}: cannot write: "
                                f"{one_line(exc.strerror or exc)}") from None
            self._tmp = tmp
            break
        else:  # pragma: no cover - 100 random names taken
            raise DataError(f"{self.path}: cannot create a temporary file in {parent}")
        if self._kind == "xlsx":
            from kanalml.io.xlsx import XlsxSheet

            self._sheet = XlsxSheet(self.path)
        elif self._kind != "parquet":
            binary: IO[bytes] | gzip.GzipFile = self._raw
            if self._gz:
                binary = gzip.GzipFile(filename=self.path.name, mode="wb", fileobj=self._raw,
                                       mtime=0)
            self._stream = io.TextIOWrapper(binary, encoding="utf-8", newline="")
        return self

    def write(self, chunk: pd.DataFrame) -> None:
        """Append one chunk."""
        if self._raw is None:
            raise RuntimeError("AtomicWriter.write() called outside its with block")
        first = self._columns is None
        if self._columns is None:
            self._columns = [str(c) for c in chunk.columns]
            if len(set(self._columns)) != len(self._columns):
                raise DataError(f"{self.path}: duplicate column names in "
                                f"{list_columns(self._columns)}")
        else:
            extra = [c for c in chunk.columns if c not in self._columns]
            if extra:
                raise DataError(f"{self.path}: a later chunk has column(s) the first did not "
                                f"have: {list_columns(extra)}")
            if list(chunk.columns) != self._columns:
                chunk = chunk.reindex(columns=self._columns)
        if self._kind in ("csv", "tsv"):
            assert self._stream is not None
            write_csv(chunk, self._stream, header=first, sep="\t" if self._kind == "tsv" else ",")
        elif self._kind == "xlsx":
            self._sheet.append(escape_frame(chunk)[0], header=first)
        elif self._kind == "jsonl":
            if len(chunk):
                text = chunk.to_json(orient="records", lines=True, force_ascii=False,
                                     date_format="iso", double_precision=15, default_handler=str)
                # pandas writes "/" as "\/"; both are valid JSON, the first is easier to read
                text = text.replace("\\/", "/")
                assert self._stream is not None
                self._stream.write(text if text.endswith("\n") else text + "\n")
        else:
            self._write_parquet(chunk)

    def _write_parquet(self, chunk: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._schema is None:
            arrays = [_arrow_column(chunk[c], None) for c in chunk.columns]
            self._schema = pa.schema([pa.field(str(c), a.type) for c, a in
                                      zip(chunk.columns, arrays)])
            self._parquet = pq.ParquetWriter(str(self._tmp), self._schema)
        else:
            arrays = []
            for field in self._schema:
                try:
                    arrays.append(_arrow_column(chunk[field.name], field.type))
                except (pa.ArrowException, TypeError, ValueError):
                    # not the exception's text: Arrow quotes the offending cell
                    raise DataError(f"{self.path}: column {field.name!r} cannot be stored as "
                                    f"{field.type} like in the first chunk: a later chunk "
                                    "holds values of another type") from None
        self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        tmp = self._tmp
        try:
            if exc_type is None:
                assert tmp is not None  # set by __enter__
                try:
                    self._close()
                except OSError as error:
                    raise DataError(f"{self.path}: cannot write: "
                                    f"{one_line(error.strerror or error)}") from None
                if self.path.exists():
                    with contextlib.suppress(OSError):
                        shutil.copymode(self.path, tmp)
                try:
                    os.replace(tmp, self.path)
                except OSError as error:
                    raise DataError(f"{self.path}: cannot write: "
                                    f"{one_line(error.strerror or error)}") from None
            else:
                with contextlib.suppress(Exception):
                    self._close()
                if isinstance(exc, OSError) and not exc.filename:  # a full disk names no file
                    raise DataError(f"{self.path}: cannot write: "
                                    f"{one_line(exc.strerror or exc)}") from None
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)

    def _close(self) -> None:
        raw, stream, parquet, sheet = self._raw, self._stream, self._parquet, self._sheet
        self._raw = self._stream = self._parquet = self._sheet = None
        try:
            if sheet is not None and raw is not None:
                sheet.save(raw)
            if parquet is not None:
                parquet.close()
            elif self._kind == "parquet" and self._tmp is not None:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), str(self._tmp))
            if stream is not None:
                stream.close()  # closes the gzip layer too, which leaves raw open
            if raw is not None and not raw.closed:
                raw.flush()
                os.fsync(raw.fileno())
        finally:
            if raw is not None:
                raw.close()


def _arrow_column(series: pd.Series, target: Any) -> Any:
    """One column as an Arrow array: bool/numeric/datetime kept, anything else as strings."""
    import pyarrow as pa

    if target is None:
        dtype = series.dtype
        typed = (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)
                 or pd.api.types.is_datetime64_any_dtype(dtype))
        if typed and series.notna().any():
            return pa.Array.from_pandas(series)
        target = pa.string()
    if target != pa.string():
        return pa.Array.from_pandas(series, type=target)
    try:
        return pa.Array.from_pandas(series, type=pa.string())
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        cells = [_cell_text(v) for v in series.tolist()]
        try:
            return pa.array(cells, type=pa.string())
        except (pa.ArrowException, UnicodeError):
            cells = [None if c is None else c.encode("utf-8", "replace").decode("utf-8")
                     for c in cells]
            return pa.array(cells, type=pa.string())


def _cell_text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def write_rejects(path: str | os.PathLike[str], rejected: list[Rejected]) -> None:
    """Write rejected records as CSV (columns file, line, reason, raw), atomically; phone
    numbers and emails in ``raw`` are masked like in the review queue."""
    from kanalml.rank import mask_pii

    frame = pd.DataFrame({
        "file": pd.array([r.file for r in rejected], dtype=object),
        "line": pd.array([r.line for r in rejected], dtype="int64"),
        "reason": pd.array([r.reason for r in rejected], dtype=object),
        "raw": pd.array([mask_pii(r.raw) for r in rejected], dtype=object),
    })
    with _CsvWriter(path) as writer:
        writer.write(frame)


class _CsvWriter(AtomicWriter):
    """An AtomicWriter that writes CSV whatever the file name (gzip'd if it ends in .gz)."""

    def _format(self) -> str:
        return "csv"


def fsync_path(path: Path) -> None:
    """Flush a file or a directory (a rename's entry) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
