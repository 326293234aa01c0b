"""Property tests (Hypothesis) of the README's "Bad input" guarantees, on generated input.

The reader meets arbitrary text through JSON Lines (which can spell lone surrogates and NULs)
and arbitrary bytes through CSV; the writer meets every cell the reader can yield; score()
meets arbitrary values. Example counts are kept small so the suite stays fast; each property
still runs a few hundred inputs per day of CI.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import kanalml  # noqa: E402
from kanalml.io import (  # noqa: E402
    AtomicWriter,
    DataError,
    ExportReader,
    detect_format,
    estimate_rows,
    unescape_cell,
)

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
# every code point, lone surrogates included, with the characters that break CSV and
# spreadsheets over-represented
CHARS = st.one_of(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None),
                  st.sampled_from(list("=+-@\t\r\n\"',;|\x00\ud800\udfff'")))
TEXT = st.text(CHARS, max_size=40)
FORMULA = re.compile(r"[=+\-@\t\r]")
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def expected(text: str) -> str:
    """What the reader promises for a text: lone surrogates as U+FFFD, no NUL."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace") \
        .replace("\x00", "")


def read(paths: list[Path], **options) -> tuple[pd.DataFrame, ExportReader]:
    reader = ExportReader(paths, warn=lambda message: None, **options)
    chunks = [chunk for chunk, _ in reader]
    return (pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()), reader


@FUZZ
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=12))
def test_any_jsonl_text_reads_as_valid_unicode_and_survives_every_writer(rows) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps({"text": t, "other": o}) + "\n" for t, o in rows),
                       encoding="ascii")
        frame, reader = read([src])
        assert reader.rejected == [] and len(frame) == len(rows)
        assert frame["text"].tolist() == [expected(t) for t, _ in rows]
        assert frame["other"].tolist() == [expected(o) for _, o in rows]
        data = frame.drop(columns=["_file", "_line"])
        for name in ("out.csv", "out.tsv", "out.jsonl", "out.parquet"):
            with AtomicWriter(Path(tmp) / name) as writer:
                writer.write(data)
        for name, sep in (("out.csv", ","), ("out.tsv", "\t")):
            with open(Path(tmp) / name, encoding="utf-8", newline="") as handle:
                header, *body = list(csv.reader(handle, delimiter=sep))
            assert header == ["text", "other"] and len(body) == len(rows)
            cells = [c for row in body for c in row]
            assert all(not FORMULA.match(c) or NUMBER.fullmatch(c) for c in cells)  # inert
            assert [unescape_cell(row[0]) for row in body] == data["text"].tolist()
            assert [unescape_cell(row[1]) for row in body] == data["other"].tolist()
        assert pd.read_parquet(Path(tmp) / "out.parquet")["text"].tolist() == \
            data["text"].tolist()


@FUZZ
@given(st.binary(max_size=400), st.sampled_from([".csv", ".tsv", ".jsonl", ".json", ""]))
def test_any_bytes_give_rows_of_valid_text_or_one_data_error(data, suffix) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"in{suffix}"
        src.write_bytes(data)
        try:
            frame, reader = read([src], text_column=None)
        except DataError as exc:
            assert "\n" not in str(exc) and str(src) in str(exc)
            return
        for column in frame.columns:
            for value in frame[column].tolist():
                if isinstance(value, str):
                    value.encode("utf-8")
                    assert "\x00" not in value
        lines = data.count(b"\n") + data.count(b"\r") + 1
        assert len(frame) + len(reader.rejected) <= lines


@FUZZ
@given(st.one_of(st.binary(max_size=400),
                 st.binary(max_size=60).map(lambda b: b"\x1f\x8b" + b),
                 st.binary(max_size=60).map(lambda b: b"PAR1" + b)),
       st.sampled_from([".csv", ".jsonl", ".json", ".parquet", ".csv.gz", ""]))
def test_any_bytes_are_detected_or_refused_in_one_line_and_estimates_never_raise(data,
                                                                              suffix) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"in{suffix}"
        src.write_bytes(data)
        try:
            kind, gzipped = detect_format(src)
        except DataError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(f"{src}: ")
            assert estimate_rows([src]) is None  # the reader reports it, not the progress bar
            return
        assert kind in ("csv", "jsonl", "parquet", "telegram") and isinstance(gzipped, bool)
        rows = estimate_rows([src])
        assert rows is None or rows >= 0


@FUZZ
@given(st.lists(st.one_of(TEXT, st.none(), st.floats(), st.integers(), st.binary(max_size=20)),
                max_size=8))
def test_score_takes_any_values_and_returns_probabilities(values) -> None:
    frame = kanalml.score(values)
    assert len(frame) == len(values)
    assert frame["category"].isin(kanalml.load_model().categories_).all()
    probs = frame.drop(columns=["flagged", "category"]).to_numpy(dtype=float)
    assert np.isfinite(probs).all() and ((probs >= 0) & (probs <= 1)).all()


@FUZZ
@given(st.lists(st.fixed_dictionaries({"text": TEXT, "channel": TEXT}), min_size=1, max_size=8),
       st.sampled_from(["score", "rank"]))
def test_the_command_on_any_jsonl_writes_an_inert_csv_and_nothing_else(records, command) -> None:
    from kanalml.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.csv"
        src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="ascii")
        assert main([command, str(src), "-o", str(out), "-q"]) == 0
        with open(out, encoding="utf-8", newline="") as handle:
            header, *body = list(csv.reader(handle))
        assert all(not FORMULA.match(c) or NUMBER.fullmatch(c) for row in body for c in row)
        if command == "score":
            assert len(body) == len(records)
            text = [unescape_cell(row[header.index("text")]) for row in body]
            assert text == [expected(r["text"]) for r in records]
        assert sorted(p.name for p in Path(tmp).iterdir()) == ["in.jsonl", "out.csv"]
