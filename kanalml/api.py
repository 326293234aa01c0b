"""``score`` and ``load_model``: the entry points for Python callers.

The default model is loaded lazily, once, under a lock: ``import kanalml`` stays
cheap and many threads may call :func:`score` at once. The columns :func:`score`
returns are those every batch output has (:func:`kanalml.pipeline.score_columns`).
Knows nothing of the command line or of files beyond a model directory.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kanalml.preprocess import as_text

if TYPE_CHECKING:
    import pandas as pd

    from kanalml.model import Model

DEFAULT_MODEL = "ekstremisme-v3"
# Longer posts are scored on their first MAX_TEXT_CHARS characters. Cost grows with length: one
# post of new words took 1.4 s CPU at 100,000 characters, 7.7 s and +143 MB RSS at 1,000,000,
# 63 s and +923 MB at 10,000,000 (predict + explain, default model). A Telegram message holds at
# most 4,096 characters, so real posts are far below the cap.
MAX_TEXT_CHARS = 100_000
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
    """Pay the first score's one-time costs in the load (tables, lexicon, pandas).

    After the model's own warm-up, one short batch is scored as a caller's would be: the first
    DataFrame of string columns sets up pandas' pyarrow strings and imports the batch path,
    ~20 ms that a service's first request otherwise paid (profiled).
    """
    model.warm_up()
    score(["halo"], model=model)
    return model


def clip_text(text: str) -> str:
    """``text`` cut to its first :data:`MAX_TEXT_CHARS` characters: what scoring reads."""
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS]


def clip_texts(values: Iterable[Any]) -> list[str]:
    """The texts as scored: any value as text (:func:`as_text`), cut by :func:`clip_text`."""
    return [clip_text(as_text(v)) for v in values]


def _check_batch(texts: Any) -> None:
    """Refuse containers whose iteration is not one text per item: a DataFrame iterates over
    its column names, a dict over its keys, a 2-D array over rows of several cells."""
    import numpy as np
    import pandas as pd

    if isinstance(texts, pd.DataFrame):
        columns = ", ".join(map(repr, list(texts.columns)[:5]))
        raise TypeError(f"score() takes texts, not a DataFrame (columns: {columns}); pass its "
                        "text column, e.g. score(frame['text'])")
    if isinstance(texts, Mapping):
        raise TypeError("score() takes texts, not a dict; pass the texts, e.g. "
                        "score(list(posts.values())) (keep the keys to match the rows), or "
                        "score(pd.Series(posts)) to get them as the index")
    if isinstance(texts, np.ndarray) and texts.ndim > 1:
        raise TypeError(f"score() takes a 1-D array of texts, not a {texts.ndim}-D array of "
                        f"shape {texts.shape}; pass one column, e.g. score(array[:, 0]), or "
                        "array.ravel() for every cell")


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

    A DataFrame, a dict or an array of more than one dimension raises TypeError
    (their items are column names, keys or rows, not texts); a 0-D array is one text.
    A text longer than :data:`MAX_TEXT_CHARS` (100,000) characters is scored on
    its first 100,000.

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
    if getattr(texts, "ndim", None) == 0 and hasattr(texts, "item"):  # a 0-D array: one value
        texts = texts.item()
    if isinstance(texts, (str, bytes, bytearray)) or not isinstance(texts, Iterable):
        text = clip_text(as_text(texts))
        # The batch's columns (kanalml.pipeline.score_columns) in order, from Model.predict_one:
        # a service's per-request call, spared the batch's column arrays.
        proba, category = m.predict_one(text)
        out: dict[str, Any] = {"score": proba[0], **dict(zip(m.labels_, proba))}
        if category is not None:
            out["category"] = category
        out["flagged"] = proba[0] >= m.threshold
        if explain:
            out["evidence"] = m.explain(text)
        if matcher is not None:
            ids, sims = matcher.match([text])
            out["known_id"], out["known_similarity"] = ids[0], float(sims[0])
        return out

    import numpy as np
    import pandas as pd

    from kanalml.pipeline import predict_columns  # the columns, as every batch output has them

    _check_batch(texts)
    index = texts.index if isinstance(texts, pd.Series) else None
    values = texts.tolist() if isinstance(texts, (pd.Series, np.ndarray)) else list(texts)
    values = clip_texts(values)
    frame = pd.DataFrame(predict_columns(m, values, m.threshold), index=index)
    if explain:
        frame["evidence"] = pd.Series([m.explain(t) for t in values], index=frame.index,
                                      dtype=object)
    if matcher is not None:
        ids, sims = matcher.match(values)
        frame["known_id"] = pd.Series(ids, index=frame.index, dtype=object)
        frame["known_similarity"] = sims
    return frame
