"""``score`` and ``load_model``: the entry points for Python callers.

Model loading, the clip of long posts and the output columns live one layer down, in
:mod:`kanalml.scoring` (re-exported here): the default model is loaded lazily, once, under a
lock, so ``import kanalml`` stays cheap and many threads may call :func:`score` at once, and
the columns :func:`score` returns are those every batch output has
(:func:`kanalml.scoring.score_columns`). Knows nothing of the command line or of files beyond
a model directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from kanalml.preprocess import as_text

# Re-exported: where callers have always found them.
from kanalml.scoring import DEFAULT_MODEL as DEFAULT_MODEL
from kanalml.scoring import MAX_TEXT_CHARS as MAX_TEXT_CHARS
from kanalml.scoring import clip_text as clip_text
from kanalml.scoring import clip_texts as clip_texts
from kanalml.scoring import default_model_path as default_model_path
from kanalml.scoring import load_model as load_model
from kanalml.scoring import predict_columns

if TYPE_CHECKING:
    import pandas as pd

    from kanalml.model import Model


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
        # The batch's columns (kanalml.scoring.score_columns) in order, from Model.predict_one:
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
