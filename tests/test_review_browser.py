"""The review page in a real browser: Debian's headless Chromium driven by Selenium.

Skipped, with the reason, where Chromium, chromedriver, Selenium or the review extra is
missing; .ci/run installs them all so these run in CI.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from reviewing import browser_missing, chromium, press, start_server, stop, wait_for, write_queue

from kanalml.labelled import read_decisions

LABELS = ["ekstremisme"]
TEXTS = [f"Seruan nomor {i}: tegakkan khilafah, lawan thaghut sekarang juga" for i in range(8)]
XSS = [
    "<script>window.pwned = 1; alert('script')</script> bubarkan thaghut",
    "<img src=x onerror=\"window.pwned = 2; alert('img')\"> khilafah",
    "<a href=\"javascript:window.pwned=3;alert('link')\">klik di sini</a> jihad",
    "harga \u202egnp.exe\u202c cabai naik",
]


@pytest.fixture(scope="module")
def browser():
    why = browser_missing()
    if why:
        pytest.skip(f"browser tests need Chromium, chromedriver, Selenium and the review extra: "
                    f"{why}")
    with chromium() as driver:
        yield driver


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait_for(driver, "document.body.dataset.ready === '1'")


def saved_count(driver) -> int:
    return driver.execute_script(
        "return document.querySelectorAll('.decision.d0, .decision.d1').length")


def test_review_five_items_by_keyboard(browser, tmp_path) -> None:
    queue = write_queue(tmp_path / "q.csv", TEXTS)
    decisions = tmp_path / "d.csv"
    process, url = start_server(queue, decisions)
    try:
        open_page(browser, url)
        assert browser.find_element("id", "counter").text == "0 of 8 reviewed"
        # 1: #1 extremist; 0: #2 not; s: skip #3; 1: #4; j k: move down and back to #5;
        # 0: #5 not; u: undo #5; 1: #5 extremist after all; 1: #6
        press(browser, "10s1jk0")
        wait_for(browser, "document.getElementById('counter').textContent === '4 of 8 reviewed'")
        press(browser, "u")
        wait_for(browser, "document.getElementById('status').textContent.startsWith('undone')")
        press(browser, "11")
        wait_for(browser, "document.getElementById('counter').textContent === '5 of 8 reviewed'")
        marks = browser.execute_script(
            "return [...document.querySelectorAll('.item')].slice(0, 7)"
            ".map(n => n.querySelector('.decision').textContent)")
        assert marks[:6] == ["extremist · saved", "not extremist · saved", "undecided",
                             "extremist · saved", "extremist · saved", "extremist · saved"]
        assert "reviewed items cover" in browser.find_element("id", "coverage").text
    finally:
        stop(process)
    rows = decisions.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 7  # header, 6 decisions and 1 undo: nothing rewritten
    assert [r.split(",")[0] for r in rows[1:]] == [
        "kanal/100", "kanal/101", "kanal/103", "kanal/104", "kanal/104", "kanal/104",
        "kanal/105"]
    assert all(r.endswith(",ani") for r in rows[1:])
    read = read_decisions(decisions, LABELS).set_index("message_id")["ekstremisme"]
    assert read.to_dict() == {"kanal/100": 1, "kanal/101": 0, "kanal/103": 1, "kanal/104": 1,
                              "kanal/105": 1}


def test_sigkill_mid_session_then_restart_shows_every_decision(browser, tmp_path) -> None:
    queue = write_queue(tmp_path / "q.csv", TEXTS)
    decisions = tmp_path / "d.csv"
    process, url = start_server(queue, decisions)
    try:
        open_page(browser, url)
        press(browser, "101")
        wait_for(browser, "document.getElementById('counter').textContent === '3 of 8 reviewed'")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        stop(process)
    process, url = start_server(queue, decisions)
    try:
        open_page(browser, url)
        assert browser.find_element("id", "counter").text == "3 of 8 reviewed"
        assert saved_count(browser) == 3
        press(browser, "jjj0")  # the session goes on where it was
        wait_for(browser, "document.getElementById('counter').textContent === '4 of 8 reviewed'")
    finally:
        stop(process)
    assert len(read_decisions(decisions, LABELS)) == 4


def test_two_reviewers_disagreeing_are_listed_on_the_page(browser, tmp_path) -> None:
    queue = write_queue(tmp_path / "q.csv", TEXTS)
    decisions = tmp_path / "d.csv"
    for reviewer, keys in (("ani", "1"), ("budi", "0")):
        process, url = start_server(queue, decisions, reviewer=reviewer)
        try:
            open_page(browser, url)
            press(browser, keys)
            wait_for(browser, "document.getElementById('status').textContent"
                              ".startsWith('saved')")
        finally:
            stop(process)
    process, url = start_server(queue, decisions, reviewer="ani")
    try:
        open_page(browser, url)
        listed = browser.find_element("id", "disagreements")
        assert listed.is_displayed()
        assert "#1" in listed.text and "budi: not extremist" in listed.text
        assert "ani (you): extremist" in listed.text
    finally:
        stop(process)


def assert_payloads_inert(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    assert driver.execute_script("return window.pwned") is None
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    texts = driver.execute_script(
        "return [...document.querySelectorAll('.item .text')].map(n => n.textContent)")
    assert any("<script>window.pwned = 1" in t for t in texts)
    assert any("<img src=x onerror=" in t for t in texts)
    assert any("javascript:window.pwned=3" in t for t in texts)
    assert any("U+202E" in t for t in texts)  # the override is shown, not obeyed
    counts = driver.execute_script(
        "const q = (s) => document.querySelectorAll('main ' + s).length;"
        "return [q('script'), q('img'), q('a'), q('[onerror]')]")
    assert counts == [0, 0, 0, 0]


def test_xss_payloads_run_nothing_and_show_as_text(browser, tmp_path) -> None:
    queue = write_queue(tmp_path / "q.csv", XSS, channel="<b>kanal</b>")
    process, url = start_server(queue, tmp_path / "d.csv")
    try:
        open_page(browser, url)
        assert_payloads_inert(browser)
        press(browser, "1")  # a decision round trip with the payload in the file
        wait_for(browser, "document.getElementById('status').textContent.startsWith('saved')")
        assert_payloads_inert(browser)
    finally:
        stop(process)


def test_read_only_html_renders_offline_with_text_escaped(browser, tmp_path) -> None:
    queue = write_queue(tmp_path / "q.csv", [*XSS, *TEXTS])
    page = tmp_path / "queue.html"
    from kanalml.review import load_items, write_static_page

    write_static_page(load_items(queue), page, name="queue.html")
    browser.set_network_conditions(offline=True, latency=0, throughput=0)
    try:
        open_page(browser, page.as_uri())
        assert browser.execute_script("return document.querySelectorAll('.item').length") == 12
        assert_payloads_inert(browser)
        assert browser.find_element("id", "readonly").is_displayed()
        press(browser, "jj1")  # keys move; nothing is decided in a read-only copy
        assert saved_count(browser) == 0
        requests = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert requests == []
    finally:
        browser.delete_network_conditions()


def test_non_loopback_host_without_token_is_refused_before_serving(tmp_path) -> None:
    pytest.importorskip("starlette")
    queue = write_queue(tmp_path / "q.csv", TEXTS)
    done = subprocess.run([sys.executable, "-m", "kanalml", "review", str(queue), "--host",
                           "0.0.0.0", "--port", "0", "--no-browser"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--token" in done.stderr
    assert "open http" not in done.stderr and "Traceback" not in done.stderr
