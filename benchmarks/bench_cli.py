"""Batch scoring from the command line vs in-memory ``kanalml.score``, and memory as input grows.

    python benchmarks/bench_cli.py [--rows 100000 300000 1000000]

Builds CSV exports of N rows by sampling the re_dataset tweets (new text for the
model) with channel/date columns, then, in one run, each in a fresh process on one core:
- in-memory: ``kanalml.score`` on the N texts as a Python list (scoring time only);
- CLI: ``kanalml score IN.csv -o OUT.csv --quiet``, wall time and the process's peak RSS.
Prints rows/s, the CLI/in-memory time ratio (target <= 1.5) and peak RSS per N
(target: flat in N, <= 1 GB at 1,000,000 rows).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TWEETS = SHARED / "ibrohim2019" / "re_dataset.csv"


def make_export(path: Path, rows: int, tweets: list[str]) -> None:
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(tweets), size=rows)
    frame = pd.DataFrame({
        "channel": [f"kanal_{i % 500}" for i in range(rows)],
        "message_id": np.arange(rows),
        "date": pd.Timestamp("2026-11-01") + pd.to_timedelta(np.arange(rows) % 86400, unit="s"),
        "text": [tweets[i] for i in picks],
    })
    frame.to_csv(path, index=False)


_CLI = ("import sys; from kanalml.cli import main; code = main(sys.argv[1:]); "
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
        "print(peak.split()[1], file=sys.stderr); sys.exit(code)")


def run_cli(src: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``kanalml score`` process pinned to one core.

    The peak is the process's own VmHWM: ru_maxrss of a child can start from the
    parent's peak and would hide whether memory stays flat.
    """
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CLI, "score", str(src), "-o", str(out),
                           "--quiet"], capture_output=True, text=True,
                          preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"kanalml score failed on {src}: {done.stderr}")
    return seconds, int(done.stderr.split()[-1]) / 1024


_IN_MEMORY = ("import sys, time, pandas as pd, kanalml; "
              "texts = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)['text']"
              ".tolist(); "
              "model = kanalml.load_model(); started = time.perf_counter(); "
              "kanalml.score(texts, model=model); print(time.perf_counter() - started)")


def in_memory_seconds(src: Path) -> float:
    """``kanalml.score`` on the file's texts as a list, in a fresh process (same cold caches)."""
    done = subprocess.run([sys.executable, "-c", _IN_MEMORY, str(src)], capture_output=True,
                          text=True, check=True, preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    return float(done.stdout.split()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    args = parser.parse_args()
    if not TWEETS.is_file():
        print(f"shared data not found ({TWEETS}); nothing to measure")
        return 0
    tweets = pd.read_csv(TWEETS, encoding="latin-1")["Tweet"].tolist()
    print("both in fresh processes pinned to one core, so both start with empty token caches;")
    print("CLI time is the whole command (start-up, model load, read, score, evidence, write)")
    print(f"{'rows':>9} {'in-memory s':>12} {'rows/s':>8} {'CLI s':>8} {'rows/s':>8} "
          f"{'CLI/in-memory':>14} {'CLI peak RSS MB':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            src, out = Path(tmp) / f"in_{rows}.csv", Path(tmp) / f"out_{rows}.csv"
            make_export(src, rows, tweets)
            memory_s = in_memory_seconds(src)
            cli_s, rss = run_cli(src, out)
            print(f"{rows:>9} {memory_s:>12.1f} {rows / memory_s:>8,.0f} {cli_s:>8.1f} "
                  f"{rows / cli_s:>8,.0f} {cli_s / memory_s:>14.2f} {rss:>16,.0f}", flush=True)
            src.unlink()
            out.unlink()
    print("targets: CLI/in-memory <= 1.5; peak RSS flat in rows and <= 1,000 MB at 1,000,000 rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
