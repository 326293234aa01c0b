"""Posts/s of ``kanalml score --engine dask`` with 1 and 2 workers, and the ratio.

    python benchmarks/bench_dask.py [--rows 320000] [--files 8] [--repeats 3]

Input: re_dataset tweets (../shared/data/ibrohim2019/re_dataset.csv) sampled
with a fixed seed into several CSV files in a temporary directory. For each
worker count a LocalCluster (one thread per worker process) is started first
and warmed up (each worker loads the model) outside the timing; each timed run
reads, scores, ranks and writes every row through the scheduler. Reported:
each run, the median, and 2-worker / 1-worker from medians of the same run.
Target: 2 workers >= 1.7x one worker.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
TWEETS = ROOT.parent / "shared" / "data" / "ibrohim2019" / "re_dataset.csv"


def write_inputs(directory: Path, rows: int, files: int) -> list[str]:
    tweets = pd.read_csv(TWEETS, encoding="latin-1")["Tweet"]
    rng = np.random.default_rng(0)
    sample = tweets.to_numpy()[rng.integers(0, len(tweets), rows)]
    paths = []
    for i, part in enumerate(np.array_split(sample, files)):
        path = directory / f"export_{i:02d}.csv"
        pd.DataFrame({"channel": f"kanal_{i}", "text": part}).to_csv(path, index=False)
        paths.append(str(path))
    return paths


def run(workers: int, paths: list[str], warmup: list[str], out: Path,
        repeats: int) -> list[float]:
    from distributed import Client, LocalCluster

    from kanalml.dask import score_files

    times = []
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster):
        for i in range(workers):
            score_files(warmup, out / f"warm-{workers}-{i}", scheduler=cluster.scheduler_address)
        for r in range(repeats):
            start = time.perf_counter()
            score_files(paths, out / f"run-{workers}-{r}", scheduler=cluster.scheduler_address)
            times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=320_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not TWEETS.is_file():
        print(f"skipped: {TWEETS} not found", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="kanalml-bench-dask-") as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        (tmp / "warm").mkdir()
        paths = write_inputs(tmp / "in", args.rows, args.files)
        warmup = write_inputs(tmp / "warm", 2_000, 2)
        medians = {}
        for workers in (1, 2):
            times = run(workers, paths, warmup, tmp, args.repeats)
            medians[workers] = statistics.median(times)
            print(f"{workers} worker(s): " + ", ".join(f"{t:.1f} s" for t in times)
                  + f" -> median {medians[workers]:.1f} s, "
                  f"{args.rows / medians[workers]:,.0f} posts/s")
    print(f"{args.rows:,} rows in {args.files} files; 2 workers / 1 worker: "
          f"{medians[1] / medians[2]:.2f}x (target >= 1.7x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
