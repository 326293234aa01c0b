"""Save and load a :class:`~kanalml.model.Model` as plain arrays and JSON.

Nothing is pickled, so loading an artifact can never run code from it: arrays
are read with ``allow_pickle=False``, everything else is JSON. The manifest
lists every file with its SHA-256 and is checked before any file is parsed, so
a truncated or edited artifact is refused with a message naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "kanalml-model"
FORMAT_VERSION = 1
ARRAYS = "weights.npz"
VOCABULARY = "vocabulary.json"
STEMS = "stems.json"
METADATA = "metadata.json"
MANIFEST = "manifest.json"
_ARRAY_NAMES = ("coef", "intercept", "calibration", "thresholds", "idf")


class ModelError(Exception):
    """A model artifact is missing, corrupt, tampered with or from an incompatible version."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")


def save(model: Any, directory: str | os.PathLike[str], card: str | None = None) -> Path:
    """Write ``model`` to ``directory`` (created; must not hold another artifact).

    Files are written to a temporary sibling directory and renamed into place, so
    an interrupted save never leaves a half-written model behind.
    """
    import sklearn

    import kanalml

    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise ModelError(f"{target}: directory exists and is not empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    feat = model.featurizer_
    np.savez_compressed(tmp / ARRAYS, coef=model.coef_, intercept=model.intercept_,
                        calibration=model.calibration_, thresholds=model.thresholds_,
                        idf=feat.idf_)
    _write_json(tmp / VOCABULARY, list(feat.get_feature_names_out()))
    _write_json(tmp / STEMS, {t: list(s) for t, s in feat.preprocessor_.stem_table_.items()})
    metadata = {
        **model.metadata_,
        "labels": model.labels_,
        "featurizer": feat.get_params(),
        "kanalml_version": kanalml.__version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
    }
    _write_json(tmp / METADATA, metadata)
    if card is not None:
        (tmp / "README.md").write_text(card, encoding="utf-8")
    files = sorted(p.name for p in tmp.iterdir())
    _write_json(tmp / MANIFEST, {"format": FORMAT, "format_version": FORMAT_VERSION,
                                 "files": {name: _sha256(tmp / name) for name in files}})
    if target.exists():
        target.rmdir()
    tmp.chmod(0o755)
    os.replace(tmp, target)
    return target


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not valid JSON ({exc})") from None


def load(directory: str | os.PathLike[str]) -> Any:
    """Read a model saved by :func:`save`, verifying the manifest first."""
    from kanalml.features import Featurizer
    from kanalml.model import Model
    from kanalml.preprocess import Preprocessor

    root = Path(directory)
    if not root.is_dir():
        raise ModelError(f"{root}: no such model directory")
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise ModelError(f"{root}: not a kanalml model ({MANIFEST} is missing)")
    manifest = _read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelError(f"{manifest_path}: not a kanalml model manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{manifest_path}: format version {manifest.get('format_version')!r} "
                         f"is not supported by this kanalml (reads version {FORMAT_VERSION})")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ModelError(f"{manifest_path}: has no file list")
    for name in (ARRAYS, VOCABULARY, STEMS, METADATA):
        if name not in files:
            raise ModelError(f"{manifest_path}: does not list {name}")
    for name, expected in files.items():
        path = root / name
        if Path(name).name != name or not path.is_file():
            raise ModelError(f"{path}: listed in the manifest but missing")
        if _sha256(path) != expected:
            raise ModelError(f"{path}: SHA-256 does not match the manifest "
                             "(the file is corrupt, truncated or was modified)")

    metadata = _read_json(root / METADATA)
    vocabulary = _read_json(root / VOCABULARY)
    stems = _read_json(root / STEMS)
    try:
        with np.load(root / ARRAYS, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in _ARRAY_NAMES}
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ModelError(f"{root / ARRAYS}: unreadable weights ({exc})") from None
    try:
        labels = list(metadata["labels"])
        n_features, n_labels = len(vocabulary), len(labels)
        shapes = {"coef": (n_features, n_labels), "intercept": (n_labels,),
                  "calibration": (n_labels, 2), "thresholds": (n_labels,), "idf": (n_features,)}
        for name, shape in shapes.items():
            if arrays[name].shape != shape or arrays[name].dtype.kind != "f":
                raise ModelError(f"{root / ARRAYS}: array {name!r} has shape "
                                 f"{arrays[name].shape}, expected {shape}")
        preprocessor = Preprocessor()
        preprocessor.stem_table_ = {str(t): tuple(map(str, s)) for t, s in stems.items()}
        featurizer = Featurizer.from_fitted(metadata["featurizer"], [str(v) for v in vocabulary],
                                            arrays["idf"], preprocessor)
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{root}: inconsistent model files ({exc!r})") from None
    return Model(labels, featurizer, arrays["coef"], arrays["intercept"], arrays["calibration"],
                 arrays["thresholds"], metadata)
