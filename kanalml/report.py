"""Evaluation report: metrics, per-group breakdown and plots in one self-contained HTML page.

``write_report`` writes ``metrics.csv``, ``metrics.json``, three PNG plots per
label (precision-recall curve with the threshold's operating point, calibration
curve, score histogram by class) and ``report.html`` with the plots embedded as
data URIs, so the page can be mailed or attached to a ticket as one file. The
directory is built beside the target and renamed into place: a failure leaves
nothing behind. Knows nothing of the command line; problems with the data or the
target directory raise :class:`kanalml.DataError`.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kanalml.errors import DataError, new_output_directory, replace_directory
from kanalml.preprocess import as_text

PLOTS = ("precision_recall", "calibration", "histogram")


def _plot(kind: str, label: str, y: np.ndarray, proba: np.ndarray, threshold: float,
          path: Path) -> None:
    from matplotlib.figure import Figure
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import precision_recall_curve

    fig = Figure(figsize=(5, 4), dpi=100)  # no pyplot: a notebook's backend stays as it is
    ax = fig.subplots()
    if kind == "precision_recall":
        precision, recall, _ = precision_recall_curve(y, proba)
        ax.plot(recall, precision, drawstyle="steps-post")
        flagged = proba >= threshold
        at_p = y[flagged].mean() if flagged.any() else 0.0
        at_r = (flagged & (y == 1)).sum() / max(y.sum(), 1)
        ax.plot([at_r], [at_p], "o", color="C3", label=f"threshold {threshold:.3f}")
        ax.axhline(y.mean(), color="grey", linestyle=":", label="base rate")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02),
               title=f"{label}: precision-recall")
        ax.legend(loc="lower left")
    elif kind == "calibration":
        observed, predicted = calibration_curve(y, proba, n_bins=10, strategy="uniform")
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
        ax.plot(predicted, observed, "o-", label="model")
        ax.set(xlabel="mean predicted probability", ylabel="observed share positive",
               xlim=(0, 1), ylim=(0, 1.02), title=f"{label}: calibration")
        ax.legend(loc="upper left")
    else:
        bins = np.linspace(0, 1, 26).tolist()
        ax.hist(proba[y == 0], bins=bins, alpha=0.6, label=f"negative ({(y == 0).sum()})")
        ax.hist(proba[y == 1], bins=bins, alpha=0.6, label=f"positive ({(y == 1).sum()})")
        ax.axvline(threshold, color="C3", linestyle="--", label="threshold")
        ax.set(xlabel="probability", ylabel="posts", yscale="log",
               title=f"{label}: scores by class")
        ax.legend(loc="upper center")
    fig.tight_layout()
    fig.savefig(path, format="png")


def _file_name(label: str) -> str:
    """A label as a safe file-name part."""
    return re.sub(r"[^\w.-]+", "_", label).strip("._") or "label"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.4f}"
    return html.escape(str(value))


def _table(frame: Any) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _no_nan(value: Any) -> Any:
    """JSON has no NaN: undefined metrics become null."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _examples(model: Any, texts: Sequence[str], y: np.ndarray, proba: np.ndarray,
              n: int = 10) -> str:
    """The primary label's n highest-scoring negatives and n lowest-scoring positives, with
    the words that drove each score: where a moderator would disagree with the model."""
    def rows(order: np.ndarray) -> str:
        cells = []
        for i in order:
            evidence = ", ".join(f"{w} ({v:.2f})" for w, v in model.explain(texts[i]))
            text = texts[i] if len(texts[i]) <= 400 else texts[i][:397] + "..."
            cells.append(f"<tr><td>{proba[i]:.3f}</td><td class=text>{html.escape(text)}</td>"
                         f"<td class=text>{html.escape(evidence)}</td></tr>")
        return ("<table><thead><tr><th>score</th><th>post</th><th>evidence</th></tr></thead>"
                f"<tbody>{''.join(cells)}</tbody></table>")

    negatives = np.flatnonzero(y == 0)
    positives = np.flatnonzero(y == 1)
    top_negatives = negatives[np.argsort(-proba[negatives], kind="stable")[:n]]
    low_positives = positives[np.argsort(proba[positives], kind="stable")[:n]]
    label = html.escape(model.primary)
    return (f"<h2>{label}: the {len(top_negatives)} highest-scoring negatives</h2>"
            f"{rows(top_negatives)}"
            f"<h2>{label}: the {len(low_positives)} lowest-scoring positives</h2>"
            f"{rows(low_positives)}")


def _html(model: Any, name: str, table: Any, plots: dict[str, list[Path]], rows: int,
          source: str, warning: str = "", examples: str = "") -> str:
    meta = model.metadata_
    facts = {
        "model": name,
        "created": meta.get("created", "?"),
        "training rows": meta.get("training_rows", "?"),
        "labels": ", ".join(model.labels_),
        "thresholds": ", ".join(f"{label} {t:.3f}" for label, t in
                                zip(model.labels_, model.thresholds_)),
        "threshold rule": meta.get("threshold_rule", "?"),
        "evaluated on": f"{rows} posts from {source}",
        "report written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    fact_rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in facts.items())
    overall = table[table["group"] == "(all)"].drop(columns="group")
    groups = table[table["group"] != "(all)"]
    sections = []
    for label, paths in plots.items():
        images = "".join(f'<img alt="{html.escape(label)} {p.stem}" src="{_data_uri(p)}">'
                         for p in paths)
        sections.append(f"<h3>{html.escape(label)}</h3><div class=plots>{images}</div>")
    breakdown = (f"<h2>By group</h2>{_table(groups)}<p>ROC-AUC and average precision are n/a "
                 "in a group with only one class.</p>") if len(groups) else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>kanalml evaluation: {html.escape(name)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 90%; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #f3f3f3; }}
.plots img {{ margin: 0 1em 1em 0; border: 1px solid #eee; }}
td.text {{ text-align: left; max-width: 40em; white-space: pre-wrap; }}
.warning {{ background: #fde8e8; border: 2px solid #c0392b; padding: 0.8em; font-weight: bold; }}
</style></head><body>
<h1>kanalml evaluation: {html.escape(name)}</h1>
{f'<p class=warning>{html.escape(warning)}</p>' if warning else ''}
<p>Triage metrics for human review: a flag spends a moderator's time, it is never a sanction.</p>
<table>{fact_rows}</table>
<h2>Metrics</h2>{_table(overall)}
<p>Precision, recall and F1 at each label's threshold; precision@k over the k highest scores;
recall at budget: share of positives in the top share of posts; Brier and ECE: calibration
(lower is better).</p>
{breakdown}
{examples}
<h2>Plots</h2>{''.join(sections)}
</body></html>
"""


def write_report(model: Any, texts: Sequence[Any], labels: Any,
                 out_dir: str | os.PathLike[str], *, groups: Sequence[Any] | None = None,
                 name: str | None = None, source: str = "the given posts", k: int = 100,
                 budget: float = 0.05, force: bool = False) -> Path:
    """Evaluate ``model`` on labelled posts and write the report directory ``out_dir``.

    ``out_dir`` must not exist or be empty (else :class:`kanalml.DataError`); with ``force`` an
    existing one is replaced as a whole once the new report is written. Returns the path of
    ``report.html``.
    """
    import pandas as pd

    from kanalml.evaluation import evaluate, metrics_table, overlap_warning, training_overlap
    from kanalml.io import write_csv

    target = new_output_directory(out_dir, force=force)
    texts = [as_text(t) for t in texts]
    table_labels = pd.DataFrame(labels).reset_index(drop=True)
    table_labels.columns = [str(c) for c in table_labels.columns]
    with warnings.catch_warnings():  # said once, on the page, below
        warnings.simplefilter("ignore", UserWarning)
        report = evaluate(model, texts, table_labels, k=k, budget=budget, groups=groups)
    overlap = training_overlap(model, texts)
    warning = overlap_warning(overlap, len(texts)) if overlap else ""
    if warning:
        warnings.warn(warning, stacklevel=2)
    if not report:
        raise DataError(f"none of the label columns ({', '.join(map(str, table_labels))}) is "
                         f"scored by the model ({', '.join(model.labels_)})")
    table = metrics_table(report)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        proba = model.predict_proba(texts)
        plots: dict[str, list[Path]] = {}
        for label in report:
            j = model.labels_.index(label)
            y = table_labels[label].to_numpy().astype(np.int8)
            plots[label] = []
            for kind in PLOTS:
                path = tmp / f"{_file_name(label)}_{kind}.png"
                _plot(kind, label, y, proba[:, j], float(model.thresholds_[j]), path)
                plots[label].append(path)
        with open(tmp / "metrics.csv", "w", encoding="utf-8", newline="") as stream:
            write_csv(table, stream)  # group values are user data: no cell may be a formula
        (tmp / "metrics.json").write_text(json.dumps(_no_nan(report), indent=1) + "\n",
                                          encoding="utf-8")
        examples = ""
        if model.primary in report:
            examples = _examples(model, texts, table_labels[model.primary].to_numpy(),
                                 proba[:, 0])
        page = _html(model, name or model.metadata_.get("name", "model"), table, plots,
                     len(texts), source, warning, examples)
        (tmp / "report.html").write_text(page, encoding="utf-8")
        tmp.chmod(0o755)
        replace_directory(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target / "report.html"
