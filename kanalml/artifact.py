"""Save and load a :class:`~kanalml.model.Model` as plain arrays and JSON.

Nothing is pickled, so loading an artifact can never run code from it, even one
crafted by an attacker who also rewrote the manifest: arrays are read with
``allow_pickle=False`` and must be float, everything else is JSON validated
field by field, and the model is rebuilt by kanalml's own constructors (the
guarantee skops.io gives with a trusted-type list, without a list to keep
current). The manifest lists every file with its SHA-256 and is checked before
any file is parsed; a model is exactly the files below, so a truncated, edited,
foreign or padded artifact is refused with a message naming the file.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from kanalml.errors import ModelError

FORMAT = "kanalml-model"
FORMAT_VERSION = 1
ARRAYS = "weights.npz"
VOCABULARY = "vocabulary.json"
STEMS = "stems.json"
METADATA = "metadata.json"
MANIFEST = "manifest.json"
CHAR_VOCABULARY = "char_vocabulary.json"
CARD = "README.md"
TRAINING_KEYS = "training_keys.json"  # token hashes of the training posts (model.text_key)
_ARRAY_NAMES = ("coef", "intercept", "calibration", "thresholds")
_CATEGORY_ARRAYS = ("category_coef", "category_intercept")
_REQUIRED = (ARRAYS, VOCABULARY, CHAR_VOCABULARY, STEMS, METADATA)
_OPTIONAL = (CARD, TRAINING_KEYS)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
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
    categories = {"category_coef": model.category_coef_,
                  "category_intercept": model.category_intercept_} if model.categories_ else {}
    np.savez_compressed(tmp / ARRAYS, coef=model.coef_, intercept=model.intercept_,
                        calibration=model.calibration_, thresholds=model.thresholds_,
                        **categories)
    _write_json(tmp / VOCABULARY, sorted(feat.vocabulary_, key=feat.vocabulary_.__getitem__))
    _write_json(tmp / CHAR_VOCABULARY,
                sorted(feat.char_vocabulary_, key=feat.char_vocabulary_.__getitem__))
    _write_json(tmp / STEMS, {t: [form, *stems] for t, (stems, form)
                              in feat.preprocessor_.stem_table_.items()})
    metadata = {k: v for k, v in model.metadata_.items() if k != "training_keys"}
    if "training_keys" in model.metadata_:
        _write_json(tmp / TRAINING_KEYS, model.metadata_["training_keys"])
    metadata = {
        **metadata,
        "labels": model.labels_,
        "categories": model.categories_,
        "featurizer": feat.get_params(),
        "kanalml_version": kanalml.__version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
    }
    _write_json(tmp / METADATA, metadata)
    if card is not None:
        (tmp / CARD).write_text(card, encoding="utf-8")
    files = sorted(p.name for p in tmp.iterdir())
    _write_json(tmp / MANIFEST, {"format": FORMAT, "format_version": FORMAT_VERSION,
                                 "files": {name: file_sha256(tmp / name) for name in files}})
    if target.exists():
        target.rmdir()
    tmp.chmod(0o755)
    os.replace(tmp, target)
    return target


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelError(f"{path}: not valid JSON ({type(exc).__name__}: {exc})") from None


def _strings(value: Any, path: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelError(f"{path}: expected a list of strings")
    return value


def _check_featurizer(params: Any, path: Path) -> None:
    """Featurizer parameters in the ranges kanalml trains with: an edited model must not load
    and then fail (or run for hours) at its first score."""
    if not isinstance(params, dict):
        raise ModelError(f"{path}: 'featurizer' must be an object")
    chars = params.get("char_ngrams")
    checks = {
        "ngram_max": params.get("ngram_max") in (1, 2),
        "char_ngrams": chars is None or (isinstance(chars, list) and len(chars) == 2
                                         and all(type(n) is int for n in chars)
                                         and 1 <= chars[0] <= chars[1] <= 10),
        "min_df": type(params.get("min_df")) is int and params["min_df"] >= 1,
        "word_weight": isinstance(params.get("word_weight"), (int, float))
        and math.isfinite(params["word_weight"]) and params["word_weight"] >= 0,
        "cache_size": type(params.get("cache_size", 1)) is int and params.get("cache_size", 1) > 0,
    }
    bad = [name for name, ok in checks.items() if not ok]
    unknown = sorted(set(params) - set(checks))
    if bad or unknown:
        raise ModelError(f"{path}: featurizer parameter(s) out of range or unknown: "
                         f"{', '.join(bad + unknown)}")


def _read_arrays(path: Path, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The named float64 arrays of a model's npz, each checked before it is read.

    The .npy header's shape and dtype are compared with what the vocabularies and labels
    imply before any data is read, and no member is inflated past the bytes that shape needs,
    so a header claiming 10^13 elements or a zip bomb costs nothing. Non-finite values
    (NaN weights or thresholds) are refused: they would score every post as NaN.
    """
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = {n.removesuffix(".npy"): n for n in archive.namelist()}
            for name, shape in shapes.items():
                if name not in members:
                    raise ModelError(f"{path}: array {name!r} is missing")
                limit = int(np.prod(shape, dtype=np.int64)) * 8 + 4096  # data + .npy header
                if archive.getinfo(members[name]).file_size > limit:
                    raise ModelError(f"{path}: array {name!r} is larger than shape {shape} needs")
                with archive.open(members[name]) as member:
                    data = member.read(limit + 1)
                if len(data) > limit:
                    raise ModelError(f"{path}: array {name!r} is larger than shape {shape} needs")
                buffer = io.BytesIO(data)
                readers = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}
                read_header = readers.get(np.lib.format.read_magic(buffer))
                if read_header is None:
                    raise ModelError(f"{path}: array {name!r} has an unknown .npy version")
                found_shape, _, dtype = read_header(buffer)
                if tuple(found_shape) != shape or dtype != np.dtype("<f8"):
                    raise ModelError(f"{path}: array {name!r} has shape {tuple(found_shape)} and "
                                     f"type {dtype}, expected {shape} float64")
                array = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
                if not np.isfinite(array).all():
                    raise ModelError(f"{path}: array {name!r} holds NaN or infinite values")
                arrays[name] = array
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: unreadable weights ({type(exc).__name__}: {exc})") from None
    return arrays


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
    for name in _REQUIRED:
        if name not in files:
            raise ModelError(f"{manifest_path}: does not list {name}")
    for name, expected in files.items():
        if not isinstance(name, str) or Path(name).name != name or name in (".", ".."):
            raise ModelError(f"{manifest_path}: names a file outside the model directory: {name!r}")
        if name not in (*_REQUIRED, *_OPTIONAL):
            # Even a correctly hashed extra file is refused: a model is these files and no others.
            raise ModelError(f"{manifest_path}: lists {name!r}, which is not part of a kanalml "
                             "model (foreign or tampered model)")
        path = root / name
        if path.is_symlink():
            raise ModelError(f"{path}: is a symbolic link; model files must be regular files")
        if not path.is_file():
            raise ModelError(f"{path}: listed in the manifest but missing")
        if file_sha256(path) != expected:
            raise ModelError(f"{path}: SHA-256 does not match the manifest "
                             "(the file is corrupt, truncated or was modified)")
    for path in root.iterdir():
        if path.name != MANIFEST and path.name not in files:
            raise ModelError(f"{path}: file not listed in the manifest (foreign or tampered model)")

    metadata = _read_json(root / METADATA)
    if not isinstance(metadata, dict):
        raise ModelError(f"{root / METADATA}: expected a JSON object")
    words = _strings(_read_json(root / VOCABULARY), root / VOCABULARY)
    chars = _strings(_read_json(root / CHAR_VOCABULARY), root / CHAR_VOCABULARY)
    stems = _read_json(root / STEMS)
    if TRAINING_KEYS in files:
        metadata["training_keys"] = _strings(_read_json(root / TRAINING_KEYS), root / TRAINING_KEYS)
    categories = _strings(metadata.get("categories", []), root / METADATA)
    labels = _strings(metadata.get("labels"), root / METADATA)
    for kind, values in (("labels", labels), ("categories", categories)):
        if len(set(values)) != len(values) or not all(values):
            raise ModelError(f"{root / METADATA}: {kind} must be distinct, non-empty names")
    if not labels:
        raise ModelError(f"{root / METADATA}: the model has no labels")
    _check_featurizer(metadata.get("featurizer"), root / METADATA)
    n_features, n_labels = len(words) + len(chars), len(labels)
    shapes = {"coef": (n_features, n_labels), "intercept": (n_labels,),
              "calibration": (n_labels, 2), "thresholds": (n_labels,)}
    if categories:
        shapes.update(category_coef=(n_features, len(categories)),
                      category_intercept=(len(categories),))
    arrays = _read_arrays(root / ARRAYS, shapes)
    try:
        preprocessor = Preprocessor()
        preprocessor.stem_table_ = {t: (tuple(entry[1:]), entry[0]) for t, entry in stems.items()
                                    if all(isinstance(e, str) for e in entry) and entry}
        if len(preprocessor.stem_table_) != len(stems):
            raise ModelError(f"{root / STEMS}: malformed entries")
        featurizer = Featurizer.from_fitted(metadata["featurizer"], words, chars, preprocessor)
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ModelError(f"{root}: inconsistent model files ({type(exc).__name__}: {exc})") \
            from None
    return Model(labels, featurizer, arrays["coef"], arrays["intercept"], arrays["calibration"],
                 arrays["thresholds"], metadata, categories, arrays.get("category_coef"),
                 arrays.get("category_intercept"))
