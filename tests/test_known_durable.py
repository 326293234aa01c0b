"""Known lists shared by teams: concurrent writers, crashes mid-save, removal with history,
only confirmed rows added, and hostile list files refused quickly and cheaply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kanalml import known
from kanalml.cli import main
from kanalml.known import KnownList

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["perangi", "thaghut", "hijrah", "syam", "infaq", "mujahidin", "baiat", "daulah",
         "khilafah", "ikhwah", "qital", "fardhu", "muwahhid", "ansar", "tauhid", "jihad"]


def texts(n: int, start: int = 0) -> list[str]:
    """``n`` distinct posts of eight words (a distinct canonical text each)."""
    out = []
    for i in range(start, start + n):
        digits = [(i // 16 ** k) % 16 for k in range(5)]
        out.append(" ".join(WORDS[d] for d in digits) + " seruan ke " + str(i))
    return out


def run(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def texts_file(path: Path, rows: list[str]) -> Path:
    pd.DataFrame({"text": rows, "label": [1] * len(rows)}).to_csv(path, index=False)
    return path


# -- concurrent writers -------------------------------------------------------------------------

def test_two_concurrent_known_adds_lose_nothing(tmp_path) -> None:
    listing = tmp_path / "known"
    files = [texts_file(tmp_path / f"{n}.csv", texts(4000, start=n * 4000)) for n in (0, 1)]
    command = [sys.executable, "-m", "kanalml", "known", "add", str(listing)]
    processes = [subprocess.Popen([*command, str(f), "--added-by", f"tim-{n}"],
                                  stderr=subprocess.PIPE, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
                 for n, f in enumerate(files)]
    errors = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], errors
    loaded = known.load(listing)
    assert len(loaded) == 8000 and len(set(loaded.column("sha256"))) == 8000
    assert sorted(e["by"] for e in loaded.history) == ["tim-0", "tim-1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".known.lock", "0.csv", "1.csv",
                                                          "known"]


HOLD_LOCK = """
    import sys, time
    from kanalml import known
    with known.locked(sys.argv[1]):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
"""


def test_a_busy_list_says_so_and_waits_then_gives_up_clearly(tmp_path, monkeypatch,
                                                             capsys) -> None:
    listing = tmp_path / "known"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLD_LOCK), str(listing),
                               "30"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        monkeypatch.setattr(known, "LOCK_TIMEOUT", 0.5)
        started = time.monotonic()
        assert main(["known", "add", str(listing), str(texts_file(tmp_path / "t.csv", texts(3))),
                     "--added-by", "a"]) == 1
        assert time.monotonic() - started < 5
        err = capsys.readouterr().err
        assert "another kanalml is writing this list; waiting for it" in err
        assert "busy: another kanalml has been writing this list" in err
        assert "Traceback" not in err and not listing.exists()
    finally:
        holder.kill()
        holder.wait(10)


# -- crashes mid-save -----------------------------------------------------------------------------

KILL_BETWEEN_RENAMES = """
    import os, signal, sys
    from kanalml import known
    path = sys.argv[1]
    with known.updating(path) as listing:
        listing.add(["perangi thaghut hijrah syam infaq mujahidin baiat daulah"], added_by="a")
        listing.record("add", "a")
    known._exchange = lambda a, b: False  # a file system without an atomic exchange
    real_replace = os.replace
    def replace_then_die(src, dst):
        real_replace(src, dst)  # the old list moved aside; the new one not yet in place
        os.kill(os.getpid(), signal.SIGKILL)
    os.replace = replace_then_die
    with known.updating(path) as listing:
        listing.add(["khilafah ikhwah qital fardhu muwahhid ansar tauhid jihad"], added_by="b")
        listing.record("add", "b")
"""


def test_kill_9_between_the_two_renames_is_recovered_on_the_next_open(tmp_path) -> None:
    listing = tmp_path / "known"
    done = run(KILL_BETWEEN_RENAMES, str(listing))
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert not listing.exists()  # the moment the old code left the list missing for good
    assert any(p.name.startswith(".known.new.") for p in tmp_path.iterdir())
    loaded = known.load(listing)  # finishes the save
    assert len(loaded) == 2 and [e["action"] for e in loaded.history] == ["add", "add"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".known.lock", "known"]
    assert main(["known", "add", str(listing), str(texts_file(tmp_path / "t.csv", texts(2))),
                 "--added-by", "c", "-q"]) == 0
    assert len(known.load(listing)) == 4


def test_an_interrupted_save_of_an_earlier_kanalml_is_put_back(tmp_path) -> None:
    listing = tmp_path / "known"
    original = KnownList()
    original.add(texts(3), added_by="a")
    aside = tmp_path / ".known.old.k2x9a1b3"
    original.save(aside / "list")  # where the old save moved a list before crashing
    (tmp_path / ".known.7hq2_9zz").mkdir()  # its unfinished new copy
    original.save(tmp_path / ".known.backup")  # the user's own copy, not a leftover
    assert main(["known", "add", str(listing), str(texts_file(tmp_path / "t.csv", texts(1, 9))),
                 "--added-by", "b", "-q"]) == 0
    assert len(known.load(listing)) == 4  # the old items were found, not a new list started
    assert not aside.exists() and not (tmp_path / ".known.7hq2_9zz").exists()
    assert (tmp_path / ".known.backup").is_dir()  # a directory of the user's is left alone


SAVE_LOOP = """
    import sys
    from kanalml import known
    listing = known.load(sys.argv[1])
    for n in range(int(sys.argv[2])):
        listing.add([f"perangi thaghut hijrah syam infaq mujahidin seruan {n}"], added_by="a")
        listing.save(sys.argv[1])
"""


def test_a_list_being_replaced_is_never_missing(tmp_path) -> None:
    listing = tmp_path / "known"
    start = KnownList()
    start.add(texts(50), added_by="a")
    start.save(listing)
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SAVE_LOOP), str(listing),
                               "60"], env={**os.environ, "PYTHONPATH": str(ROOT)})
    missing = checks = 0
    manifest = listing / "manifest.json"
    while writer.poll() is None:
        checks += 1
        missing += not manifest.is_file()
    assert writer.wait(60) == 0 and checks > 1000
    assert missing == 0
    assert len(known.load(listing)) == 110


# -- removal and history; only confirmed rows ----------------------------------------------------

def test_remove_takes_items_out_and_records_who_and_why(tmp_path, capsys) -> None:
    listing = tmp_path / "known"
    assert main(["known", "add", str(listing), str(texts_file(tmp_path / "t.csv", texts(3))),
                 "--added-by", "tim-a", "-q"]) == 0
    first, second, _ = known.load(listing).column("id")
    assert main(["known", "remove", str(listing), first, "--by", "tim-b",
                 "--reason", "decided not extremist on appeal"]) == 0
    loaded = known.load(listing)
    assert first not in loaded.column("id") and len(loaded) == 2
    assert len(loaded.signatures) == 2 and loaded.items[0]["id"] == second
    entry = loaded.history[-1]
    assert entry["action"] == "remove" and entry["by"] == "tim-b" and entry["ids"] == [first]
    assert entry["reason"] == "decided not extremist on appeal"
    capsys.readouterr()
    assert main(["known", "show", str(listing)]) == 0
    assert f"remove by tim-b: ids=['{first}']" in capsys.readouterr().out
    before = (listing / "items.parquet").read_bytes()
    assert main(["known", "remove", str(listing), "k-0000000000000000", "--by", "x"]) == 1
    err = capsys.readouterr().err
    assert "no item k-0000000000000000" in err and err.count("\n") == 1
    assert (listing / "items.parquet").read_bytes() == before


def test_known_add_takes_only_confirmed_rows(tmp_path, capsys) -> None:
    from kanalml.review.store import DecisionStore

    store = DecisionStore(tmp_path / "d.sqlite")
    confirmed, rejected, undone = texts(3)
    store.append({"message_id": "c/1", "text": confirmed}, 1, "ani")
    store.append({"message_id": "c/2", "text": rejected}, 1, "ani")
    store.append({"message_id": "c/2", "text": rejected}, 0, "ani")  # changed her mind
    store.append({"message_id": "c/3", "text": undone}, 1, "ani")
    store.append({"message_id": "c/3", "text": undone}, None, "ani")
    store.close()
    listing = tmp_path / "known"
    for source in ("d.sqlite", "d.csv"):
        assert main(["known", "add", str(listing), str(tmp_path / source), "--added-by", "a",
                     "-q"]) == 0
        assert [i["text"] for i in known.load(listing).items] == [confirmed]
    plain = tmp_path / "plain.csv"
    pd.DataFrame({"text": texts(2, 20)}).to_csv(plain, index=False)
    capsys.readouterr()
    assert main(["known", "add", str(listing), str(plain), "--added-by", "a"]) == 1
    assert "without a label column" in capsys.readouterr().err
    assert len(known.load(listing)) == 1
    assert main(["known", "add", str(listing), str(plain), "--added-by", "a",
                 "--all-confirmed", "-q"]) == 0
    assert len(known.load(listing)) == 3
    assert known.load(listing).history[-1]["all_confirmed"] is True


def test_export_onto_itself_or_a_hash_only_merge_into_it_keeps_the_texts(tmp_path,
                                                                          capsys) -> None:
    listing, shared = tmp_path / "known", tmp_path / "shared"
    assert main(["known", "add", str(listing), str(texts_file(tmp_path / "t.csv", texts(3))),
                 "--added-by", "a", "-q"]) == 0
    assert main(["known", "export", str(listing), "--hash-only", "-o", str(listing)]) == 1
    assert "is the list being exported" in capsys.readouterr().err
    assert main(["known", "export", str(listing), "--hash-only", "-o", str(shared), "-q"]) == 0
    assert main(["known", "merge", str(listing), str(shared), "-o", str(listing)]) == 1
    assert "would drop its texts" in capsys.readouterr().err
    assert all("text" in item for item in known.load(listing).items)


# -- hostile list files ---------------------------------------------------------------------

def _rewrite_manifest(root: Path, **changes: object) -> None:
    from kanalml.known import _sha256

    manifest = json.loads((root / "manifest.json").read_text())
    manifest["files"] = {name: _sha256(root / name) for name in manifest["files"]}
    manifest.update(changes)
    (root / "manifest.json").write_text(json.dumps(manifest))


def _bomb(root: Path) -> None:
    """items.parquet of a few KB whose texts decode to 1.2 GB: one 1.2 MB text repeated."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 1000
    big = "a" * 1_200_000
    names = ("id", "sha256", "category", "added_at", "added_by", "source", "seen_by", "text")
    arrays = [pa.array([f"{name}{i}" for i in range(n)]) for name in names[:-1]]
    arrays.append(pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)),
                                                 pa.array([big])))
    schema = pa.schema([pa.field(name, array.type, nullable=name != "text")
                        for name, array in zip(names, arrays)])
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), root / "items.parquet",
                   compression="snappy", store_schema=False)
    np.save(root / "signatures.npy", np.zeros((n, 64), dtype=np.uint32))
    _rewrite_manifest(root, items=n)


def _zstd_bomb(root: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({name: [name] for name in ("id", "sha256", "category", "added_at",
                                                 "added_by", "source", "seen_by")}
                     | {"text": ["b" * 50_000_000]})
    pq.write_table(table, root / "items.parquet", compression="zstd", use_dictionary=False)
    np.save(root / "signatures.npy", np.zeros((1, 64), dtype=np.uint32))
    _rewrite_manifest(root, items=1)


def _huge_npy_header(root: Path) -> None:
    path = root / "signatures.npy"
    data = path.read_bytes()
    header = b"{'descr': '<u4', 'fortran_order': False, 'shape': (100000000000, 64), }"
    new = b"\x93NUMPY\x01\x00" + len(header.ljust(118)).to_bytes(2, "little") + \
        header.ljust(117) + b"\n"
    path.write_bytes(new + data[128:])
    _rewrite_manifest(root)


def _link_out(name: str):
    def damage(root: Path) -> None:
        outside = root.parent / f"outside-{name}"
        (root / name).rename(outside)
        (root / name).symlink_to(outside)
    return damage


def _huge_manifest(root: Path) -> None:
    _rewrite_manifest(root, history=[{}] * 3_000_000)


HOSTILE = {
    "parquet dictionary bomb": (_bomb, "decompression bomb"),
    "parquet zstd bomb": (_zstd_bomb, "compressed with ZSTD"),
    "npy header of 1e11 rows": (_huge_npy_header, "expected uint32 of shape"),
    "items.parquet links out": (_link_out("items.parquet"), "is a symbolic link"),
    "signatures.npy links out": (_link_out("signatures.npy"), "is a symbolic link"),
    "manifest.json links out": (_link_out("manifest.json"), "is a symbolic link"),
    "manifest of 6 MB": (_huge_manifest, "over 4,194,304 bytes"),
}

LOAD_MEASURED = """
    import json, resource, sys, time
    from kanalml import known
    from kanalml.known import KnownListError
    import pyarrow.parquet, numpy  # imported before the baseline
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        known.load(sys.argv[1])
        error = None
    except KnownListError as exc:
        error = str(exc)
    took = time.monotonic() - started
    grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(json.dumps({"error": error, "seconds": took, "mb": grew}))
"""


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_list_files_are_refused_in_under_a_second_and_200_mb(tmp_path, case) -> None:
    damage, message = HOSTILE[case]
    listing = KnownList()
    listing.add(texts(5), added_by="a")
    listing.save(tmp_path / "known")
    damage(tmp_path / "known")
    done = run(LOAD_MEASURED, str(tmp_path / "known"))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["error"] is not None and message in result["error"], result
    assert "\n" not in result["error"]
    assert result["seconds"] < 1 and result["mb"] < 200, result
