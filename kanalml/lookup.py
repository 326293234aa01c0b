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

    Open addressing with linear probing in a table at most half full, probed with
    numpy: each round handles every query still unresolved. The table is built
    with one sort instead of probing rounds: keys sorted by home slot take slots
    ``p[i] = max(home[i], p[i - 1] + 1)``, that is ``i + running max(home - i)``;
    probes run forward without wrapping, into a tail that ends with an empty slot.
    """

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        values = np.asarray(values, dtype=np.int64)
        if len(keys) and keys.min() < 0:
            raise ValueError("IntMap keys must be non-negative")
        bits = max(4, (2 * len(keys)).bit_length())
        self._shift = np.uint64(64 - bits)
        home = self._slots(keys)
        order = np.argsort(home)  # any order among keys of one home slot
        steps = np.arange(len(keys), dtype=np.int64)
        slot = steps + np.maximum.accumulate(home[order] - steps) if len(keys) else steps
        size = max(1 << bits, int(slot.max(initial=0)) + 2)  # the last slot stays empty
        self._keys = np.full(size, _EMPTY, dtype=np.int64)
        self._values = np.zeros(size, dtype=np.int64)
        self._keys[slot] = keys[order]
        self._values[slot] = values[order]

    @classmethod
    def from_arrays(cls, keys: np.ndarray, values: np.ndarray, n: int) -> IntMap:
        """The map of ``n`` keys whose table :meth:`arrays` gave; ValueError unless the table
        has the size and the empty last slot that probing needs."""
        self = cls.__new__(cls)
        bits = max(4, (2 * n).bit_length())
        self._shift = np.uint64(64 - bits)
        if len(keys) != len(values) or len(keys) < (1 << bits) or keys[-1] != _EMPTY:
            raise ValueError("not an IntMap table of its size")
        self._keys, self._values = keys, values
        return self

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The table's keys (-1: empty slot) and values, for :meth:`from_arrays`."""
        return self._keys, self._values

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
            slot[pending] += 1
        return out
