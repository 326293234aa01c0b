"""Texts -> TF-IDF sparse matrix over stem n-grams, with a per-token feature cache.

A scikit-learn style transformer, written out by hand because speed lives here:
each distinct surface token is preprocessed once and its stem ids are cached,
so a post costs its regex passes and one dict look-up per token. N-gram look-ups
and the sparse matrix are then done with numpy for the whole batch at once.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import chain
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from kanalml.preprocess import Preprocessor, tokenize


class _TokenCache(dict[str, tuple[int, ...]]):
    """Surface token -> stem ids, computed on first sight; emptied when it outgrows ``size``."""

    def __init__(self, preprocessor: Preprocessor, stem_id: dict[str, int], size: int) -> None:
        super().__init__()
        self.preprocessor = preprocessor
        self.stem_id = stem_id
        self.size = size

    def __missing__(self, token: str) -> tuple[int, ...]:
        get = self.stem_id.get
        ids = tuple(get(stem, 0) for stem in self.preprocessor.stems(token))
        if len(self) >= self.size:
            self.clear()
        self[token] = ids
        return ids


class Featurizer:
    """Word 1..n-gram TF-IDF over stems (sublinear TF, smooth IDF, L2 rows).

    Parameters mirror ``TfidfVectorizer``: ``ngram_max`` (1 or 2), ``min_df``
    (minimum document count), ``max_features``. Fitted attributes:
    ``preprocessor_``, ``vocabulary_`` (term -> column, bigrams as ``"a b"``)
    and ``idf_``.
    """

    def __init__(self, ngram_max: int = 2, min_df: int = 2, max_features: int | None = None,
                 cache_size: int = 500_000) -> None:
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_features = max_features
        self.cache_size = cache_size

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("ngram_max", "min_df", "max_features", "cache_size")}

    def set_params(self, **params: Any) -> Featurizer:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    # -- fitting -----------------------------------------------------------------
    def fit(self, texts: Iterable[Any], y: Any = None,
            preprocessor: Preprocessor | None = None) -> Featurizer:
        """Learn the stem table, vocabulary and IDF from ``texts``."""
        texts = list(texts)
        pre = preprocessor if preprocessor is not None else Preprocessor().fit(texts)
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(self._terms(pre.analyze(text))))
        kept = [t for t, n in df.items() if n >= self.min_df]
        kept.sort(key=lambda t: (-df[t], t))
        if self.max_features is not None:
            kept = kept[: self.max_features]
        kept.sort()
        n_docs = len(texts)
        self.preprocessor_ = pre
        self.vocabulary_ = {t: i for i, t in enumerate(kept)}
        self.idf_ = np.array([math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in kept])
        self._reset_cache()
        return self

    def _terms(self, stems: Sequence[str]) -> list[str]:
        terms = list(stems)
        if self.ngram_max >= 2:
            terms += [f"{a} {b}" for a, b in zip(stems, stems[1:])]
        return terms

    @classmethod
    def from_fitted(cls, params: dict[str, Any], vocabulary: list[str], idf: np.ndarray,
                    preprocessor: Preprocessor) -> Featurizer:
        """Rebuild a fitted featurizer from saved parts (see :mod:`kanalml.artifact`)."""
        self = cls(**params)
        self.preprocessor_ = preprocessor
        self.vocabulary_ = {t: i for i, t in enumerate(vocabulary)}
        self.idf_ = np.asarray(idf, dtype=np.float64)
        self._reset_cache()
        return self

    # -- transforming ------------------------------------------------------------
    def _reset_cache(self) -> None:
        """Derive the lookup tables that make :meth:`transform` fast.

        Every stem that occurs in a vocabulary term gets an id (0 = any other
        stem); unigram columns are an array indexed by stem id and bigrams a
        sorted array of ``id_a * n_ids + id_b`` keys, so n-gram look-ups for a
        whole batch are two numpy operations.
        """
        stem_id: dict[str, int] = {}
        for term in self.vocabulary_:
            for stem in term.split(" "):
                stem_id.setdefault(stem, len(stem_id) + 1)
        n_ids = len(stem_id) + 1
        unigram = np.full(n_ids, -1, dtype=np.int64)
        keys, cols = [], []
        for term, j in self.vocabulary_.items():
            a, _, b = term.partition(" ")
            if b:
                keys.append(stem_id[a] * n_ids + stem_id[b])
                cols.append(j)
            else:
                unigram[stem_id[a]] = j
        order = np.argsort(keys)
        self._n_ids = n_ids
        self._unigram = unigram
        self._bigram_keys = np.asarray(keys, dtype=np.int64)[order]
        self._bigram_cols = np.asarray(cols, dtype=np.int64)[order]
        self._cache = _TokenCache(self.preprocessor_, stem_id, self.cache_size)

    def _indices(self, texts: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Column index of every term occurrence, and the row it belongs to."""
        lookup = self._cache.__getitem__
        ids: list[int] = []
        ends: list[int] = []
        for text in texts:
            ids.extend(chain.from_iterable(map(lookup, tokenize(text))))
            ends.append(len(ids))
        sid = np.array(ids, dtype=np.int64)
        lengths = np.diff(np.asarray(ends, dtype=np.int64), prepend=0)
        row = np.repeat(np.arange(len(ends), dtype=np.int64), lengths)
        col = self._unigram[sid]
        found = col >= 0
        rows, cols = [row[found]], [col[found]]
        if self.ngram_max >= 2 and len(self._bigram_keys) and len(sid) > 1:
            a, b = sid[:-1], sid[1:]
            pair = (row[:-1] == row[1:]) & (a > 0) & (b > 0)
            key = a[pair] * self._n_ids + b[pair]
            pos = np.searchsorted(self._bigram_keys, key)
            pos[pos == len(self._bigram_keys)] = 0
            hit = self._bigram_keys[pos] == key
            rows.append(row[:-1][pair][hit])
            cols.append(self._bigram_cols[pos[hit]])
        return np.concatenate(rows), np.concatenate(cols)

    def transform(self, texts: Iterable[Any]) -> sp.csr_matrix:
        """Texts -> L2-normalized TF-IDF rows (scipy CSR), one per text."""
        if not isinstance(texts, Sequence):
            texts = list(texts)
        n_rows, n_cols = len(texts), len(self.vocabulary_)
        row, col = self._indices(texts)
        keys, counts = np.unique(row * n_cols + col, return_counts=True)
        row, col = np.divmod(keys, n_cols)
        values = (1.0 + np.log(counts)) * self.idf_[col]
        norms = np.sqrt(np.bincount(row, weights=values * values, minlength=n_rows))
        values /= norms[row]
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
        return sp.csr_matrix((values, col, indptr), shape=(n_rows, n_cols))

    def fit_transform(self, texts: Iterable[Any], y: Any = None) -> sp.csr_matrix:
        texts = list(texts)
        return self.fit(texts).transform(texts)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        names = np.empty(len(self.vocabulary_), dtype=object)
        for term, j in self.vocabulary_.items():
            names[j] = term
        return names
