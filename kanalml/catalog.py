"""Versioned models side by side: list the saved models, compare two on the same posts."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from kanalml.artifact import MANIFEST
from kanalml.errors import DataError, ModelError


def model_dirs(roots: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Model directories: each root that is one, else its children that are, by name."""
    found: list[Path] = []
    for root in map(Path, roots):
        if (root / MANIFEST).is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(sorted(p for p in root.iterdir() if (p / MANIFEST).is_file()))
    return list(dict.fromkeys(p.resolve() for p in found))


def _display_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def list_models(roots: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """One row per model: name, created, labels, training rows, CV AP of the primary label
    (rounded to 4 decimals), threshold, whether it loads (manifest and contents verified) and
    its path. A model found twice (the checkout's ``models/`` and the installed package's copy:
    the same manifest) is listed once, at the first path found."""
    import hashlib

    import kanalml

    rows = []
    seen: set[bytes] = set()
    for path in model_dirs(roots):
        try:
            digest = hashlib.sha256((path / MANIFEST).read_bytes()).digest()
        except OSError:
            digest = str(path).encode()
        if digest in seen:
            continue
        seen.add(digest)
        row: dict[str, object] = {"model": path.name, "path": _display_path(path)}
        try:
            meta = kanalml.load_model(path).metadata_
        except ModelError as exc:
            rows.append({**row, "status": f"refused: {exc}"})
            continue
        primary = meta.get("primary_label", meta["labels"][0])
        cv = meta.get("cv", {}).get("metrics", {}).get(primary, {})
        rows.append({**row, "created": meta.get("created"), "primary": primary,
                     "labels": len(meta["labels"]), "rows": meta.get("training_rows"),
                     "cv_ap": _rounded(cv.get("average_precision")),
                     "threshold": _rounded(meta.get("thresholds", {}).get(primary)),
                     "status": "ok"})
    columns = ["model", "created", "primary", "labels", "rows", "cv_ap", "threshold", "status",
               "path"]
    return pd.DataFrame(rows, columns=columns)


DECIMALS = 4  # metrics in the tables a person reads
COUNTS = ("flagged", "positives", "rows")  # metrics that are counts: shown as integers


def _rounded(value: object) -> object:
    """A float rounded to :data:`DECIMALS`; anything else as it is."""
    return round(value, DECIMALS) if isinstance(value, float) else value


def _cell(metric: str, value: float | None) -> object:
    """One value of a comparison: an int for a count, a rounded float, None where missing."""
    if value is None or value != value:  # missing, or NaN (e.g. AUC of one class)
        return None
    return int(value) if metric in COUNTS else round(float(value), DECIMALS)


def compare(a: str | os.PathLike[str], b: str | os.PathLike[str], texts: Sequence[str],
            labels: pd.DataFrame) -> pd.DataFrame:
    """Metrics of models ``a`` and ``b`` on the same labelled posts, with the difference b - a:
    one row per (label, metric) for every label of ``labels`` that either model scores. Where
    one model does not score a label its cells (and the difference) are None. Counts
    (``flagged``, ``positives``, ``rows``) are ints, other metrics floats rounded to
    :data:`DECIMALS`.

    To set an earlier model's label against a newer one's on the same truth, give the truth
    under both names (``read_labelled(..., labels={"ekstremisme": "label", "radikalisme":
    "label"})``, ``--labels ekstremisme=label,radikalisme=label``)."""
    import kanalml

    model_a, model_b = kanalml.load_model(a), kanalml.load_model(b)
    scored = [n for n in labels.columns if n in model_a.labels_ or n in model_b.labels_]
    if not scored:
        raise DataError(f"no label of the data is scored by either model "
                        f"(data: {', '.join(labels.columns)}; {Path(a).name}: "
                        f"{', '.join(model_a.labels_)}; {Path(b).name}: "
                        f"{', '.join(model_b.labels_)}); map a column to a label with "
                        "--labels LABEL=COLUMN")
    reports = []
    for model in (model_a, model_b):
        mine = [n for n in scored if n in model.labels_]
        reports.append(kanalml.evaluate(model, texts, labels[mine]) if mine else {})
    report_a, report_b = reports
    rows = []
    for label in scored:
        metrics = list(report_a.get(label) or report_b[label])
        for metric in metrics:
            value_a = report_a.get(label, {}).get(metric)
            value_b = report_b.get(label, {}).get(metric)
            cell_a, cell_b = _cell(metric, value_a), _cell(metric, value_b)
            difference = None
            if cell_a is not None and cell_b is not None:
                assert value_a is not None and value_b is not None
                difference = _cell(metric, value_b - value_a)
            rows.append({"label": label, "metric": metric, "a": cell_a, "b": cell_b,
                         "b_minus_a": difference})
    return pd.DataFrame(rows, columns=["label", "metric", "a", "b", "b_minus_a"], dtype=object)
