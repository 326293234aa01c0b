"""The review page in a real browser (Debian's headless Chromium): page ready with a
10,000-item queue, and the decision round trip (key press to "saved") p95.

    python benchmarks/bench_review.py [--items 10000] [--decisions 60]

Targets: page ready <= 1 s; round trip p95 <= 100 ms. "Ready" is the time from navigation
start to the first cards being shown with every item loaded (the page's own
``performance.now()``); the round trip is from the key press to the row being fsynced
to the decisions file and the page showing "saved".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reviewing import browser_missing, chromium, press, start_server, stop, wait_for, write_queue

READY_TARGET_MS = 1000.0
ROUND_TRIP_TARGET_MS = 100.0
WORDS = ("tegakkan khilafah lawan thaghut sekarang juga wahai saudaraku harga cabai naik "
         "jalan macet hujan deras timnas menang diskon ongkir").split()


def texts(n: int) -> list[str]:
    """Posts of 20-60 words, each distinct."""
    out = []
    for i in range(n):
        length = 20 + (i * 7) % 41
        out.append(f"#{i} " + " ".join(WORDS[(i * 3 + k * 5) % len(WORDS)] for k in range(length)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=60)
    parser.add_argument("--loads", type=int, default=5, help="page loads (the median is shown)")
    args = parser.parse_args()
    why = browser_missing()
    if why:
        print(f"bench_review: cannot run: {why}", file=sys.stderr)
        return 0
    folder = Path(tempfile.mkdtemp(prefix="kanalml-bench-review-"))
    queue = write_queue(folder / "queue.csv", texts(args.items))
    process, url = start_server(queue, folder / "decisions.csv", reviewer="bench")
    try:
        with chromium() as driver:
            ready = []
            for _ in range(args.loads):
                driver.get(url)
                ready.append(float(wait_for(driver, "document.body.dataset.readyMs")))
            trips = []
            for i in range(args.decisions):
                press(driver, "1" if i % 2 else "0")
                wait_for(driver, f"document.querySelectorAll('[data-round-trip]').length > {i}")
                time.sleep(0.05)  # a moderator reads between decisions
            trips = [float(v) for v in driver.execute_script(
                "return [...document.querySelectorAll('[data-round-trip]')]"
                ".map(n => n.dataset.roundTrip)")]
    finally:
        stop(process)
    ready_ms = statistics.median(ready)
    p95 = statistics.quantiles(trips, n=20)[-1]
    print(f"queue: {args.items} items ({queue.stat().st_size / 1e6:.1f} MB CSV); "
          f"{len(trips)} decisions")
    print(f"page ready (median of {len(ready)} loads): {ready_ms:.0f} ms "
          f"(target <= {READY_TARGET_MS:.0f} ms; all: {', '.join(f'{r:.0f}' for r in ready)})")
    print(f"decision round trip: p50 {statistics.median(trips):.1f} ms, p95 {p95:.1f} ms, "
          f"max {max(trips):.1f} ms (target p95 <= {ROUND_TRIP_TARGET_MS:.0f} ms)")
    print(f"page ready: {'met' if ready_ms <= READY_TARGET_MS else 'NOT MET'}; "
          f"round trip p95: {'met' if p95 <= ROUND_TRIP_TARGET_MS else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
