"""Helpers for the review page's tests and benchmark: queue files, the server as a subprocess,
and Debian's headless Chromium driven by Selenium (never a downloaded browser)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
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


def request(url: str, body: dict | bytes | None = None, headers: dict | None = None
            ) -> tuple[int, dict, str]:
    """(status, headers, text) of a GET, or of a JSON POST when ``body`` is given (bytes: sent
    as they are). Redirects are not followed."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    call = urllib.request.Request(url, data=data, headers={
        **({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})})
    try:
        with urllib.request.build_opener(NoRedirect).open(call, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, \
                answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, \
            error.read().decode()


class Client:
    """Requests to a server started by :func:`start_server`, with the access token it printed
    (as an ``Authorization: token`` header) unless ``token`` is False."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.base = f"{parts.scheme}://{parts.netloc}/"
        self.token = urllib.parse.parse_qs(parts.query).get("token", [""])[0]
        self.port = parts.port

    def __call__(self, path: str = "", body: dict | bytes | None = None,
                 headers: dict | None = None, token: bool = True) -> tuple[int, dict, str]:
        auth = {"Authorization": f"token {self.token}"} if token and self.token else {}
        return request(self.base + path, body, {**auth, **(headers or {})})

    def csrf(self) -> str:
        page = self()[2]
        found = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert found, page
        return found.group(1)

    def decide(self, key: str, label: Any, csrf: str) -> tuple[int, dict, str]:
        return self("api/decide", {"key": key, "label": label}, {"X-CSRF-Token": csrf})


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
