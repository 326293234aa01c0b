"""Which posts moderators should label next: those whose labels would teach the model most.

Uncertainty sampling with diversity. A post is informative when its score is
near the model's threshold, where a label moves the decision boundary; among
informative posts, a batch should not spend moderators' time on ten wordings of
one message. So: near-duplicates are collapsed (the queue's MinHash grouping),
a bounded pool of the most uncertain distinct posts is kept while the export
streams by, and the batch is picked from it by maximal marginal relevance:
each pick maximizes ``LAMBDA * uncertainty - (1 - LAMBDA) * similarity`` to the
posts already picked (cosine similarity of the model's own features).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kanalml.rank import QueueBuilder
from kanalml.scoring import clip_texts

LAMBDA = 0.5
POOL_PER_PICK = 20  # the pool holds this many candidates per requested post (at least 1,000)
DECISION_COLUMNS = ("label", "decided_at")  # left empty, for moderators to fill in


def uncertainty(proba: np.ndarray, threshold: float) -> np.ndarray:
    """1 at the threshold, falling linearly to 0 at a probability of 0 or 1."""
    return 1.0 - np.abs(proba - threshold) / max(threshold, 1.0 - threshold)


def select(gain: np.ndarray, features: Any, n: int, weight: float = LAMBDA) -> list[int]:
    """Greedy maximal marginal relevance: ``n`` row indices, in the order picked.

    ``features`` (a scipy sparse matrix) rows are compared by cosine similarity.
    """
    from sklearn.preprocessing import normalize

    unit = normalize(features)
    picked: list[int] = []
    nearest = np.zeros(len(gain))  # similarity of each candidate to its closest pick
    available = np.ones(len(gain), dtype=bool)
    for _ in range(min(n, len(gain))):
        value = np.where(available, weight * gain - (1 - weight) * nearest, -np.inf)
        best = int(np.argmax(value))
        picked.append(best)
        available[best] = False
        similarity = (unit @ unit[best].T).toarray().ravel()
        nearest = np.maximum(nearest, similarity)
    return picked


class Suggester:
    """Streams scored chunks and keeps the pool of candidates; memory is bounded by the pool
    plus one small integer per distinct message."""

    # columns suggestions() adds (and the pool's own): input columns must not bear these names
    ADDED = ("suggest_rank", "score", "uncertainty", "copies", *DECISION_COLUMNS, "_group",
             "_text")

    def __init__(self, model: Any, n: int) -> None:
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        self.model = model
        self.n = n
        self.pool_size = max(POOL_PER_PICK * n, 1000)
        self._groups = QueueBuilder(model.labels_)
        self._copies = np.zeros(0, dtype=np.int64)
        self._pool: pd.DataFrame | None = None
        self._text_column: str | None = None

    def add(self, chunk: pd.DataFrame, text_column: str) -> None:
        """Score one chunk of posts and fold it into the pool."""
        if chunk.empty:
            return
        texts = clip_texts(chunk[text_column].tolist())
        proba = self.model.predict_proba(texts)[:, 0]
        group = self._groups.groups(texts)
        if len(self._groups) > len(self._copies):
            self._copies = np.pad(self._copies, (0, len(self._groups) - len(self._copies)))
        np.add.at(self._copies, group, 1)
        _, first = np.unique(group, return_index=True)
        rows = chunk.iloc[np.sort(first)].copy()
        rows["score"] = proba[np.sort(first)]
        rows["uncertainty"] = uncertainty(rows["score"].to_numpy(), self.model.threshold)
        rows["_group"] = group[np.sort(first)]
        rows["_text"] = [texts[i] for i in np.sort(first)]
        if self._pool is not None:
            rows = rows[~rows["_group"].isin(self._pool["_group"])]
            rows = pd.concat([self._pool, rows], ignore_index=True)
        self._pool = (rows.sort_values(["uncertainty", "_group"], ascending=[False, True],
                                       kind="stable")
                      .head(self.pool_size).reset_index(drop=True))
        self._text_column = self._text_column or text_column

    def suggestions(self) -> pd.DataFrame:
        """The picked posts, most useful first: ``suggest_rank``, the input columns, ``score``,
        ``uncertainty``, ``copies``, and empty ``label`` and ``decided_at`` to fill in."""
        if self._pool is None:
            return pd.DataFrame(columns=["suggest_rank", "score", "uncertainty", "copies",
                                         *DECISION_COLUMNS])
        pool = self._pool
        features = self.model.featurizer_.transform(pool["_text"].tolist())
        picked = pool.iloc[select(pool["uncertainty"].to_numpy(), features, self.n)]
        out = picked.drop(columns=["_text"]).copy()
        out["copies"] = self._copies[out["_group"].to_numpy()]
        out = out.drop(columns=["_group"])
        for column in DECISION_COLUMNS:
            out[column] = ""
        out.insert(0, "suggest_rank", np.arange(1, len(out) + 1))
        return out.reset_index(drop=True)
