"""Label Studio both ways: ``rank --format label-studio`` writes tasks with kanalml's
pre-annotations; ``train --feedback`` and ``known add`` read a Label Studio JSON export. The
first tests use exports written here; the round trip at the end runs against a real Label Studio
server started by the test (the ``labelstudio`` extra) and skips where it cannot start."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from conftest import DEMO_EXPORT, REPO_ROOT

import kanalml
from kanalml.cli import main
from kanalml.labelled import read_confirmed, read_decisions
from kanalml.labelstudio import LABEL_CONFIG, read_export, tasks

DEMO_LABELLED = REPO_ROOT / "data" / "demo_labelled.csv"


def annotation(choice: str, when: str, *, category: str | None = None, cancelled: bool = False,
               ident: int = 1) -> dict:
    result = [{"from_name": "ekstremisme", "to_name": "text", "type": "choices",
               "value": {"choices": [choice]}}]
    if category:
        result.append({"from_name": "category", "to_name": "text", "type": "choices",
                       "value": {"choices": [category]}})
    return {"id": ident, "completed_by": 1, "result": result, "was_cancelled": cancelled,
            "created_at": when, "updated_at": when}


def export_file(path: Path, items: list[dict]) -> Path:
    path.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_tasks_carry_score_category_and_evidence_spans_in_javascript_offsets() -> None:
    queue = pd.DataFrame({
        "rank": [1, 2], "score": [0.97, 0.2], "category": ["takfir", None],
        "flagged": [True, False],
        "text": ["🔥🔥 Thaghut wajib diperangi, THAGHUT!", "Kucing oren hilang"],
        "evidence": ["thaghut (2.50); diperangi (1.20)", ""], "copies": [2, 1],
        "channels": ["a, b", "c"], "source": ["a/1", "c/9"], "message_ids": ["a/1; b/7", "c/9"]})
    out = tasks(queue, model_version="ekstremisme-v2")
    first = out[0]
    assert first["data"]["message_id"] == "a/1" and first["data"]["text"] == queue["text"][0]
    prediction = first["predictions"][0]
    assert prediction["model_version"] == "ekstremisme-v2" and prediction["score"] == 0.97
    kinds = {(r["from_name"], tuple(r["value"].get("choices", []))) for r in prediction["result"]}
    assert ("ekstremisme", ("ekstremis",)) in kinds and ("category", ("takfir",)) in kinds
    spans = [r["value"] for r in prediction["result"] if r["from_name"] == "evidence"]
    text16 = queue["text"][0].encode("utf-16-le")
    for span in spans:  # the span is the word where JavaScript counts it (an emoji counts 2)
        assert text16[2 * span["start"]:2 * span["end"]].decode("utf-16-le") == span["text"]
    assert [s["text"] for s in spans] == ["Thaghut", "THAGHUT", "diperangi"]
    assert spans[0]["start"] == 5  # two emoji (2 units each) and a space before it
    second = out[1]["predictions"][0]["result"]
    assert [r["from_name"] for r in second] == ["ekstremisme"]  # no category: not flagged
    assert second[0]["value"]["choices"] == ["bukan"]


def test_rank_writes_tasks_and_the_labelling_config(tmp_path) -> None:
    out = tmp_path / "tasks.json"
    assert main(["rank", str(DEMO_EXPORT), "--format", "label-studio", "-o", str(out),
                 "-q"]) == 0
    written = json.loads(out.read_text(encoding="utf-8"))
    queue = kanalml.pipeline.rank_files([DEMO_EXPORT], None).queue
    assert len(written) == len(queue)
    assert [t["data"]["source"] for t in written] == queue["source"].tolist()
    assert (tmp_path / "tasks.label-config.xml").read_text(encoding="utf-8") == LABEL_CONFIG
    assert main(["rank", str(DEMO_EXPORT), "--format", "label-studio", "-o", str(out),
                 "-q"]) == 1  # exists: the one policy
    assert main(["rank", str(DEMO_EXPORT), "--format", "label-studio", "-q"]) == 1  # no -o


def test_an_export_becomes_decisions_latest_wins_skips_ignored(tmp_path) -> None:
    path = export_file(tmp_path / "export.json", [
        {"id": 11, "data": {"text": "Thaghut wajib diperangi", "message_id": "a/1"},
         "annotations": [annotation("bukan", "2026-12-01T10:00:00Z", ident=1),
                         annotation("ekstremis", "2026-12-02T10:00:00Z", category="hasutan",
                                    ident=2)]},
        {"id": 12, "data": {"text": "Kucing oren hilang", "message_id": "c/9"},
         "annotations": [annotation("bukan", "2026-12-01T11:00:00Z")]},
        {"id": 13, "data": {"text": "Belum dinilai", "message_id": "d/3"},
         "annotations": [annotation("ekstremis", "2026-12-01T12:00:00Z", cancelled=True)]},
        {"id": 14, "data": {"text": "Tanpa anotasi", "message_id": "e/4"}, "annotations": []}])
    frame = read_export(path)
    assert frame["message_id"].tolist() == ["a/1", "a/1", "c/9"]
    decisions = read_decisions(path, ["ekstremisme"])
    assert dict(zip(decisions["message_id"], decisions["ekstremisme"])) == {"a/1": 1, "c/9": 0}
    confirmed, kind = read_confirmed(path)
    assert kind == "Label Studio export"
    assert confirmed.to_dict("records") == [
        {"text": "Thaghut wajib diperangi", "category": "hasutan", "source": "a/1"}]


@pytest.mark.parametrize(("content", "message"), [
    ('[{"data": {"text": "x"}, "annotations": [}]', ":1:42: not valid JSON"),
    ('[{"data": {"text": ""}, "annotations": [{"result": [{"from_name": "ekstremisme", '
     '"value": {"choices": ["ekstremis"]}}], "updated_at": "kemarin"}]}]',
     "task 1: a decision needs data.text or data.message_id"),
    ('[{"data": {"text": "x"}, "annotations": [{"id": 5, "result": [{"from_name": '
     '"ekstremisme", "value": {"choices": ["ekstremis"]}}], "updated_at": "kemarin"}]}]',
     "task 1: annotation 5: 'kemarin' is not a date and time"),
])
def test_a_bad_export_is_one_line_naming_where(tmp_path, capsys, content, message) -> None:
    path = tmp_path / "export.json"
    path.write_text(content, encoding="utf-8")
    labelled = tmp_path / "l.csv"
    pd.read_csv(DEMO_LABELLED).to_csv(labelled, index=False)
    assert main(["train", str(labelled), "--feedback", str(path), "-o", str(tmp_path / "m"),
                 "-q"]) == 1
    err = capsys.readouterr().err
    assert f"{path}" in err and message in err and "Traceback" not in err
    assert err.count("\n") == 1 and not (tmp_path / "m").exists()


# -- the round trip against a real Label Studio ---------------------------------------------------

TOKEN = "0123456789abcdef0123456789abcdef01234567"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _label_studio_command() -> str | None:
    for candidate in (os.environ.get("KANALML_LABEL_STUDIO"),
                      str(Path(sys.executable).with_name("label-studio")),
                      shutil.which("label-studio")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    """A Label Studio server on a free loopback port, its data in a temporary folder, no
    telemetry; skipped (with the reason) where it is not installed or does not start."""
    sdk = pytest.importorskip("label_studio_sdk", reason="needs the labelstudio extra")
    command = _label_studio_command()
    if command is None:
        pytest.skip("label-studio is not installed (pip install \".[labelstudio]\")")
    data = tmp_path_factory.mktemp("label-studio")
    port = _free_port()
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data), "SENTRY_DSN": "",
           "FRONTEND_SENTRY_DSN": "", "LATEST_VERSION_CHECK": "false",
           "COLLECT_ANALYTICS": "false", "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true"}
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [command, "start", "--no-browser", "--data-dir", str(data), "--internal-host",
         "127.0.0.1", "-p", str(port), "--username", "moderator@example.com", "--password",
         "kanalml-test", "--user-token", TOKEN, "--enable-legacy-api-token"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=data, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    try:
        while True:
            if proc.poll() is not None:
                tail = (data / "server.log").read_text(errors="replace")[-800:]
                pytest.skip(f"label-studio exited with {proc.returncode}: {tail}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.skip("label-studio did not answer within 240 s")
            time.sleep(1)
        yield sdk.LabelStudio(base_url=url, api_key=TOKEN), data / "server.log"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def test_round_trip_through_a_real_label_studio(label_studio, tmp_path) -> None:
    client, server_log = label_studio
    tasks_file = tmp_path / "tasks.json"
    assert main(["rank", str(DEMO_EXPORT), "--format", "label-studio", "-o", str(tasks_file),
                 "-q"]) == 0
    written = json.loads(tasks_file.read_text(encoding="utf-8"))
    config = (tmp_path / "tasks.label-config.xml").read_text(encoding="utf-8")
    project = client.projects.create(title="kanalml minggu 48", label_config=config)
    client.projects.import_tasks(id=project.id, request=written)

    stored = {t.data["source"]: t for t in client.tasks.list(project=project.id, fields="all")}
    assert len(stored) == len(written)
    top = written[0]
    first = stored[top["data"]["source"]]
    prediction = first.predictions[0]
    assert prediction.model_version == kanalml.api.DEFAULT_MODEL
    assert prediction.score == pytest.approx(top["predictions"][0]["score"])
    assert prediction.result == top["predictions"][0]["result"]  # category and evidence kept

    # a moderator's week: two confirmed (one below the flag), one harmless, one skipped
    def annotate(source: str, choice: str, category: str | None = None,
                 cancelled: bool = False) -> None:
        result = [{"from_name": "ekstremisme", "to_name": "text", "type": "choices",
                   "value": {"choices": [choice]}}]
        if category:
            result.append({"from_name": "category", "to_name": "text", "type": "choices",
                           "value": {"choices": [category]}})
        client.annotations.create(id=stored[source].id, result=result, was_cancelled=cancelled)

    annotate("kabar_ummah_bangkit/90", "ekstremis", "takfir")
    annotate("seruan_alhaq/208", "ekstremis")
    annotate("pasarwarga_bekasi/3405", "bukan")
    annotate("infoterkini_id/48215", "ekstremis", cancelled=True)

    export = tmp_path / "export.json"
    with open(export, "wb") as handle:
        for block in client.projects.exports.download_sync(id=project.id, export_type="JSON"):
            handle.write(block)

    decisions = read_export(export)
    assert sorted(decisions["message_id"]) == ["kabar_ummah_bangkit/90",
                                               "pasarwarga_bekasi/3405", "seruan_alhaq/208"]

    known = tmp_path / "known"
    assert main(["known", "add", str(known), str(export), "--added-by", "tim-a", "-q"]) == 0
    from kanalml.known import load

    listing = load(known)
    assert len(listing) == 2
    # the category a moderator chose in Label Studio; none chosen: none
    assert dict(listing.summary()["category"]) == {"takfir": 1, "(none)": 1}
    queue = kanalml.pipeline.rank_files([DEMO_EXPORT], None, known=known).queue
    assert queue["known_id"].notna().tolist()[:2] == [True, True]  # the confirmed come first

    model = tmp_path / "model"
    assert main(["train", str(DEMO_LABELLED), "--labels", "ekstremisme", "--feedback",
                 str(export), "-o", str(model), "--folds", "3", "-q"]) == 0
    feedback = kanalml.load_model(model).metadata_["feedback"]
    assert feedback["decisions"] == 3
    assert (feedback["updated"], feedback["added"]) == (3, 0)  # matched to the demo posts' text
    # the server was kept to this machine: no telemetry, no update check
    log = server_log.read_text(errors="replace")
    assert "sentry.io" not in log and "pypi.org" not in log
