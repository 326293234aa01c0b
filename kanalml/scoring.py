"""The scoring contract below :mod:`kanalml.api` and :mod:`kanalml.pipeline`: which model is
loaded, what text is read, and which columns a score has.

Owns the shipped model's location (:func:`default_model_path`), :func:`load_model` (the
default model loaded lazily, once, under a lock, and warmed up), the clip of long posts
(:data:`MAX_TEXT_CHARS`, :func:`clip_texts`) and the output columns (:func:`score_columns`,
:func:`predict_columns`, :func:`output_columns`, :func:`probability_columns`).
:func:`kanalml.score`, the batch pipeline and the Dask engine all use it; it imports neither
of them, so the layers have one direction (``tests/test_layout.py`` checks there is no cycle).
numpy, pandas and the model load on first use, not on import.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kanalml.preprocess import as_text

if TYPE_CHECKING:
    from kanalml.model import Model

__all__ = ["DEFAULT_MODEL", "KNOWN_COLUMNS", "MAX_TEXT_CHARS", "clip_text", "clip_texts",
           "default_model_path", "load_model", "output_columns", "predict_columns",
           "probability_columns", "score_columns"]

DEFAULT_MODEL = "ekstremisme-v3"
# Longer posts are scored on their first MAX_TEXT_CHARS characters. Cost grows with length: one
# post of new words took 1.4 s CPU at 100,000 characters, 7.7 s and +143 MB RSS at 1,000,000,
# 63 s and +923 MB at 10,000,000 (predict + explain, default model). A Telegram message holds at
# most 4,096 characters, so real posts are far below the cap.
MAX_TEXT_CHARS = 100_000
KNOWN_COLUMNS = ("known_id", "known_similarity")
_PACKAGE = Path(__file__).resolve().parent
_lock = threading.Lock()
_default: Model | None = None


# -- the model ---------------------------------------------------------------------------------

def default_model_path() -> Path:
    """Where the shipped model lives: inside the installed package, or in a source checkout."""
    for candidate in (_PACKAGE / "models" / DEFAULT_MODEL,
                      _PACKAGE.parent / "models" / DEFAULT_MODEL):
        if candidate.is_dir():
            return candidate
    return _PACKAGE / "models" / DEFAULT_MODEL


def load_model(path: str | os.PathLike[str] | None = None) -> Model:
    """Load a saved model directory; with no path, the shipped default model (cached).

    The model is warmed up before it is returned (its n-gram tables built, the lexicon
    loaded, one post scored), so the first :func:`kanalml.score` costs what any later one does.
    """
    from kanalml.model import Model

    global _default
    if path is not None:
        return _warm_up(Model.load(path))
    if _default is None:
        with _lock:
            if _default is None:
                _default = _warm_up(Model.load(default_model_path()))
    return _default


def _warm_up(model: Model) -> Model:
    """Pay the first score's one-time costs in the load (tables, lexicon, caches), and no more:
    pandas is not imported (~0.25 s of a 0.3 s load, measured), so a service that scores one
    post at a time (:func:`kanalml.score` of a str) never loads it; a batch imports it on first
    use."""
    model.warm_up()
    return model


# -- the text that is read ---------------------------------------------------------------------

def clip_text(text: str) -> str:
    """``text`` cut to its first :data:`MAX_TEXT_CHARS` characters: what scoring reads."""
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS]


def clip_texts(values: Iterable[Any]) -> list[str]:
    """The texts as scored: any value as text (:func:`as_text`), cut by :func:`clip_text`."""
    return [clip_text(as_text(v)) for v in values]


# -- the output columns ------------------------------------------------------------------------

def score_columns(model: Model) -> dict[str, str]:
    """The columns :func:`kanalml.score` returns for a batch, in order, with their dtypes:
    ``score``, one probability per label, ``category`` (a model with categories), ``flagged``."""
    category = {"category": "object"} if model.categories_ else {}
    return {"score": "f8", **dict.fromkeys(model.labels_, "f8"), **category, "flagged": "bool"}


def output_columns(model: Model, known: bool = False) -> list[str]:
    """The columns ``score`` adds to every row (``rank`` and the Dask engine add the same);
    an input column with one of these names is renamed, never overwritten."""
    return [*score_columns(model), "evidence", "rank", *(KNOWN_COLUMNS if known else ())]


def probability_columns(model: Model, known: bool = False) -> list[str]:
    """The output columns rounded to ``kanalml.pipeline.DECIMALS``."""
    return ["score", *model.labels_, *(["known_similarity"] if known else [])]


def predict_columns(model: Model, texts: Sequence[str], threshold: float) -> dict[str, Any]:
    """:func:`score_columns`' values for texts already clipped (:func:`clip_texts`)."""
    prediction = model.predict(list(texts))
    proba = prediction.proba
    columns: dict[str, Any] = {"score": proba[:, 0]}
    for k, label in enumerate(model.labels_):
        columns[label] = proba[:, k]
    if prediction.category is not None:
        columns["category"] = prediction.category
    columns["flagged"] = proba[:, 0] >= threshold
    return columns
