"""Parquet input.

Owns making Parquet string columns valid UTF-8 (Parquet does not check). Knows nothing about
models.
"""

from __future__ import annotations

from typing import Any


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
