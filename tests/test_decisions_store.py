"""The decisions store under faults: a full disk, I/O errors, kills mid-write, wrong files,
several reviewers on one store. Every test here failed on the CSV-only decisions log."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from kanalml.labelled import read_decisions
from kanalml.review.store import DecisionStore, DecisionStoreError, export_text

LABELS = ["ekstremisme"]
ROOT = Path(__file__).resolve().parents[1]


def item(n: int, text: str | None = None) -> dict:
    return {"key": f"id:k/{n}", "message_id": f"k/{n}", "text": text or f"teks nomor {n}"}


def rows_in(store: Path) -> int:
    with sqlite3.connect(store) as connection:
        return connection.execute("SELECT count(*) FROM decisions").fetchone()[0]


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture
def store(tmp_path):
    opened = DecisionStore(tmp_path / "d.sqlite")
    opened.append(item(1), 1, "ani")
    yield opened
    opened.close()


# -- a write that fails leaves no trace, and the next one is saved ------------------------------

@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
def test_a_failed_export_write_leaves_no_trace(store, monkeypatch, code) -> None:
    before = store.export.read_bytes()
    real_write = os.write
    calls = []

    def failing(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:  # half the row reaches the disk, then the disk is full
            return real_write(fd, data[: len(data) // 2])
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "write", failing)
    with pytest.raises(DecisionStoreError, match=r"d.sqlite: decision not saved"):
        store.append(item(2), 1, "ani")
    monkeypatch.setattr(os, "write", real_write)
    assert len(calls) == 2
    assert store.export.read_bytes() == before  # the half row was cut off again
    assert rows_in(store.path) == 1 and "id:k/2" not in store.state
    store.append(item(3), 0, "ani")  # the next decision is whole, on its own line
    decisions = read_decisions(store.export, LABELS)
    assert decisions["message_id"].tolist() == ["k/1", "k/3"]
    assert read_decisions(store.path, LABELS)["message_id"].tolist() == ["k/1", "k/3"]


def test_an_fsync_error_rolls_the_decision_back(store, monkeypatch) -> None:
    before = store.export.read_bytes()

    def eio(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", eio)
    with pytest.raises(DecisionStoreError, match="Input/output error"):
        store.append(item(2), 1, "ani")
    monkeypatch.undo()
    assert store.export.read_bytes() == before and rows_in(store.path) == 1


def test_a_full_database_leaves_the_export_as_it_was(store) -> None:
    before = store.export.read_bytes()
    store._db.execute("PRAGMA max_page_count = " + str(
        store._db.execute("PRAGMA page_count").fetchone()[0]))
    with pytest.raises(DecisionStoreError, match="full"):
        store.append(item(2, "panjang " * 20_000), 1, "ani")
    assert store.export.read_bytes() == before and rows_in(store.path) == 1
    store.append(item(3), 1, "ani")  # a small one still fits
    assert read_decisions(store.export, LABELS)["message_id"].tolist() == ["k/1", "k/3"]


def test_an_export_changed_behind_the_store_is_written_again(store) -> None:
    with open(store.export, "a", encoding="utf-8") as f:
        f.write("k/9,half a row cut by a cra")
    store.append(item(2), 0, "ani")
    assert read_decisions(store.export, LABELS)["message_id"].tolist() == ["k/1", "k/2"]
    store.export.unlink()
    store.append(item(3), 1, "ani")
    assert len(read_decisions(store.export, LABELS)) == 3


# -- kill -9 ----------------------------------------------------------------------------------

KILL_BETWEEN_EXPORT_AND_COMMIT = """
    import os, signal, sys
    from kanalml.review.store import DecisionStore
    store = DecisionStore(sys.argv[1])
    for n in (1, 2):
        store.append({"message_id": f"k/{n}", "text": "t"}, 1, "ani")
    real_fsync = os.fsync
    def fsync_then_die(fd):
        real_fsync(fd)  # the export's new row is on disk; the store has not committed it
        os.kill(os.getpid(), signal.SIGKILL)
    os.fsync = fsync_then_die
    store.append({"message_id": "k/3", "text": "t"}, 1, "ani")
"""


def test_kill_9_between_the_export_and_the_commit(tmp_path) -> None:
    path = tmp_path / "d.sqlite"
    done = run(KILL_BETWEEN_EXPORT_AND_COMMIT, str(path))
    assert done.returncode == -signal.SIGKILL
    assert "k/3" in path.with_suffix(".csv").read_text()  # the row the store never committed
    store = DecisionStore(path)  # the next start puts the export right
    try:
        assert rows_in(path) == 2 and set(store.state) == {"id:k/1", "id:k/2"}
        assert "k/3" not in store.export.read_text()
        assert read_decisions(store.export, LABELS)["message_id"].tolist() == ["k/1", "k/2"]
    finally:
        store.close()


BURST = """
    import sys
    from kanalml.review.store import DecisionStore
    store = DecisionStore(sys.argv[1])
    for n in range(100_000):
        store.append({"message_id": f"k/{n}", "text": "teks " * (n % 50)}, n % 2, "ani")
        print(n, flush=True)
"""


def test_kill_9_mid_burst_loses_no_saved_decision(tmp_path) -> None:
    path = tmp_path / "d.sqlite"
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(BURST), str(path)],
                               stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    saved = []
    assert process.stdout is not None
    for line in process.stdout:
        saved.append(int(line))
        if len(saved) == 150:
            process.kill()
            break
    process.wait(30)
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = DecisionStore(path)
    try:
        assert {f"id:k/{n}" for n in saved} <= set(store.state)
        decisions = read_decisions(store.export, LABELS)
        assert len(decisions) == rows_in(path) >= 150
    finally:
        store.close()


# -- only decisions stores are written ----------------------------------------------------------

@pytest.mark.parametrize("name, content, message", [
    ("notes.txt", b"a\nb", "not a decisions store: give NAME.sqlite"),
    ("notes.csv", b"a\nb", r"notes.csv:1: not a review decisions file"),
    ("notes.csv", b"id,label\n1,1\n2,", r"notes.csv:1: not a review decisions file"),
    ("notes.sqlite", b"a\nb", "not a decisions store \\(not an SQLite database\\)"),
    ("notes.db", None, "an SQLite database of another application"),
])
def test_a_file_that_is_not_a_store_is_refused_and_left_as_it_was(tmp_path, name, content,
                                                                   message) -> None:
    path = tmp_path / name
    if content is None:
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE notes (line TEXT)")
        connection.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(DecisionStoreError, match=message):
        DecisionStore(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_foreign_file_where_the_export_goes_is_not_overwritten(tmp_path) -> None:
    DecisionStore(tmp_path / "d.sqlite").close()
    export = tmp_path / "d.csv"
    export.write_text("my own notes\n")
    with pytest.raises(DecisionStoreError, match=r"d.csv:1: not a review decisions file"):
        DecisionStore(tmp_path / "d.sqlite")
    assert export.read_text() == "my own notes\n"


def test_a_decisions_csv_of_an_earlier_kanalml_is_imported(tmp_path) -> None:
    legacy = tmp_path / "q.decisions.csv"
    legacy.write_text("message_id,text,decided_at,label,reviewer\n"
                      "a,'=x,2026-11-01T00:00:00.000+00:00,1,ani\n"
                      "b,y,2026-11-01T00:00:01.000+00:00,0,budi\n"
                      "b,y,2026-11-01T00:00:02.000+00:00,,budi\n"
                      "c,z,2026-11-01T00:00:0", encoding="utf-8")  # cut by a crash
    store = DecisionStore(legacy)
    try:
        assert store.path == tmp_path / "q.decisions.sqlite" and rows_in(store.path) == 3
        assert store.state == {"id:a": {"ani": 1}, "id:b": {}}
        assert store.export.read_text().splitlines()[1:] == [
            "a,'=x,2026-11-01T00:00:00.000+00:00,1,ani",
            "b,y,2026-11-01T00:00:01.000+00:00,0,budi",
            "b,y,2026-11-01T00:00:02.000+00:00,,budi"]
    finally:
        store.close()


def test_cells_come_back_exactly_after_the_spreadsheet_guard(tmp_path) -> None:
    texts = ["'=HYPERLINK(\"http://x\")", "=1+1", "''@x", "-5", "baris\rdua\u2028tiga", "- x"]
    store = DecisionStore(tmp_path / "d.sqlite")
    for text in texts:
        store.append({"message_id": "", "text": text}, 1, "ani")
    store.close()
    assert read_decisions(tmp_path / "d.csv", LABELS)["text"].tolist() == texts
    assert read_decisions(tmp_path / "d.sqlite", LABELS)["text"].tolist() == texts
    lines = export_text(tmp_path / "d.sqlite").splitlines()[1:]
    assert all(not line.startswith(("=", "+", "-", "@")) for line in lines)


# -- several reviewers on one store -------------------------------------------------------------

def test_two_stores_on_one_file_see_each_other_and_lose_nothing(tmp_path) -> None:
    ani, budi = DecisionStore(tmp_path / "d.sqlite"), DecisionStore(tmp_path / "d.csv")
    try:
        ani.append(item(1), 1, "ani")
        budi.append(item(1), 0, "budi")
        assert ani.state == budi.state == {"id:k/1": {"ani": 1, "budi": 0}}
        assert ani.disagreements() == {"id:k/1": {"ani": 1, "budi": 0}}

        def burst(store: DecisionStore, reviewer: str) -> None:
            for n in range(2, 52):
                store.append(item(n), n % 2, reviewer)

        threads = [threading.Thread(target=burst, args=pair)
                   for pair in ((ani, "ani"), (budi, "budi"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert rows_in(ani.path) == 102
        assert len(ani.state) == len(budi.state) == 51
    finally:
        ani.close()
        budi.close()
    lines = (tmp_path / "d.csv").read_text().splitlines()
    assert len(lines) == 103 and len(read_decisions(tmp_path / "d.csv", LABELS)) == 51


PROCESS_BURST = """
    import sys
    from kanalml.review.store import DecisionStore
    store = DecisionStore(sys.argv[1])
    for n in range(200):
        store.append({"message_id": f"{sys.argv[2]}/{n}", "text": "t"}, 1, sys.argv[2])
    store.close()
"""


def test_two_processes_on_one_store_lose_nothing(tmp_path) -> None:
    path = tmp_path / "d.sqlite"
    DecisionStore(path).close()
    processes = [subprocess.Popen([sys.executable, "-c", textwrap.dedent(PROCESS_BURST),
                                   str(path), name], env={**os.environ, "PYTHONPATH": str(ROOT)})
                 for name in ("ani", "budi")]
    assert [p.wait(120) for p in processes] == [0, 0]
    assert rows_in(path) == 400
    assert len(read_decisions(path.with_suffix(".csv"), LABELS)) == 400
