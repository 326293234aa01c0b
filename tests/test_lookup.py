"""kanalml.lookup.IntMap against a plain dict."""

from __future__ import annotations

import numpy as np
import pytest

from kanalml.lookup import IntMap


@pytest.mark.parametrize("n", [0, 1, 7, 5_000])
def test_answers_like_a_dict(n: int) -> None:
    rng = np.random.default_rng(n)
    keys = np.unique(rng.integers(0, 2**62, n))
    values = rng.integers(0, 10**9, len(keys))
    mapping = IntMap(keys, values)
    expected = dict(zip(keys.tolist(), values.tolist()))
    queries = np.concatenate((keys, rng.integers(0, 2**62, 2 * n + 3), keys[::-1]))
    got = mapping.get(queries)
    assert got.tolist() == [expected.get(q, -1) for q in queries.tolist()]
    assert len(mapping) == len(keys)


def test_colliding_keys_all_found() -> None:
    # Keys a multiple of a large power of two apart share their low bits; consecutive
    # keys share high ones: both crowd some slots.
    keys = np.concatenate((np.arange(0, 2**40, 2**30), np.arange(10**6, 10**6 + 3000)))
    mapping = IntMap(keys, np.arange(len(keys)))
    np.testing.assert_array_equal(mapping.get(keys), np.arange(len(keys)))
    assert (mapping.get(keys + 2**50) == -1).all()
    assert mapping.get(np.array([2**50], dtype=np.int64), default=7).tolist() == [7]


def test_negative_keys_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        IntMap(np.array([3, -1]), np.array([0, 1]))
