"""The review page without a browser: queue items, the decisions file, the server's guards
(CSRF, token, Host, headers), the read-only page and the command line."""

from __future__ import annotations

import builtins
import contextlib
import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from reviewing import Client, request, start_server, stop, write_queue

from kanalml import DataError
from kanalml.cli import main
from kanalml.labelled import read_decisions
from kanalml.review import DecisionLog, frame_items, guard, load_items, static_page

LABELS = ["ekstremisme", "radikalisme"]


def test_guard_defuses_spreadsheet_formulas() -> None:
    for cell in ("=1+1", "+62 812", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert guard(cell) == "'" + cell
    assert guard("thaghut =") == "thaghut =" and guard("") == ""


def test_items_from_a_queue_and_from_suggest_output(tmp_path) -> None:
    queue = write_queue(tmp_path / "q.csv", ["satu dua tiga", "empat lima enam"])
    items = load_items(queue)
    assert [i["key"] for i in items] == ["id:kanal/100", "id:kanal/101"]
    assert items[0]["evidence"] == ["thaghut", "khilafah"] and items[0]["flagged"] is True
    assert items[0]["score"] == pytest.approx(0.99) and items[0]["source"] == "kanal/100"
    suggest = pd.DataFrame({"suggest_rank": [1, 2], "channel": ["c", "c"],
                            "message_id": [7, None], "text": ["a b c", "d e f"],
                            "score": [0.5, 0.4], "label": "", "decided_at": ""})
    suggested = frame_items(suggest, "text")
    assert [i["key"] for i in suggested] == ["id:7", "text:d e f"]
    assert suggested[0]["source"] == "c/7" and suggested[1]["rank"] == 2


def test_decisions_file_is_what_train_feedback_reads_and_is_append_only(tmp_path) -> None:
    path = tmp_path / "d.csv"
    log = DecisionLog(path)
    first = {"key": "id:k/1", "message_id": "k/1", "text": "=HYPERLINK(\"http://x\")"}
    second = {"key": "text:- bubarkan", "message_id": "", "text": "- bubarkan"}
    log.append(first, 1, "ani")
    log.append(second, 0, "@budi")
    before = path.read_bytes()
    log.append(second, None, "@budi")  # undo: a new row
    assert path.read_bytes().startswith(before)
    log.close()
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["message_id", "text", "decided_at", "label", "reviewer"]
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")" and rows[2][4] == "'@budi"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    decisions = read_decisions(path, LABELS)
    assert decisions["message_id"].tolist() == ["k/1"]
    assert decisions["ekstremisme"].tolist() == [1] and decisions.attrs["withdrawn"] == 1
    again = DecisionLog(path)  # a restart resumes
    assert again.state == {"id:k/1": {"ani": 1}, "text:- bubarkan": {}}
    again.close()


def test_a_row_cut_by_a_crash_is_dropped_and_the_file_stays_readable(tmp_path) -> None:
    path = tmp_path / "d.csv"
    log = DecisionLog(path)
    log.append({"key": "id:a", "message_id": "a", "text": "x"}, 1, "ani")
    log.close()
    with open(path, "a", encoding="utf-8") as f:
        f.write("b,y,2026-11-01T00:00:00")  # killed mid-row
    log = DecisionLog(path)
    log.append({"key": "id:c", "message_id": "c", "text": "z"}, 0, "ani")
    log.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and lines[1].startswith("a,x,") and lines[2].startswith("c,z,")
    assert read_decisions(path, LABELS)["message_id"].tolist() == ["a", "c"]


def test_two_reviewers_disagreeing_are_listed(tmp_path) -> None:
    log = DecisionLog(tmp_path / "d.csv")
    item = {"key": "id:a", "message_id": "a", "text": "x"}
    log.append(item, 1, "ani")
    log.append(item, 0, "budi")
    log.append({"key": "id:b", "message_id": "b", "text": "y"}, 1, "ani")
    assert log.disagreements() == {"id:a": {"ani": 1, "budi": 0}}
    log.close()


def test_another_decisions_file_is_refused(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,label\n1,1\n")
    with pytest.raises(DataError, match=r"d.csv:1: not a review decisions file"):
        DecisionLog(path)


def test_static_page_keeps_data_out_of_markup() -> None:
    items = frame_items(pd.DataFrame({"text": ["</script><script>alert(1)</script> <!--"]}),
                        "text")
    page = static_page(items, "q<b>.html")
    data = page.split('id="queue-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and json.loads(data)["items"][0]["text"].startswith("</script>")
    assert "q&lt;b&gt;.html" in page and "<b>" not in page
    policy = re.search(r'Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    assert "unsafe-inline" not in policy and "http" not in page.split("<body", 1)[1]


# -- the server over HTTP ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    folder = tmp_path_factory.mktemp("served")
    queue = write_queue(folder / "q.csv", ["satu dua", "tiga empat"])
    process, url = start_server(queue, folder / "d.csv")
    yield Client(url), folder / "d.csv"
    stop(process)


def test_page_headers_forbid_inline_script_and_framing(served) -> None:
    client, _ = served
    status, headers, page = client()
    policy = headers["content-security-policy"]
    assert status == 200 and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and headers["x-content-type-options"] == "nosniff"
    assert '<script src="/static/review.js"></script>' in page
    assert client("static/review.js")[1]["content-type"].startswith("text/javascript")
    assert client("static/..%2F__init__.py")[0] == 404


def test_state_changes_need_the_csrf_token(served) -> None:
    client, decisions = served
    body = {"key": "id:kanal/100", "label": 1}
    assert client("api/decide", body)[0] == 403
    assert client("api/decide", body, {"X-CSRF-Token": "guess"})[0] == 403
    token = client.csrf()
    cross = client("api/decide", body, {"X-CSRF-Token": token, "Origin": "http://evil.example"})
    assert cross[0] == 403
    assert decisions.read_text().count("\n") == 1  # the header only
    status, _, saved = client.decide("id:kanal/100", 1, token)
    assert status == 200 and json.loads(saved)["reviewers"] == {"ani": 1}
    assert read_decisions(decisions, LABELS)["message_id"].tolist() == ["kanal/100"]
    assert client.decide("id:kanal/100", 2, token)[0] == 400
    assert client("api/undo", {"key": "id:nope"}, {"X-CSRF-Token": token})[0] == 404
    queue = json.loads(client("api/queue")[2])
    assert queue["decisions"] == {"id:kanal/100": {"ani": 1}} and len(queue["items"]) == 2


@pytest.fixture(scope="module")
def served_pid(tmp_path_factory):
    pytest.importorskip("starlette")
    folder = tmp_path_factory.mktemp("hostile")
    queue = write_queue(folder / "q.csv", ["satu dua", "tiga empat"])
    process, url = start_server(queue, folder / "d.csv")
    yield Client(url), folder / "d.csv", process.pid
    stop(process)


def test_loopback_server_refuses_other_host_names(served) -> None:
    client, _ = served
    assert client(headers={"Host": "attacker.example"})[0] == 421


def test_loopback_needs_the_token_too_then_a_cookie_for_this_port(served) -> None:
    client, _ = served
    assert len(client.token) >= 43  # 32 random bytes
    assert client(token=False)[0] == 403  # another account on this machine, no token
    assert client("api/queue", token=False)[0] == 403
    assert request(client.base + "?token=" + "x" * 43)[0] == 403
    status, headers, _ = request(client.base + "?token=" + client.token)
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"].split(";")[0]
    assert cookie == f"kanalml_token_{client.port}={client.token}"
    assert "samesite=strict" in headers["set-cookie"].lower()
    assert request(client.base + "api/queue", headers={"Cookie": cookie})[0] == 200


def raw(port: int, head: bytes, body: bytes = b"") -> tuple[int, float]:
    """(status, seconds) of a request written by hand on a socket; the body is sent only
    while the server reads it."""
    import socket
    import time

    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        with contextlib.suppress(OSError):
            sock.sendall(body)
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def post_head(client, csrf: str, extra: str = "", length: int | None = None) -> bytes:
    lines = ["POST /api/decide HTTP/1.1", f"Host: 127.0.0.1:{client.port}",
             f"Authorization: token {client.token}", f"X-CSRF-Token: {csrf}",
             "Content-Type: application/json", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + extra + "\r\n\r\n").encode("latin-1")


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:", 1)[1].split()[0])


def test_hostile_requests_are_refused_with_4xx_and_nothing_saved(served_pid) -> None:
    client, decisions, pid = served_pid
    csrf = client.csrf()
    before = decisions.read_bytes()
    rss = rss_kb(pid)
    # 100 MB announced: refused before a byte of it is read
    status, took = raw(client.port, post_head(client, csrf, length=100 << 20),
                       b"x" * (8 << 20))
    assert status == 413 and took < 5
    # no length given: the body is read only up to 64 KB
    chunk = b"%x\r\n%s\r\n" % (1 << 16, b"[" * (1 << 16))
    status, _ = raw(client.port, post_head(client, csrf, "\r\nTransfer-Encoding: chunked"),
                    chunk * 40)
    assert status == 413
    assert rss_kb(pid) - rss < 30_000
    deep = b"[" * 60_000 + b"]" * 60_000
    assert raw(client.port, post_head(client, csrf, length=len(deep)), deep)[0] == 413
    deep = b'{"key": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    assert raw(client.port, post_head(client, csrf, length=len(deep)), deep)[0] == 400
    for body in (b"\xff\xfe{}", b'{"key": "id:kanal/100", "label": 1', b"[1, 1]", b"null"):
        assert raw(client.port, post_head(client, csrf, length=len(body)), body)[0] == 400
    for label in (1.0, True, "1", None, 2, -0.0):
        assert client.decide("id:kanal/100", label, csrf)[0] == 400
    assert client.decide(["id:kanal/100"], 1, csrf)[0] == 400
    # non-ASCII token, cookie and CSRF header: refused, not a server error
    assert raw(client.port, post_head(client, "caf\xe9" + csrf, length=2), b"{}")[0] == 403
    head = post_head(client, csrf, length=2).replace(
        f"token {client.token}".encode(), "token \xe9t\xe9".encode("latin-1"))
    assert raw(client.port, head, b"{}")[0] == 403
    head = (f"GET /api/queue HTTP/1.1\r\nHost: 127.0.0.1:{client.port}\r\nCookie: "
            f"kanalml_token_{client.port}=\xe9\xe9\r\nConnection: close\r\n\r\n"
            ).encode("latin-1")
    assert raw(client.port, head)[0] == 403
    assert request(client.base + "api/queue?token=%C3%A9%FF")[0] == 403
    assert decisions.read_bytes() == before
    assert client.decide("id:kanal/101", 1, csrf)[0] == 200  # and the server is still up


def test_two_servers_on_one_store_show_each_others_decisions(tmp_path) -> None:
    pytest.importorskip("starlette")
    queue = write_queue(tmp_path / "q.csv", ["satu dua", "tiga empat"])
    ani, ani_url = start_server(queue, tmp_path / "d.sqlite", reviewer="ani")
    budi, budi_url = start_server(queue, tmp_path / "d.sqlite", reviewer="budi")
    try:
        a, b = Client(ani_url), Client(budi_url)
        assert a.decide("id:kanal/100", 1, a.csrf())[0] == 200
        status, _, answer = b.decide("id:kanal/100", 0, b.csrf())
        assert status == 200 and json.loads(answer)["reviewers"] == {"ani": 1, "budi": 0}
        assert b.decide("id:kanal/101", 1, b.csrf())[0] == 200
        for client in (a, b):
            assert json.loads(client("api/queue")[2])["decisions"] == {
                "id:kanal/100": {"ani": 1, "budi": 0}, "id:kanal/101": {"budi": 1}}
    finally:
        stop(ani)
        stop(budi)
    assert len((tmp_path / "d.csv").read_text().splitlines()) == 4


def test_a_failed_write_answers_503_and_the_server_stays_up(tmp_path, monkeypatch) -> None:
    pytest.importorskip("starlette")
    import errno
    import os
    import threading

    import uvicorn

    from kanalml.review import DecisionStore, load_items, server

    queue = write_queue(tmp_path / "q.csv", ["satu dua", "tiga empat"])
    store = DecisionStore(tmp_path / "d.sqlite")
    sock = server.bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    token = server.new_token()
    app = server.create_app(load_items(queue), store, name="q.csv", reviewer="ani", token=token,
                            hosts=server.allowed_hosts("127.0.0.1", port))
    running = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        client = Client(f"http://127.0.0.1:{port}/?token={token}")
        for _ in range(100):
            if running.started:
                break
            threading.Event().wait(0.05)
        csrf = client.csrf()
        real_write = os.write

        def full(fd: int, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "write", full)
        status, _, text = client.decide("id:kanal/100", 1, csrf)
        assert status == 503 and "not saved" in text and "No space left" in text
        monkeypatch.setattr(os, "write", real_write)
        assert json.loads(client("api/queue")[2])["decisions"] == {}
        assert client.decide("id:kanal/101", 0, csrf)[0] == 200
        rows = read_decisions(tmp_path / "d.csv", LABELS)
        assert rows["message_id"].tolist() == ["kanal/101"]
    finally:
        running.should_exit = True
        thread.join(10)
        store.close()


# -- the command line -------------------------------------------------------------------------

def test_review_without_the_extra_says_how_to_install_it(tmp_path, monkeypatch, capsys) -> None:
    real_import = builtins.__import__

    def no_starlette(name, *args, **kwargs):
        if name.startswith(("starlette", "uvicorn")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(__import__("sys").modules, "kanalml.review.server", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_starlette)
    queue = write_queue(tmp_path / "q.csv", ["satu dua"])
    assert main(["review", str(queue), "--no-browser"]) == 2
    assert 'pip install "kanalml[review]"' in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_non_loopback_host_without_token_is_refused(tmp_path, capsys, host) -> None:
    pytest.importorskip("starlette")
    queue = write_queue(tmp_path / "q.csv", ["satu dua"])
    assert main(["review", str(queue), "--host", host, "--no-browser"]) == 2
    assert "--token" in capsys.readouterr().err
    assert not (tmp_path / "q.decisions.csv").exists()
    assert not (tmp_path / "q.decisions.sqlite").exists()


def test_all_interfaces_with_a_token_prints_it_and_requires_it(tmp_path) -> None:
    pytest.importorskip("starlette")
    queue = write_queue(tmp_path / "q.csv", ["satu dua"])
    process, url = start_server(queue, tmp_path / "d.csv", "--host", "0.0.0.0", "--token")
    try:
        token = url.split("?token=")[1]
        assert len(token) >= 24
        local = f"http://127.0.0.1:{url.split(':')[2].split('/')[0]}/"
        assert request(local)[0] == 403
        assert request(local + "api/queue?token=wrong")[0] == 403
        status, headers, _ = request(local + f"?token={token}")
        assert status == 303 and headers["location"] == "/"  # the token leaves the address bar
        assert "httponly" in headers["set-cookie"].lower()
        cookie = headers["set-cookie"].split(";")[0]
        assert request(local + "api/queue", headers={"Cookie": cookie})[0] == 200
    finally:
        stop(process)


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0", "--token", "a"], "at least 22 characters"),
    (["--token", "x" * 21], "at least 22 characters"),
    (["--token", "é" * 30], "at least 22 characters"),
    (["--host", "0.0.0.0", "--no-token"], "--no-token is refused with --host 0.0.0.0"),
    (["--token", "x" * 30, "--no-token"], "not allowed with argument"),
])
def test_weak_or_no_token_where_it_matters_is_refused(tmp_path, capsys, args, message) -> None:
    pytest.importorskip("starlette")
    queue = write_queue(tmp_path / "q.csv", ["satu dua"])
    with contextlib.suppress(SystemExit):
        assert main(["review", str(queue), "--no-browser", *args]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.csv"]


def test_no_token_by_explicit_choice_on_loopback(tmp_path) -> None:
    queue = write_queue(tmp_path / "q.csv", ["satu dua"])
    process, url = start_server(queue, tmp_path / "d.csv", "--no-token")
    try:
        assert "token" not in url
        assert request(url)[0] == 200 and request(url + "api/queue")[0] == 200
    finally:
        stop(process)


def test_ctrl_c_says_where_the_decisions_are_and_exits_0(tmp_path) -> None:
    import signal

    queue = write_queue(tmp_path / "q.csv", ["satu dua", "tiga empat"])
    process, url = start_server(queue, tmp_path / "d.csv")
    client = Client(url)
    assert client.decide("id:kanal/100", 1, client.csrf())[0] == 200
    process.send_signal(signal.SIGINT)
    assert process.wait(20) == 0
    assert process.stderr is not None
    err = process.stderr.read()
    assert "no output was written" not in err and "Traceback" not in err
    assert f"1 row(s) in {tmp_path / 'd.sqlite'}, exported to {tmp_path / 'd.csv'}" in err


@pytest.mark.parametrize("stop_by", ["return", "ctrl-c"])
def test_browser_opens_a_private_redirect_page_not_the_token_url(tmp_path, monkeypatch, capsys,
                                                                 stop_by) -> None:
    pytest.importorskip("starlette")
    import os
    import stat
    import webbrowser
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    from kanalml.review import server

    opened: list[str] = []
    seen: dict[str, object] = {}

    def serve(app, sock) -> None:  # the page exists, private, while the server runs
        page = Path(url2pathname(urlparse(opened[0]).path))
        seen.update(page=page, mode=stat.S_IMODE(page.stat().st_mode),
                    folder=stat.S_IMODE(page.parent.stat().st_mode),
                    text=page.read_text(encoding="utf-8"))
        sock.close()
        if stop_by == "ctrl-c":
            raise KeyboardInterrupt

    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url) or True)
    monkeypatch.setattr(server, "serve", serve)
    queue = write_queue(tmp_path / "q.csv", ["satu dua"])
    assert main(["review", str(queue), "--decisions", str(tmp_path / "d.csv"),
                 "--port", "0"]) == 0
    url = re.search(r"kanalml: open (\S+)", capsys.readouterr().err).group(1)
    token = url.split("?token=")[1]
    assert len(token) >= 22
    assert len(opened) == 1 and opened[0].startswith("file://") and token not in opened[0]
    if os.name == "posix":
        assert seen["mode"] == 0o600 and seen["folder"] == 0o700
    text = str(seen["text"])
    assert f'content="0;url={url}"' in text and f'href="{url}"' in text
    assert "<script" not in text and "src=" not in text
    assert not Path(str(seen["page"])).exists() and not Path(str(seen["page"])).parent.exists()


def test_no_start_page_means_no_browser_not_no_server(tmp_path, monkeypatch, capsys) -> None:
    pytest.importorskip("starlette")
    import errno
    import tempfile
    import webbrowser

    from kanalml.review import server

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    served: list[bool] = []
    monkeypatch.setattr(tempfile, "mkdtemp", full)
    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: pytest.fail("a browser was opened"))
    monkeypatch.setattr(server, "serve", lambda app, sock: served.append(True) or sock.close())
    queue = write_queue(tmp_path / "q.csv", ["satu dua"])
    assert main(["review", str(queue), "--decisions", str(tmp_path / "d.csv"),
                 "--port", "0"]) == 0
    assert served == [True]
    assert "no browser opened (its start page cannot be written: [Errno 28] No space left" \
        in capsys.readouterr().err


def test_redirect_page_escapes_the_url() -> None:
    pytest.importorskip("starlette")
    from kanalml.review import server

    with server.redirect_page('http://127.0.0.1:1/?token=a"b<c>&d') as page:
        text = page.read_text(encoding="utf-8")
    assert 'a&quot;b&lt;c&gt;&amp;d' in text and 'a"b' not in text and "<c>" not in text
    assert not page.exists()


def test_review_of_a_missing_queue_is_a_one_line_error(tmp_path, capsys) -> None:
    pytest.importorskip("starlette")
    assert main(["review", str(tmp_path / "nope.csv"), "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert "nope.csv" in err and "Traceback" not in err and err.count("\n") == 1


def test_rank_writes_a_read_only_html_page(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    pd.DataFrame({"channel": ["a", "b"], "message_id": [1, 2],
                  "text": ["<img src=x onerror=alert(1)> bubarkan thaghut sekarang",
                           "cuaca cerah hari ini di jakarta"]}).to_csv(src, index=False)
    out = tmp_path / "queue.html"
    assert main(["rank", str(src), "-o", str(out), "--quiet"]) == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<img src=x" not in page
    assert 'data-mode="static"' in page and "a/1" in page


# -- the full loop: rank -> review -> train --feedback -> models compare ------------------------

def test_rank_review_train_feedback_compare_end_to_end(tmp_path, capsys) -> None:
    pytest.importorskip("starlette")
    from conftest import NEGATIVE_LIKE, POSITIVE_LIKE, make_corpus

    texts, labels = make_corpus()
    labelled = tmp_path / "labelled.csv"
    pd.DataFrame({"text": texts, **labels}).to_csv(labelled, index=False)
    assert main(["train", str(labelled), "-o", str(tmp_path / "v1"), "--folds", "3",
                 "--quiet"]) == 0
    export = tmp_path / "export.csv"
    posts = [*POSITIVE_LIKE, *NEGATIVE_LIKE]
    pd.DataFrame({"channel": "kanal", "message_id": range(1, len(posts) + 1),
                  "text": posts}).to_csv(export, index=False)
    queue = tmp_path / "queue.csv"
    assert main(["rank", str(export), "--model", str(tmp_path / "v1"), "-o", str(queue),
                 "--quiet"]) == 0

    decisions = tmp_path / "decisions.csv"
    process, url = start_server(queue, decisions)
    try:
        client = Client(url)
        token = client.csrf()
        items = json.loads(client("api/queue")[2])["items"]
        for item in items:  # the moderator's verdict: the radical wordings are extremist
            label = int(item["text"] in POSITIVE_LIKE)
            status, _, _ = client.decide(item["key"], label, token)
            assert status == 200
    finally:
        stop(process)

    assert main(["train", str(labelled), "-o", str(tmp_path / "v2"), "--folds", "3", "--quiet",
                 "--feedback", str(decisions), "--labels", "radikalisme,promosi"]) == 0
    meta = json.loads((tmp_path / "v2" / "metadata.json").read_text())
    assert meta["feedback"]["decisions"] == len(posts) and meta["feedback"]["added"] == len(posts)
    held_out = tmp_path / "held_out.csv"
    pd.DataFrame({"text": posts, "radikalisme": [1] * 6 + [0] * 6,
                  "promosi": [0] * 12}).to_csv(held_out, index=False)
    capsys.readouterr()
    assert main(["models", "compare", str(tmp_path / "v1"), str(tmp_path / "v2"),
                 str(held_out), "--labels", "radikalisme"]) == 0
    assert "v2 - v1" in capsys.readouterr().out
