"""What every command does with its outputs: one policy for existing outputs (refused unless
--force, then replaced and said so), full headers on empty queues, an item shown as its earliest
copy, rounded tables, categories only on flagged posts, and one progress bar for a person."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO_EXPORT, make_corpus

from kanalml.cli import main

BASE = ("Wahai ikhwan, thaghut negeri ini wajib diperangi. Bangkitlah, jihad fardhu 'ain atas "
        "kalian semua sekarang juga!")


def run_on_a_terminal(*argv: str, cwd: Path) -> tuple[int, str]:
    """``kanalml ARGV`` with stderr on a pseudo-terminal, as a person runs it: (status, stderr)."""
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # rows, columns
    proc = subprocess.Popen([sys.executable, "-m", "kanalml", *argv], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=slave,
                            env={**os.environ, "COLUMNS": "120"})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(), b"".join(chunks).decode("utf-8", "replace")


# -- one policy for existing outputs ------------------------------------------------------------

def test_every_command_refuses_an_existing_output_unless_force(tmp_path, capsys) -> None:
    texts, labels = make_corpus(1)
    data = tmp_path / "labelled.csv"
    pd.DataFrame({"text": texts, **labels}).to_csv(data, index=False)
    model = tmp_path / "model"
    assert main(["train", str(data), "-o", str(model), "--folds", "3", "-q"]) == 0
    known = tmp_path / "known"
    assert main(["known", "add", str(known), str(data), "--added-by", "tim", "--all-confirmed",
                 "-q"]) == 0
    outputs = {
        "score": (["score", str(DEMO_EXPORT), "-q", "-o"], tmp_path / "scored.csv"),
        "rank": (["rank", str(DEMO_EXPORT), "-q", "-o"], tmp_path / "queue.csv"),
        "rank html": (["rank", str(DEMO_EXPORT), "-q", "-o"], tmp_path / "queue.html"),
        "channels": (["rank", str(DEMO_EXPORT), "-q", "--channels"], tmp_path / "ch.csv"),
        "suggest": (["suggest", str(DEMO_EXPORT), "-n", "3", "-q", "-o"], tmp_path / "s.csv"),
        "train": (["train", str(data), "--folds", "3", "-q", "-o"], model),
        "evaluate": (["evaluate", "--model", str(model), str(data), "-q", "-o"],
                     tmp_path / "report"),
        "known export": (["known", "export", str(known), "-q", "-o"], tmp_path / "shared"),
        "known merge": (["known", "merge", str(known), str(known), "-q", "-o"],
                        tmp_path / "merged"),
    }
    for name, (argv, target) in outputs.items():
        if not target.exists():
            assert main([*argv, str(target)]) == 0, name
        before = {p: p.stat().st_mtime_ns for p in [target, *target.rglob("*")]}
        capsys.readouterr()
        assert main([*argv, str(target)]) == 1, name
        err = capsys.readouterr().err
        assert f"{target}: exists" in err and "--force" in err, (name, err)
        assert err.count("\n") == 1 and "Traceback" not in err
        assert {p: p.stat().st_mtime_ns for p in [target, *target.rglob("*")]} == before, name
        argv = [a for a in argv if a != "-q"]
        assert main([*argv, str(target), "--force"]) == 0, name
        assert f"replaced {target}" in capsys.readouterr().err, name
    # a replaced model or report is the new one, whole
    assert sorted(p.name for p in model.iterdir()) == sorted(
        [*json.loads((model / "manifest.json").read_text())["files"], "manifest.json"])
    assert (tmp_path / "report" / "report.html").is_file()
    # no staging left (a known list's writer lock, .NAME.lock, stays by design)
    assert not [p for p in tmp_path.iterdir()
                if p.name.startswith(".") and not p.name.endswith(".lock")]


# -- queues -------------------------------------------------------------------------------------

def test_an_all_private_export_gives_a_queue_with_the_full_header(tmp_path) -> None:
    export = {"chats": {"list": [
        {"name": "Budi", "type": "personal_chat", "id": 1,
         "messages": [{"id": 1, "type": "message", "date": "2026-11-01T10:00:00",
                       "from": "Budi", "text": "halo"}]}]}}
    src = tmp_path / "result.json"
    src.write_text(json.dumps(export), encoding="utf-8")
    out = tmp_path / "queue.csv"
    assert main(["rank", str(src), "-o", str(out), "-q"]) == 0
    header = out.read_text(encoding="utf-8").splitlines()
    assert len(header) == 1
    columns = header[0].split(",")
    for name in ("rank", "score", "ekstremisme", "category", "flagged", "text", "evidence",
                 "copies", "source", "message_ids"):
        assert name in columns, name


def test_a_collapsed_item_shows_its_earliest_copy(tmp_path) -> None:
    posts = pd.DataFrame({
        "channel": ["gema", "gema", "forwarder_one", "forwarder_two"],
        "message_id": [7, 3, 12, 40],
        "date": ["2026-11-04T10:00", "2026-11-01T08:00", "2026-11-02T09:00",
                 "2026-11-03T12:00"],
        "text": [BASE.upper() + "  🔥🔥", BASE, "FWD: " + BASE, BASE + " 🔥"]})
    src = tmp_path / "posts.csv"
    posts.to_csv(src, index=False)
    out = tmp_path / "queue.csv"
    assert main(["rank", str(src), "-o", str(out), "-q"]) == 0
    queue = pd.read_csv(out, dtype=str)
    assert len(queue) == 1
    item = queue.iloc[0]
    assert item["text"] == BASE
    assert item["source"] == "gema/3"
    assert item["message_ids"] == "gema/3; forwarder_one/12; forwarder_two/40; gema/7"
    assert item["copies"] == "4"


def test_tables_a_person_reads_are_rounded(tmp_path) -> None:
    channels = tmp_path / "channels.csv"
    assert main(["rank", str(DEMO_EXPORT), "-o", str(tmp_path / "q.csv"), "--channels",
                 str(channels), "-q"]) == 0
    lines = channels.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        assert re.fullmatch(r"\d+", row["posts"]) and re.fullmatch(r"\d+", row["flagged_posts"])
        for name in ("flagged_share", "max_score", "mean_score"):
            assert re.fullmatch(r"\d(\.\d{1,4})?", row[name]), (name, row[name])


def test_category_only_on_flagged_posts_in_queue_and_pages(tmp_path) -> None:
    from kanalml.review import load_items

    queue = tmp_path / "queue.csv"
    assert main(["rank", str(DEMO_EXPORT), "-o", str(queue), "-q"]) == 0
    frame = pd.read_csv(queue)
    assert frame["flagged"].any() and not frame["flagged"].all()
    assert frame.loc[frame["flagged"], "category"].notna().all()
    assert frame.loc[~frame["flagged"], "category"].isna().all()
    items = load_items(queue)
    assert all((item["category"] is not None) == bool(item["flagged"]) for item in items)
    # an older queue or suggest output with a category on every row: the page drops it
    frame.assign(category="rekrutmen").to_csv(tmp_path / "old.csv", index=False)
    assert {i["category"] for i in load_items(tmp_path / "old.csv") if not i["flagged"]} == {None}
    page = tmp_path / "queue.html"
    assert main(["rank", str(DEMO_EXPORT), "-o", str(page), "-q"]) == 0
    data = json.loads(page.read_text(encoding="utf-8").split('id="queue-data">', 1)[1]
                      .split("</script>", 1)[0])
    assert all((i["category"] is not None) == bool(i["flagged"]) for i in data["items"])
    # the API keeps the category of every post
    import kanalml

    scored = kanalml.score(pd.read_csv(DEMO_EXPORT)["text"])
    assert scored["category"].notna().all() and not scored["flagged"].all()


# -- progress -----------------------------------------------------------------------------------

def test_one_progress_bar_with_the_total_on_a_terminal(tmp_path) -> None:
    src = tmp_path / "posts.csv"
    text = DEMO_EXPORT.read_text(encoding="utf-8")
    src.write_text(text + 'x,1,2026-11-02,"a","b","c","d"\n', encoding="utf-8")  # rejected
    rows = len(pd.read_csv(DEMO_EXPORT))
    status, err = run_on_a_terminal("rank", str(src), "-o", "queue.csv", cwd=tmp_path)
    assert status == 0, err
    bars = [s for s in re.split(r"[\r\n]", err) if " rows" in s and "|" in s]
    assert bars, err
    totals = [m.group(1) for s in bars for m in [re.search(r"\d+/(\d+) ", s)] if m]
    # one bar, its total the file's records from the start (not lines: 0/66 for 60 posts)
    assert set(totals[:-1]) == {str(rows + 1)}, err
    assert "100%" in bars[-1] and f"{rows}/{rows}" in bars[-1]  # the rejected row never came
    # the reader's warning sits on its own line above the bar, not glued to it
    assert re.search(r"(^|\n|\r)kanalml: warning: .*malformed", err), err


def telegram_export(posts: pd.DataFrame) -> str:
    """The posts as a full-account Telegram Desktop export: a public channel per channel, each
    with a service message, and a private group that is never read."""
    chats = [{"name": "Keluarga", "type": "private_group", "id": 1, "messages": [
        {"id": i, "type": "message", "date": "2026-11-01T08:00:00", "text": "pesan pribadi"}
        for i in range(1, 8)]}]
    for number, (channel, group) in enumerate(posts.groupby("channel", sort=False), 2):
        messages = [{"id": 1, "type": "service", "date": "2026-11-01T07:00:00",
                     "action": "pin_message", "text": ""}]
        messages += [{"id": int(row.message_id), "type": "message", "date": row.date,
                      "views": int(row.views), "text": row.text} for row in group.itertuples()]
        chats.append({"name": channel, "type": "public_channel", "id": number,
                      "messages": messages})
    return json.dumps({"about": "ekspor", "chats": {"about": "obrolan", "list": chats}},
                      indent=1, ensure_ascii=False)


def bars_of(err: str) -> list[str]:
    return [s for s in re.split(r"[\r\n]", err) if " rows" in s and "|" in s]


def test_a_telegram_export_gets_a_bar_with_its_public_messages_as_total(tmp_path) -> None:
    posts = pd.read_csv(DEMO_EXPORT)
    (tmp_path / "result.json").write_text(telegram_export(posts), encoding="utf-8")
    status, err = run_on_a_terminal("rank", "result.json", "-o", "queue.csv", cwd=tmp_path)
    assert status == 0, err
    bars = bars_of(err)
    totals = [m.group(1) for s in bars for m in [re.search(r"\d+/(\d+) ", s)] if m]
    # from the first bar: the public messages, not the private group's nor the service ones
    assert totals and set(totals) == {str(len(posts))}, err
    assert "100%" in bars[-1] and f"{len(posts)}/{len(posts)}" in bars[-1]


def test_a_bar_whose_total_falls_short_still_ends_at_100_percent(tmp_path) -> None:
    posts = pd.read_csv(DEMO_EXPORT)
    # 5 public messages typed with a space before the colon: rows, missed by the byte count
    private, public = telegram_export(posts).split('"public_channel"', 1)
    text = private + '"public_channel"' + public.replace('"type": "message"',
                                                        '"type" : "message"', 5)
    (tmp_path / "result.json").write_text(text, encoding="utf-8")
    status, err = run_on_a_terminal("score", "result.json", "-o", "scored.csv",
                                    "--chunk-rows", "7", cwd=tmp_path)
    assert status == 0, err
    bars = bars_of(err)
    totals = {m.group(1) for s in bars[:-1] for m in [re.search(r"\d+/(\d+) ", s)] if m}
    assert totals == {str(len(posts) - 5)}, err  # the estimate, 5 short
    percents = [int(p) for s in bars for p in re.findall(r"(\d+)%", s)]
    assert percents and max(percents) <= 100, err  # past the total: a count, never 120%
    assert "100%" in bars[-1] and f"{len(posts)}/{len(posts)}" in bars[-1], err
    assert len(pd.read_csv(tmp_path / "scored.csv")) == len(posts)


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "kanalml", "rank", str(DEMO_EXPORT), "-o",
                           str(tmp_path / "q.csv"), "--budget", "5"], capture_output=True,
                          text=True)
    assert done.returncode == 0
    assert "rows/s" not in done.stderr and "%|" not in done.stderr
    assert done.stderr.startswith("kanalml: the first 5 items cover")  # only the summary


# -- small rough edges --------------------------------------------------------------------------

def test_a_number_option_given_a_word_says_what_it_expects(capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["rank", str(DEMO_EXPORT), "--budget", "abc"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--budget: expected a whole number of at least 1, got 'abc'" in err
    assert "_positive_int" not in err
    with pytest.raises(SystemExit):
        main(["rank", str(DEMO_EXPORT), "--threshold", "hoch"])
    assert "expected a number between 0 and 1, got 'hoch'" in capsys.readouterr().err


def test_reviewing_the_html_page_names_it_as_read_only_output(tmp_path, capsys) -> None:
    page = tmp_path / "queue.html"
    assert main(["rank", str(DEMO_EXPORT), "-o", str(page), "-q"]) == 0
    assert main(["review", str(page), "--no-browser"]) in (1, 2)
    err = capsys.readouterr().err
    if "review extra" not in err:  # without starlette the command stops before reading
        assert f"{page}: an HTML page" in err and "read-only" in err
        assert "no text column" not in err and "Traceback" not in err
    assert main(["score", str(page)]) == 1
    assert "read-only page" in capsys.readouterr().err
