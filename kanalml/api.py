"""``score`` and ``load_model``: the entry points for Python callers.

The default model is loaded lazily, once, under a lock: ``import kanalml`` stays
cheap and many threads may call :func:`score` at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kanalml.preprocess import as_text

if TYPE_CHECKING:
    import pandas as pd

    from kanalml.model import Model

DEFAULT_MODEL = "ekstremisme-v2"
_PACKAGE = Path(__file__).resolve().parent
_lock = threading.Lock()
_default: Model | None = None


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
    loaded, one post scored), so the first :func:`score` costs what any later one does.
    """
    from kanalml.artifact import load

    global _default
    if path is not None:
        return _warm_up(load(path))
    if _default is None:
        with _lock:
            if _default is None:
                _default = _warm_up(load(default_model_path()))
    return _default


def _warm_up(model: Model) -> Model:
    """Pay the first score's one-time costs in the load (tables, lexicon, pandas)."""
    import pandas  # noqa: F401  (score(list) returns a DataFrame)

    return model.warm_up()


def score(texts: str | Iterable[Any], model: Model | str | os.PathLike[str] | None = None,
          explain: bool = False) -> dict[str, Any] | pd.DataFrame:
    """Score posts for extremist content.

    ``texts``: one text, or any iterable of texts (list, numpy array, pandas
    Series - whose index is kept). Returns, for one text (a str, or bytes,
    None or a number taken as one text), a dict; otherwise a DataFrame with one
    row per input; None, NaN and other non-text values score as empty text.
    Keys/columns: ``score`` (probability of the primary label: for the default
    model ``ekstremisme``, extremist content as defined in
    docs/annotation-guide.md), one probability per label, ``category`` (for a
    model with categories: the guide's category the post most resembles -
    hasutan, glorifikasi, rekrutmen, takfir, pendanaan or ancaman - given on
    every row and meaningful where the score is high), ``flagged`` (``score >=
    threshold``) and, with ``explain=True``, ``evidence``: the content words as
    written that raised the score most, with their log-odds weights.
    """
    m = model if model is not None and not isinstance(model, (str, os.PathLike)) \
        else load_model(model)
    if isinstance(texts, (str, bytes, bytearray)) or not isinstance(texts, Iterable):
        text = as_text(texts)
        prediction = m.predict([text])
        proba = prediction.proba[0]
        out: dict[str, Any] = {"score": float(proba[0])}
        out.update((label, float(p)) for label, p in zip(m.labels_, proba))
        if prediction.category is not None:
            out["category"] = str(prediction.category[0])
        out["flagged"] = bool(proba[0] >= m.threshold)
        if explain:
            out["evidence"] = m.explain(text)
        return out

    import numpy as np
    import pandas as pd

    index = texts.index if isinstance(texts, pd.Series) else None
    values = texts.tolist() if isinstance(texts, (pd.Series, np.ndarray)) else list(texts)
    values = [as_text(v) for v in values]
    prediction = m.predict(values)
    proba = prediction.proba
    frame = pd.DataFrame(proba, columns=m.labels_, index=index)
    frame.insert(0, "score", proba[:, 0])
    if prediction.category is not None:
        frame["category"] = prediction.category
    frame["flagged"] = proba[:, 0] >= m.threshold
    if explain:
        frame["evidence"] = [m.explain(t) for t in values]
    return frame
