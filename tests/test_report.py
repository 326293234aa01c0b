"""The evaluation report (``kanalml.report`` and ``kanalml evaluate``) on data the tests write."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL_LABELS, make_corpus

import kanalml
from kanalml import report as report_module
from kanalml.cli import main
from kanalml.report import write_report

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def held_out() -> pd.DataFrame:
    texts, labels = make_corpus(seed=11)
    groups = ["kanal_a" if i % 3 else "<script>alert(1)</script>" for i in range(len(texts))]
    return pd.DataFrame({"text": texts, "source": groups, **labels})


def test_report_files_plots_and_html(small_model, held_out, tmp_path) -> None:
    page = write_report(small_model, held_out["text"], held_out[SMALL_LABELS], tmp_path / "r",
                        groups=held_out["source"], name="small")
    out = page.parent
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(f"{label}_{kind}.png" for label in SMALL_LABELS
                          for kind in ("precision_recall", "calibration", "histogram"))
    for name in pngs:
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000
    html = page.read_text(encoding="utf-8")
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(uris) == len(pngs)
    assert {base64.b64decode(u) for u in uris} == {(out / n).read_bytes() for n in pngs}
    assert "<link" not in html and "<script" not in html and "http" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # a group value, escaped
    expected = kanalml.evaluate(small_model, held_out["text"], held_out[SMALL_LABELS])
    assert f"{expected['radikalisme']['average_precision']:.4f}" in html
    table = pd.read_csv(out / "metrics.csv", keep_default_na=False)
    assert set(table["group"]) == {"(all)", "kanal_a", "<script>alert(1)</script>"}
    assert len(table) == 3 * len(SMALL_LABELS)


def test_failure_mid_report_leaves_nothing(small_model, held_out, tmp_path, monkeypatch) -> None:
    calls = []
    real = report_module._plot

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(report_module, "_plot", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(small_model, held_out["text"], held_out[SMALL_LABELS], tmp_path / "r")
    assert list(tmp_path.iterdir()) == []


def test_report_refuses_a_non_empty_directory(small_model, held_out, tmp_path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "keep.txt").write_text("x")
    with pytest.raises(kanalml.DataError, match="exists and is not empty"):
        write_report(small_model, held_out["text"], held_out[SMALL_LABELS], tmp_path / "r")
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["keep.txt"]


def test_evaluate_cli(small_model_dir, held_out, tmp_path, capsys) -> None:
    data = tmp_path / "held_out.csv"
    held_out.to_csv(data, index=False)
    out = tmp_path / "report"
    assert main(["evaluate", "--model", str(small_model_dir), str(data), "-o", str(out),
                 "--group-column", "source"]) == 0
    printed = capsys.readouterr()
    assert "report.html" in printed.err
    assert printed.out.splitlines()[0].split()[:3] == ["label", "roc_auc", "average_precision"]
    assert (out / "report.html").is_file() and (out / "radikalisme_calibration.png").is_file()


def _write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("change", "argv", "message"), [
    (lambda f: f.drop(columns=SMALL_LABELS), (), "no 0/1 label columns"),
    (lambda f: f.assign(promosi=f["promosi"].astype(str).where(f.index != 2, "ya?")),
     ("--labels", "radikalisme,promosi"), ":4: column 'promosi': 'ya?' is not a 0/1 label"),
    (lambda f: f.rename(columns={"radikalisme": "x", "promosi": "y"}), ("--labels", "x,y"),
     "none of the label columns (x, y) is scored by the model"),
    (lambda f: f, ("--group-column", "kanal"), "no group column 'kanal'"),
])
def test_evaluate_cli_bad_input(small_model_dir, held_out, tmp_path, capsys, change, argv,
                                message) -> None:
    data = _write(tmp_path, change(held_out.copy()))
    out = tmp_path / "report"
    assert main(["evaluate", "--model", str(small_model_dir), str(data), "-o", str(out),
                 *argv]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_report_leaves_pyplot_alone(small_model_dir, held_out, tmp_path) -> None:
    """A report written from a notebook must not switch the notebook's plotting backend."""
    import subprocess
    import sys

    data = tmp_path / "held_out.csv"
    held_out.to_csv(data, index=False)
    code = (
        "import sys, pandas as pd, kanalml\n"
        "from kanalml.report import write_report\n"
        f"frame = pd.read_csv({str(data)!r})\n"
        f"model = kanalml.load_model({str(small_model_dir)!r})\n"
        f"write_report(model, frame['text'], frame[{SMALL_LABELS!r}], {str(tmp_path / 'r')!r})\n"
        "print('matplotlib.pyplot' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_undefined_metrics_are_nan_not_zero(small_model, held_out) -> None:
    negatives = held_out[held_out["radikalisme"] == 0]
    metrics = kanalml.evaluate(small_model, negatives["text"], negatives[SMALL_LABELS])
    m = metrics["radikalisme"]
    assert m["positives"] == 0
    for key in ("roc_auc", "average_precision", "recall", "f1", "recall_at_0.05_budget"):
        assert m[key] != m[key], key  # NaN
    assert m["brier"] >= 0 and m["flagged"] >= 0


def test_metrics_csv_cells_cannot_be_formulas(small_model, held_out, tmp_path) -> None:
    groups = ["=HYPERLINK(\"http://x\",\"klik\")" if i % 2 else "kanal_a"
              for i in range(len(held_out))]
    write_report(small_model, held_out["text"], held_out[SMALL_LABELS], tmp_path / "r",
                 groups=groups)
    cells = (tmp_path / "r" / "metrics.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in cells and "\n=HYPERLINK" not in cells and ",=HYPERLINK" not in cells
