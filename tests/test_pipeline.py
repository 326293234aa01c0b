"""The batch pipeline as a library: what the command line writes, callable from Python."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import EVERYDAY, RADICAL

import kanalml
from kanalml import pipeline
from kanalml.cli import main


def export(tmp_path: Path, bad_row: bool = False) -> Path:
    texts = [*RADICAL[:6], *EVERYDAY[:6]]
    frame = pd.DataFrame({"channel": [f"kanal_{i % 3}" for i in range(len(texts))],
                          "message_id": range(1, len(texts) + 1), "text": texts})
    path = tmp_path / "export.csv"
    frame.to_csv(path, index=False)
    if bad_row:
        with open(path, "a", encoding="utf-8") as f:
            f.write('kanal_0,99,"tidak ditutup\n')
    return path


def test_score_files_writes_what_the_command_writes(small_model_dir, tmp_path) -> None:
    source = export(tmp_path)
    assert main(["score", str(source), "-o", str(tmp_path / "cli.csv"), "-q",
                 "--model", str(small_model_dir), "--top", "5"]) == 0
    summary = pipeline.score_files([source], tmp_path / "lib.csv", model=small_model_dir,
                                   top=5)
    assert (tmp_path / "lib.csv").read_bytes() == (tmp_path / "cli.csv").read_bytes()
    assert summary.rows == 12 and summary.files == 1
    model = kanalml.load_model(small_model_dir)
    assert summary.threshold == model.threshold
    written = pd.read_csv(tmp_path / "lib.csv")
    added = pipeline.output_columns(model)
    assert list(written.columns[:3]) == ["channel", "message_id", "text"]
    assert list(written.columns[-len(added):]) == added


def test_one_definition_of_the_score_columns(small_model) -> None:
    frame = kanalml.score(["tegakkan khilafah", "cuaca cerah"], model=small_model)
    assert list(frame.columns) == list(pipeline.score_columns(small_model))
    one = kanalml.score("tegakkan khilafah", model=small_model)
    assert list(one) == list(pipeline.score_columns(small_model))


def test_rank_files_returns_the_queue_and_diagnostics(small_model_dir, tmp_path) -> None:
    source = export(tmp_path, bad_row=True)
    warnings: list[str] = []
    summary = pipeline.rank_files([source], tmp_path / "queue.csv",
                                  channels=tmp_path / "channels.csv", model=small_model_dir,
                                  budget=4, warn=warnings.append)
    assert summary.queue["rank"].tolist() == [1, 2, 3, 4]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "channels.csv"),
                                  summary.channels.reset_index(drop=True), check_dtype=False)
    assert 0 < summary.covered <= 1
    diagnostics = summary.diagnostics
    assert diagnostics.rows_read == 12 and len(diagnostics.rejected) == 1
    assert Path(f"{tmp_path / 'queue.csv'}.rejects.csv").is_file()
    assert any("malformed" in w for w in warnings)


def test_outputs_are_checked_before_any_work(tmp_path) -> None:
    source = export(tmp_path)
    with pytest.raises(kanalml.DataError, match="is also an input"):
        pipeline.score_files([source], source, model=tmp_path / "no-model-needed")
    with pytest.raises(kanalml.DataError, match="does not exist"):
        pipeline.rank_files([source], tmp_path / "missing" / "q.csv",
                            model=tmp_path / "no-model-needed")
