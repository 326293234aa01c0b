"""A fixed int64 -> int64 map looked up a whole array at a time.

``np.searchsorted`` over a sorted key array costs a binary search of cache
misses per query; open addressing costs about one. Used to match millions of
character n-grams against the vocabulary when a batch brings many new words.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads nearby keys apart
_EMPTY = -1


class IntMap:
    """Non-negative int64 keys -> int64 values; :meth:`get` answers arrays of queries.

    Open addressing with linear probing in a table at most half full, built and
    probed with numpy: each round handles every query still unresolved.
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        values = np.asarray(values, dtype=np.int64)
        if len(keys) and keys.min() < 0:
            raise ValueError("IntMap keys must be non-negative")
        bits = max(4, (2 * len(keys)).bit_length())
        self._mask = (1 << bits) - 1
        self._shift = np.uint64(64 - bits)
        self._keys = np.full(1 << bits, _EMPTY, dtype=np.int64)
        self._values = np.zeros(1 << bits, dtype=np.int64)
        slot = self._slots(keys)
        pending = np.arange(len(keys))
        while len(pending):
            at = slot[pending]
            free = self._keys[at] == _EMPTY
            _, first = np.unique(at[free], return_index=True)  # one key per free slot
            placed = pending[free][first]
            self._keys[slot[placed]] = keys[placed]
            self._values[slot[placed]] = values[placed]
            waiting = np.ones(len(keys), dtype=bool)
            waiting[placed] = False
            pending = pending[waiting[pending]]
            slot[pending] = (slot[pending] + 1) & self._mask

    def __len__(self) -> int:
        return int((self._keys != _EMPTY).sum())

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * _GOLDEN) >> self._shift).astype(np.int64)

    def get(self, queries: np.ndarray, default: int = -1) -> np.ndarray:
        """The value of each query, ``default`` where the key is absent."""
        queries = np.asarray(queries, dtype=np.int64)
        out = np.full(len(queries), default, dtype=np.int64)
        slot = self._slots(queries)
        pending = np.arange(len(queries))
        while len(pending):
            at = slot[pending]
            found = self._keys[at]
            hit = found == queries[pending]
            out[pending[hit]] = self._values[at[hit]]
            pending = pending[~hit & (found != _EMPTY)]
            slot[pending] = (slot[pending] + 1) & self._mask
        return out
