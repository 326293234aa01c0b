"""Parquet input.

Owns reading a Parquet file in record batches of ``chunk_rows`` rows, reading only the columns
kept (author columns are never read), and making string columns valid UTF-8 (Parquet does not
check). Columns keep their Parquet types, as pyarrow converts them; ``_line`` is the 1-based row
number. pyarrow is imported only when a Parquet file is read. Knows nothing about models.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from kanalml.errors import DataError
from kanalml.io.context import ReadContext
from kanalml.io.text import one_line


def read_parquet(context: ReadContext) -> Iterator[tuple[pd.DataFrame, str]]:
    """``(chunk, text column)`` of one Parquet file, in chunks of ``chunk_rows`` rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = context.path
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, ValueError) as exc:
        raise DataError(f"{path}: not a readable Parquet file: {one_line(exc)}") from None
    with parquet:
        names = [str(n) for n in parquet.schema_arrow.names]
        text_column = context.text_column(names)
        keep = [n for n in names if not context.is_author(n, text_column)]
        start = 1
        try:
            for batch in parquet.iter_batches(batch_size=context.options.chunk_rows,
                                              columns=keep):
                if batch.num_rows == 0:
                    continue
                frame = utf8_batch(batch, start, context.repaired).to_pandas()
                lines = range(start, start + len(frame))
                start += len(frame)
                yield context.finish(frame, lines), text_column
        except pa.ArrowException as exc:
            raise DataError(f"{path}: corrupt Parquet data near row {start}: "
                            f"{one_line(exc)}") from None


def utf8_batch(batch: Any, start: int, repaired: list[int]) -> Any:
    """A Parquet record batch whose string columns hold valid UTF-8 (Parquet does not check):
    bad bytes become U+FFFD; the row number of each repaired cell is appended to ``repaired``."""
    import pyarrow as pa

    columns = list(batch.columns)
    changed = False
    for i, column in enumerate(columns):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        try:
            column.validate(full=True)
            continue
        except pa.ArrowInvalid:
            pass
        cells = []
        for row, raw in enumerate(column.cast(pa.large_binary()).to_pylist()):
            if raw is not None:
                try:
                    raw = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raw = raw.decode("utf-8", "replace")
                    repaired.append(start + row)
            cells.append(raw)
        columns[i] = pa.array(cells, type=column.type)
        changed = True
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema) if changed else batch
