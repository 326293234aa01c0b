"""Helpers for the review page's tests and benchmark: queue files, the server as a subprocess,
and Debian's headless Chromium driven by Selenium (never a downloaded browser)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--window-size=1280,900")
QUEUE_COLUMNS = ["rank", "score", "ekstremisme", "category", "flagged", "text", "evidence",
                 "copies", "first_seen", "last_seen", "channels", "source", "message_ids"]


def queue_frame(texts: list[str], channel: str = "kanal") -> pd.DataFrame:
    """A queue as ``kanalml rank`` writes it, for these texts in this order."""
    n = len(texts)
    scores = [round(0.99 - 0.9 * i / max(n, 1), 4) for i in range(n)]
    ids = [f"{channel}/{100 + i}" for i in range(n)]
    return pd.DataFrame({
        "rank": range(1, n + 1), "score": scores, "ekstremisme": scores,
        "category": ["hasutan" if i % 2 else "takfir" for i in range(n)],
        "flagged": [s >= 0.5 for s in scores], "text": texts,
        "evidence": ["thaghut (2.10); khilafah (1.20)"] * n,
        "copies": [1 + i % 3 for i in range(n)],
        "first_seen": ["2026-11-02T08:00:00+00:00"] * n,
        "last_seen": ["2026-11-03T08:00:00+00:00"] * n, "channels": [channel] * n,
        "source": ids, "message_ids": ids}, columns=QUEUE_COLUMNS)


def write_queue(path: Path, texts: list[str], channel: str = "kanal") -> Path:
    queue_frame(texts, channel).to_csv(path, index=False)
    return path


def start_server(queue: Path, decisions: Path, *args: str, reviewer: str = "ani"
                 ) -> tuple[subprocess.Popen[str], str]:
    """``kanalml review`` in a subprocess on a free port: (process, the URL it printed)."""
    command = [sys.executable, "-m", "kanalml", "review", str(queue), "--decisions",
               str(decisions), "--reviewer", reviewer, "--port", "0", "--no-browser", *args]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines = []
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line)
        found = re.search(r"open (http://\S+)", line)
        if found:
            return process, found.group(1)
    process.wait(10)
    raise AssertionError("the server did not start:\n" + "".join(lines))


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists() and not shutil.which(Path(path).name):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is missing (pip install -e \".[test]\")"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium with a fresh profile, driven by chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="kanalml-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(
        CHROMEDRIVER if Path(CHROMEDRIVER).exists() else shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: Any, script: str, timeout: float = 10.0) -> Any:
    """Poll a JavaScript expression until it is truthy; return it."""
    end = time.monotonic() + timeout
    while True:
        value = driver.execute_script(f"return {script}")
        if value or time.monotonic() > end:
            assert value, f"timed out waiting for: {script}"
            return value
        time.sleep(0.02)


def press(driver: Any, keys: str) -> None:
    """Type keys to the page (not to a form field)."""
    from selenium.webdriver.common.action_chains import ActionChains

    for key in keys:
        ActionChains(driver).send_keys(key).perform()
