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


def list_models(roots: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """One row per model: name, created, labels, training rows, CV AP of the primary label,
    threshold and whether it loads (manifest and contents verified)."""
    import kanalml

    rows = []
    for path in model_dirs(roots):
        row: dict[str, object] = {"model": path.name, "path": str(path)}
        try:
            meta = kanalml.load_model(path).metadata_
        except ModelError as exc:
            rows.append({**row, "status": f"refused: {exc}"})
            continue
        primary = meta.get("primary_label", meta["labels"][0])
        cv = meta.get("cv", {}).get("metrics", {}).get(primary, {})
        rows.append({**row, "created": meta.get("created"), "primary": primary,
                     "labels": len(meta["labels"]), "rows": meta.get("training_rows"),
                     "cv_ap": cv.get("average_precision"),
                     "threshold": meta.get("thresholds", {}).get(primary), "status": "ok"})
    columns = ["model", "created", "primary", "labels", "rows", "cv_ap", "threshold", "status",
               "path"]
    return pd.DataFrame(rows, columns=columns)


def compare(a: str | os.PathLike[str], b: str | os.PathLike[str], texts: Sequence[str],
            labels: pd.DataFrame) -> pd.DataFrame:
    """Metrics of models ``a`` and ``b`` on the same labelled posts, with the difference b - a,
    for every label both models score."""
    import kanalml

    model_a, model_b = kanalml.load_model(a), kanalml.load_model(b)
    shared = [n for n in labels.columns if n in model_a.labels_ and n in model_b.labels_]
    if not shared:
        raise DataError(f"no label is scored by both models and present in the data "
                        f"(data: {', '.join(labels.columns)}; {Path(a).name}: "
                        f"{', '.join(model_a.labels_)}; {Path(b).name}: "
                        f"{', '.join(model_b.labels_)})")
    report_a = kanalml.evaluate(model_a, texts, labels[shared])
    report_b = kanalml.evaluate(model_b, texts, labels[shared])
    rows = []
    for label in shared:
        for metric, value_a in report_a[label].items():
            value_b = report_b[label][metric]
            rows.append({"label": label, "metric": metric, "a": value_a, "b": value_b,
                         "b_minus_a": value_b - value_a})
    return pd.DataFrame(rows)
