"""Batch scoring from the command line vs in-memory ``kanalml.score``, and memory as input grows.

    python benchmarks/bench_cli.py [--rows 100000 300000 1000000]

Builds CSV exports of N rows by sampling the re_dataset tweets (new text for the
model) with channel/date columns, then, in one run and on one core:
- in-memory: ``kanalml.score`` on the first N rows as a Python list (warm model);
- CLI: ``kanalml score IN.csv -o OUT.csv --quiet`` in a fresh process, wall time and
  peak RSS of that process.
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

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import numpy as np
import pandas as pd

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    args = parser.parse_args()
    if not TWEETS.is_file():
        print(f"shared data not found ({TWEETS}); nothing to measure")
        return 0
    os.sched_setaffinity(0, {0})
    import kanalml

    tweets = pd.read_csv(TWEETS, encoding="latin-1")["Tweet"].tolist()
    model = kanalml.load_model()
    print(f"{'rows':>9} {'in-memory rows/s':>17} {'CLI s':>8} {'CLI rows/s':>11} "
          f"{'CLI/in-memory':>14} {'CLI peak RSS MB':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            src, out = Path(tmp) / f"in_{rows}.csv", Path(tmp) / f"out_{rows}.csv"
            make_export(src, rows, tweets)
            texts = pd.read_csv(src)["text"].tolist()
            kanalml.score(texts[:20_000], model=model)  # warm the caches
            started = time.perf_counter()
            kanalml.score(texts, model=model)
            memory_s = time.perf_counter() - started
            cli_s, rss = run_cli(src, out)
            print(f"{rows:>9} {rows / memory_s:>17,.0f} {cli_s:>8.1f} {rows / cli_s:>11,.0f} "
                  f"{cli_s / memory_s:>14.2f} {rss:>16,.0f}")
            src.unlink()
            out.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
