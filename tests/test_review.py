"""The review page without a browser: queue items, the decisions file, the server's guards
(CSRF, token, Host, headers), the read-only page and the command line."""

from __future__ import annotations

import builtins
import csv
import json
import re
import urllib.error
import urllib.request

import pandas as pd
import pytest
from reviewing import start_server, stop, write_queue

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

def request(url: str, body: dict | None = None, headers: dict | None = None
            ) -> tuple[int, dict, str]:
    """(status, headers, text) of a GET, or of a JSON POST when ``body`` is given."""
    data = None if body is None else json.dumps(body).encode()
    call = urllib.request.Request(url, data=data, headers={
        **({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(call, timeout=10) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, \
                answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, \
            error.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    pytest.importorskip("starlette")
    pytest.importorskip("uvicorn")
    folder = tmp_path_factory.mktemp("served")
    queue = write_queue(folder / "q.csv", ["satu dua", "tiga empat"])
    process, url = start_server(queue, folder / "d.csv")
    yield url, folder / "d.csv"
    stop(process)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_page_headers_forbid_inline_script_and_framing(served) -> None:
    url, _ = served
    status, headers, page = request(url)
    policy = headers["content-security-policy"]
    assert status == 200 and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and headers["x-content-type-options"] == "nosniff"
    assert '<script src="/static/review.js"></script>' in page
    assert request(url + "static/review.js")[1]["content-type"].startswith("text/javascript")
    assert request(url + "static/..%2F__init__.py")[0] == 404


def test_state_changes_need_the_csrf_token(served) -> None:
    url, decisions = served
    body = {"key": "id:kanal/100", "label": 1}
    assert request(url + "api/decide", body)[0] == 403
    assert request(url + "api/decide", body, {"X-CSRF-Token": "guess"})[0] == 403
    token = csrf_of(request(url)[2])
    cross = request(url + "api/decide", body, {"X-CSRF-Token": token,
                                               "Origin": "http://evil.example"})
    assert cross[0] == 403
    assert decisions.read_text().count("\n") == 1  # the header only
    status, _, saved = request(url + "api/decide", body, {"X-CSRF-Token": token})
    assert status == 200 and json.loads(saved)["reviewers"] == {"ani": 1}
    assert read_decisions(decisions, LABELS)["message_id"].tolist() == ["kanal/100"]
    bad = request(url + "api/decide", {"key": "id:kanal/100", "label": 2},
                  {"X-CSRF-Token": token})
    assert bad[0] == 400
    assert request(url + "api/undo", {"key": "id:nope"}, {"X-CSRF-Token": token})[0] == 404
    queue = json.loads(request(url + "api/queue")[2])
    assert queue["decisions"] == {"id:kanal/100": {"ani": 1}} and len(queue["items"]) == 2


def test_loopback_server_refuses_other_host_names(served) -> None:
    url, _ = served
    assert request(url, headers={"Host": "attacker.example"})[0] == 421


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
        assert status == 200 and "httponly" in headers["set-cookie"].lower()
        cookie = headers["set-cookie"].split(";")[0]
        assert request(local + "api/queue", headers={"Cookie": cookie})[0] == 200
    finally:
        stop(process)


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
        token = csrf_of(request(url)[2])
        items = json.loads(request(url + "api/queue")[2])["items"]
        for item in items:  # the moderator's verdict: the radical wordings are extremist
            label = int(item["text"] in POSITIVE_LIKE)
            status, _, _ = request(url + "api/decide", {"key": item["key"], "label": label},
                                   {"X-CSRF-Token": token})
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
