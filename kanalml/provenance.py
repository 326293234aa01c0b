"""Training provenance: what a model was trained on, how, and with which software.

Owns :func:`record_training`, the one writer of a model's ``training`` metadata, used alike by
``kanalml train``, ``scripts/build_default_model.py`` and notebook 02, and
:func:`package_versions`. Knows the model only through its metadata (rows, labels, CV figures);
knows nothing of file formats.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterable, Mapping
from importlib import metadata as _metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kanalml.artifact import file_sha256

if TYPE_CHECKING:
    from kanalml.model import Model

# The distributions whose versions change what a model learns or scores (stems, slang, fits).
PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "PySastrawi", "indoNLP")


def package_versions() -> dict[str, str]:
    """Versions of Python, kanalml and the packages in :data:`PACKAGES` (``"missing"`` if one
    is not installed)."""
    from kanalml.version import __version__

    versions = {"python": platform.python_version(), "kanalml": __version__}
    for name in PACKAGES:
        try:
            versions[name] = _metadata.version(name)
        except _metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def _file_name(path: Path, root: Path | None) -> str:
    return path.name if root is None else Path(os.path.relpath(path, root)).as_posix()


def record_training(model: Model, files: Iterable[str | os.PathLike[str]], *,
                    root: str | os.PathLike[str] | None = None,
                    options: Mapping[str, Any] | None = None,
                    built_by: str | None = None) -> dict[str, Any]:
    """Write where ``model`` came from into ``model.metadata_["training"]`` and return it.

    ``files``: the files its training rows were read from, each recorded with its SHA-256 and
    size, named relative to ``root`` (else by file name: a path on one machine means nothing on
    another). ``options``: the training options as given (JSON values), beyond what the model
    records itself. ``built_by``: the command or notebook that trained it. Rows, per-label rows
    and positives, folds and seed come from the model's metadata; versions from this process.
    """
    meta = model.metadata_
    base = None if root is None else Path(root)
    record: dict[str, Any] = {
        "files": [{"file": _file_name(Path(p), base), "sha256": file_sha256(p),
                   "bytes": Path(p).stat().st_size} for p in files],
        "rows": meta["training_rows"],
        "labels": {label: {"rows": m["rows"], "positives": m["positives"]}
                   for label, m in meta["cv"]["metrics"].items()},
        "options": {"folds": meta["cv"]["folds"], "random_state": meta["cv"]["random_state"],
                    **dict(options or {})},
        "versions": package_versions(),
    }
    if built_by is not None:
        record["built_by"] = built_by
    try:
        json.dumps(record, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"training provenance must be plain JSON values: {exc}") from None
    meta["training"] = record
    return record
