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
    """Load a saved model directory; with no path, the shipped default model (cached)."""
    from kanalml.artifact import load

    global _default
    if path is not None:
        return load(path)
    if _default is None:
        with _lock:
            if _default is None:
                _default = load(default_model_path())
    return _default


def score(texts: str | Iterable[Any], model: Model | str | os.PathLike[str] | None = None,
          explain: bool = False, known: Any = None) -> dict[str, Any] | pd.DataFrame:
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
    With ``known`` (a known-content list's directory, a :class:`kanalml.known.KnownList` or a
    :class:`kanalml.known.Matcher` - build one to reuse its index across calls), also
    ``known_id`` (the matching item, or None) and ``known_similarity`` (1.0 when the canonical
    text's hash matches, else the estimated Jaccard similarity; NaN without a match).
    """
    matcher = None
    if known is not None:
        from kanalml.known import matcher as _matcher

        matcher = _matcher(known)
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
        if matcher is not None:
            ids, sims = matcher.match([text])
            out["known_id"], out["known_similarity"] = ids[0], float(sims[0])
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
    if matcher is not None:
        ids, sims = matcher.match(values)
        frame["known_id"] = pd.Series(ids, index=frame.index, dtype=object)
        frame["known_similarity"] = sims
    return frame
