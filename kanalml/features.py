"""Texts -> sparse features: word n-grams over stems and character n-grams over words.

Two blocks, hstacked:

* **word**: presence of stem unigrams and adjacent-stem bigrams, L2-normalized,
  scaled by ``word_weight``;
* **char**: character ``char_ngrams`` n-grams of the normalized words (before
  stemming; stopwords kept), counted once per distinct word and once per
  distinct adjacent word pair (the n-grams that cross the space between them),
  divided by the square root of their total.

The char block is built from *units* (distinct words and word pairs) so that it
decomposes: a linear score over it is a sum of per-unit partial scores over the
square root of a sum of per-unit counts. :meth:`Featurizer.decision` uses that to
score without building the char matrix at all: a post is read as its whitespace
chunks, each tokenized once and cached (:class:`_ChunkCache`), each distinct token
and word form worked out once, so a post of known words costs a dict look-up per
chunk, integer work in numpy over the batch and one sparse product per block, which
adds each text's values in a fixed order (a text scores the same in any batch).
:meth:`Featurizer.transform` builds the same features as an explicit matrix, for
training and inspection.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import accumulate, chain, pairwise, repeat
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

from kanalml.lookup import IntMap
from kanalml.preprocess import (
    CONTEXT,
    ENDS_DIGIT,
    LEADS_DIGIT,
    LETTER,
    LEXICON,
    ONE_CHAR,
    SPLIT,
    Preprocessor,
    as_text,
    chunks_tokens,
    needs_whole_text,
    split_across,
    tokenize,
)


def _load_csr_matvecs() -> Any:
    """SciPy's ``csr_matvecs``, the loop behind csr_matrix @ dense, without its ~0.2 ms of
    checks per call (measured); None if this SciPy has no such extension.

    The extension is loaded from its file, not through ``scipy.sparse``: importing that
    package costs ~0.3 s CPU (SciPy 1.17's array-API layer imports every numpy submodule,
    numpy.f2py included; ``python -X importtime``), a third of model load, and scoring needs
    only this one C function. The module is taken back out of ``sys.modules``, where loading
    it puts it, so a later ``import scipy.sparse`` imports the package as usual.
    """
    import importlib
    import importlib.machinery
    import importlib.util
    import sys

    name = "scipy.sparse._sparsetools"
    try:
        scipy = None if "scipy.sparse" in sys.modules else importlib.util.find_spec("scipy")
        for folder in (scipy.submodule_search_locations or []) if scipy else []:
            found = importlib.machinery.FileFinder(
                f"{folder}/sparse", (importlib.machinery.ExtensionFileLoader,
                                     importlib.machinery.EXTENSION_SUFFIXES)).find_spec(name)
            if found is not None and found.loader is not None:
                module: Any = importlib.util.module_from_spec(found)
                found.loader.exec_module(module)
                sys.modules.pop(name, None)
                break
        else:  # scipy.sparse already imported, or laid out differently: the usual import
            module = importlib.import_module(name)
    except ImportError:  # pragma: no cover - a SciPy that moved it: the public product
        return None
    return getattr(module, "csr_matvecs", None)


_csr_matvecs = _load_csr_matvecs()


_TERMS_LOCK = threading.Lock()  # reading a loaded model's vocabularies, once
_PAIR = "\x00"  # joins the two words of a pair unit; never inside a word
# Scored once by Featurizer.warm_up: words in and out of a model's table, slang, leetspeak.
_WARM_UP_POST = "Halo semua, yg pny kabar? k4fir pemerintah 2026 menuliskannya qwzkvb 💣"


def _word_ngrams(form: str, lo: int, hi: int) -> list[str]:
    padded = f" {form} "
    return [padded[i:i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]


def _cross_ngrams(left: str, right: str, lo: int, hi: int) -> list[str]:
    """N-grams of ``left right`` holding at least one character of each word."""
    text = f"{left} {right}"
    cut = len(left)
    return [text[i:i + n] for n in range(lo, hi + 1)
            for i in range(max(0, cut - n + 2), cut) if i + n <= len(text)]


def _unit_ngrams(unit: str, lo: int, hi: int) -> list[str]:
    left, _, right = unit.partition(_PAIR)
    return _cross_ngrams(left, right, lo, hi) if right else _word_ngrams(left, lo, hi)


def _units(forms: list[str]) -> list[str]:
    """Distinct words and distinct adjacent word pairs of one post, in first-seen order.

    The order is fixed so that float sums over units do not depend on hash seeds.
    """
    return list(dict.fromkeys(chain(forms, (a + _PAIR + b for a, b in pairwise(forms)))))


class _TokenCache(dict[str, int]):
    """Surface token -> token id; filled on first sight (see :meth:`ids`).

    A token id indexes numpy arrays of its stem ids and form id (see
    :meth:`arrays`), so a batch's tokens become arrays with one dict look-up each.
    Form ids (-1: no form) index ``forms``, the distinct normalized word forms seen.
    A full cache is replaced by the featurizer between calls, never emptied, so the
    ids a call gets all belong to one cache and its ``forms``. Every new word is
    stemmed: with :mod:`kanalml.stemmer` that costs ~4 us a word, less than the screen of
    words that could not stem to a model's stem cost before it (~14 us; dropping it took
    real posts new to the model from 8,844 to 11,804 posts/s, medians of 3, same scores).
    """

    def __init__(self, preprocessor: Preprocessor, stem_id: dict[str, int], size: int) -> None:
        super().__init__()
        self.preprocessor = preprocessor
        self.stem_id = stem_id
        self.size = size
        self.forms: list[str] = []
        self._form_id: dict[str, int] = {}
        # By token id: form id, where its stem ids start in _stems and how many. Int arrays,
        # not lists of ints and tuples: those were objects for the garbage collector to
        # count, which ran 49 times over the re_dataset stream's second half, 8 times now.
        self._form_of = array("q")
        self._stem_first = array("q")
        self._stem_count = array("q")
        self._stems = array("q")
        # (tokens covered, form id, first stem, stem count, stems): grown, never rewritten
        empty = np.zeros(0, dtype=np.int64)
        self._arrays: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (
            0, empty, empty, empty, empty)
        self._lock = threading.Lock()
        self.chunks = _ChunkCache(self)

    def ids(self, tokens: list[str]) -> list[int]:
        """The ids of ``tokens``; the new ones are analyzed together and registered under
        one taking of the lock."""
        try:
            return list(map(self.__getitem__, tokens))  # all known: one look-up each
        except KeyError:
            pass
        new = [t for t in dict.fromkeys(tokens) if t not in self]
        if new:
            analyzed = self.preprocessor.analyze_tokens(new)
            stems = [stems for stems, _ in analyzed]
            counts = list(map(len, stems))
            sids = list(map(self.stem_id.get, chain.from_iterable(stems), repeat(0)))
            forms = [form for _, form in analyzed]
            with self._lock:
                form_id = self._form_id
                fresh = [f for f in dict.fromkeys(forms) if f and f not in form_id]
                start = len(self.forms)
                self.forms += fresh  # before their ids are published
                form_id.update(zip(fresh, range(start, start + len(fresh))))
                tid = len(self._form_of)
                self._stem_first.extend(accumulate(counts[:-1], initial=len(self._stems)))
                self._stem_count.extend(counts)
                self._stems.extend(sids)
                self._form_of.extend(map(form_id.get, forms, repeat(-1)))  # "": no form, -1
                self.update(zip(new, range(tid, tid + len(new))))  # after the arrays are filled
        return list(map(self.__getitem__, tokens))

    def arrays(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(form id, first stem, stem count, stems) arrays covering token ids below ``n``."""
        done, *arrays = self._arrays
        if done >= n:
            return tuple(arrays)  # type: ignore[return-value]
        with self._lock:
            done, form, first, count, stems = self._arrays
            end = len(self._form_of)
            used = int(first[done - 1] + count[done - 1]) if done else 0
            total = len(self._stems)
            if end > len(form):
                size = max(2 * len(form), end, 1024)
                form, first, count = (np.resize(a[:done], size) for a in (form, first, count))
            if total > len(stems):
                stems = np.resize(stems[:used], max(2 * len(stems), total, 1024))
            form[done:end] = self._form_of[done:end]
            first[done:end] = self._stem_first[done:end]
            count[done:end] = self._stem_count[done:end]
            stems[used:total] = self._stems[used:total]
            self._arrays = (end, form, first, count, stems)
            return form, first, count, stems

    def unit(self, key: int) -> str:
        """The unit string of a unit key (see :func:`_unit_keys`)."""
        left, right = divmod(key, _PAIR_BASE)
        return self.forms[right] if not left else self.forms[left - 1] + _PAIR + self.forms[right]


class _ChunkCache(dict[str, int]):
    """Whitespace-free chunk of a post (``text.split()``) -> chunk id; filled on first sight
    (see :meth:`ids`).

    Tokenizing cost 56-65% of scoring new posts made of known words (profiled): its
    regex passes run per post and their cost is per character. A chunk's tokens
    seldom depend on the rest of the post (:func:`kanalml.preprocess.chunk_tokens`
    says when), and chunks recur as words do, so a post becomes one dict look-up per
    chunk: a chunk id indexes arrays of its token ids (see :meth:`arrays`) and flags.
    Its token ids belong to the owning :class:`_TokenCache`, which it is replaced with.
    """

    def __init__(self, tokens: _TokenCache) -> None:
        super().__init__()
        self.tokens = tokens
        self._token_ids = array("q")  # of every chunk, in chunk id order
        # By chunk id: where its token ids start in _token_ids, how many, flags, normalized text
        self._firsts = array("q")
        self._counts = array("q")
        self._flags = array("q")
        self._norms: list[str] = []
        empty = np.zeros(0, dtype=np.int64)
        # (chunks covered, first token, token count, flags, token ids): grown, never rewritten
        self._arrays: tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray] = (
            0, empty, empty, empty, empty)
        self._lock = threading.Lock()

    def ids(self, chunks: list[str]) -> list[int]:
        """The ids of ``chunks``; the new ones are tokenized together, their new tokens
        registered in one batch and the chunks under one taking of the lock.

        One chunk at a time (``__missing__``: a call, a lock taking, a list and a tuple
        each, and likewise per new token) cost ~1.5 us more per new chunk: the re_dataset
        stream's second half (21,130 new chunks, 10,107 new tokens) took 191 ms of CPU,
        159 ms this way (with the int arrays above; medians of 3).
        """
        try:
            return list(map(self.__getitem__, chunks))  # all known: one look-up each
        except KeyError:
            pass
        new = [c for c in dict.fromkeys(chunks) if c not in self]
        if new:
            surface, counts, flags, norms = chunks_tokens(new)
            tids = self.tokens.ids(surface)
            with self.tokens._lock:
                cid = len(self._counts)
                self._firsts.extend(accumulate(counts[:-1], initial=len(self._token_ids)))
                self._token_ids.extend(tids)
                self._flags.extend(flags)
                self._norms += norms
                self._counts.extend(counts)  # before the ids are published
                self.update(zip(new, range(cid, cid + len(new))))
        return list(map(self.__getitem__, chunks))

    def arrays(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(first token, token count, flags, token ids) arrays covering chunk ids below ``n``."""
        done, *arrays = self._arrays
        if done >= n:
            return tuple(arrays)  # type: ignore[return-value]
        with self.tokens._lock:
            done, first, count, flags, ids = self._arrays
            end = len(self._counts)
            used = int(first[done - 1] + count[done - 1]) if done else 0
            total = len(self._token_ids)
            if end > len(first):
                size = max(2 * len(first), end, 1024)
                first, count, flags = (np.resize(a[:done], size) for a in (first, count, flags))
            if total > len(ids):
                ids = np.resize(ids[:used], max(2 * len(ids), total, 1024))
            count[done:end] = self._counts[done:end]
            first[done:end] = self._firsts[done:end]
            flags[done:end] = self._flags[done:end]
            ids[used:total] = self._token_ids[used:total]
            self._arrays = (end, first, count, flags, ids)
            return first, count, flags, ids

    SMALL = 8  # texts: fewer go through Python lists (numpy's per-call cost dominates there)

    def token_ids(self, texts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(text index, token id) of every token of ``texts``, in order."""
        if len(texts) < self.SMALL:
            rows, tids = self.few_token_ids(texts)
            return np.array(rows, dtype=np.int64), np.array(tids, dtype=np.int64)
        # One list of chunks, no list per text: those, alive together, were most of the
        # objects a batch left for the garbage collector (64,028 for bench_speed's shuffled
        # posts), whose full passes took ~50 ms each.
        chunks: list[str] = []
        counts: list[int] = []
        for text in texts:
            words = (text if type(text) is str else as_text(text)).split()
            counts.append(len(words))
            chunks += words
        n_chunks = np.array(counts, dtype=np.int64)
        try:  # known chunks: one look-up each
            cid = np.fromiter(map(self.__getitem__, chunks), dtype=np.int64, count=len(chunks))
        except KeyError:  # new chunks: found with a default, then registered together
            cid = np.fromiter(map(self.get, chunks, repeat(-1)), dtype=np.int64,
                              count=len(chunks))
            missing = np.flatnonzero(cid < 0)
            cid[missing] = self.ids([chunks[i] for i in missing.tolist()])
        first, count, flags, ids = self.arrays(int(cid.max(initial=-1)) + 1)
        chunk_row = np.repeat(np.arange(len(texts), dtype=np.int64), n_chunks)
        whole = _whole_texts(chunk_row, flags[cid], len(texts))
        maybe = _maybe_split(chunk_row, flags[cid], len(texts)) & ~whole
        if maybe.any():  # a one-letter token: look for spaced-out letters across its chunks
            bounds = np.concatenate(([0], np.cumsum(n_chunks))).tolist()
            norms = self._norms
            for i in np.flatnonzero(maybe).tolist():
                ids_of = cid[bounds[i]:bounds[i + 1]].tolist()
                whole[i] = split_across([norms[c] for c in ids_of])
        if whole.any():  # rare: tokenized whole, their token ids put after the others
            keep = ~whole[chunk_row]
            cid, chunk_row = cid[keep], chunk_row[keep]
            extra_row, extra = self._whole(texts, np.flatnonzero(whole))
            span_row, at = _spans(first[cid], count[cid])
            row = np.concatenate((chunk_row[span_row], extra_row))
            order = np.argsort(row, kind="stable")
            return row[order], np.concatenate((ids[at], extra))[order]
        span_row, at = _spans(first[cid], count[cid])
        return chunk_row[span_row], ids[at]

    def few_token_ids(self, texts: Sequence[Any]) -> tuple[list[int], list[int]]:
        """:meth:`token_ids` of a few texts, the same ids worked out with lists."""
        rows: list[int] = []
        tids: list[int] = []
        token_ids, firsts, counts = self._token_ids, self._firsts, self._counts
        for i, text in enumerate(texts):
            cids = self.ids((text if type(text) is str else as_text(text)).split())
            flags = [self._flags[c] for c in cids]
            if needs_whole_text(flags, [self._norms[c] for c in cids] if any(
                    f & LETTER for f in flags) else []):
                ids = self.tokens.ids(tokenize(texts[i]))
            else:
                ids = [t for c in cids for t in token_ids[firsts[c]:firsts[c] + counts[c]]]
            rows += [i] * len(ids)
            tids += ids
        return rows, tids

    def _whole(self, texts: Sequence[Any], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        per_text = [tokenize(texts[i]) for i in rows.tolist()]
        n = np.fromiter(map(len, per_text), dtype=np.int64, count=len(per_text))
        tid = np.array(self.tokens.ids(list(chain.from_iterable(per_text))), dtype=np.int64)
        return np.repeat(rows, n), tid


def _having(chunk_row: np.ndarray, flags: np.ndarray, bit: int, n_texts: int) -> np.ndarray:
    """Mask of the texts with a chunk flagged ``bit``."""
    mask = np.zeros(n_texts, dtype=bool)
    mask[chunk_row[(flags & bit) != 0]] = True
    return mask


def _whole_texts(chunk_row: np.ndarray, flags: np.ndarray, n_texts: int) -> np.ndarray:
    """Mask of the texts to tokenize whole (see :func:`kanalml.preprocess.needs_whole_text`)
    from the flags of their chunks, in order, with ``chunk_row`` their texts (sorted);
    :func:`_maybe_split` names the texts that need a closer look."""
    whole = _having(chunk_row, flags, CONTEXT, n_texts) | (
        _having(chunk_row, flags, ONE_CHAR, n_texts) & _having(chunk_row, flags, SPLIT, n_texts))
    digits = ((flags[:-1] & ENDS_DIGIT) != 0) & ((flags[1:] & LEADS_DIGIT) != 0) \
        & (chunk_row[:-1] == chunk_row[1:])
    whole[chunk_row[:-1][digits]] = True
    return np.asarray(whole, dtype=bool)


def _maybe_split(chunk_row: np.ndarray, flags: np.ndarray, n_texts: int) -> np.ndarray:
    """Texts with a one-letter token (so also a one-character one): spaced-out letters may
    run across their chunks (:func:`kanalml.preprocess.split_across` tells)."""
    return _having(chunk_row, flags, LETTER, n_texts)


_PAIR_BASE = 1 << 32  # unit key: form id for a word, (left + 1) * _PAIR_BASE + right for a pair


def _unit_keys(doc: np.ndarray, form: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(doc, unit key) of every word and adjacent word pair: all words, then all pairs.

    ``doc`` and ``form``: the doc and form id of every token that has a form, in
    order. Each doc's units come in :func:`_units` order (its words, then its
    pairs), repeats included: see :func:`_first_seen`.
    """
    adjacent = doc[:-1] == doc[1:]
    docs = np.concatenate((doc, doc[:-1][adjacent]))
    keys = np.concatenate((form, (form[:-1][adjacent] + 1) * _PAIR_BASE + form[1:][adjacent]))
    return docs, keys


def _first_seen(doc: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each (doc, id); ``ids`` are small non-negative ints."""
    if not len(ids):
        return np.ones(0, dtype=bool)
    combined = doc * (int(ids.max()) + 1) + ids
    order = np.argsort(combined, kind="stable")  # the first of equal pairs comes first
    ranked = combined[order]
    keep = np.ones(len(ids), dtype=bool)
    keep[order[1:][ranked[1:] == ranked[:-1]]] = False
    return keep


class _UnitCache(dict[str, tuple[int, ...]]):
    """Char unit -> its char-vocabulary columns (with repeats); filled on first sight, bounded."""

    def __init__(self, vocabulary: dict[str, int], ngrams: tuple[int, int], size: int) -> None:
        super().__init__()
        self.vocabulary = vocabulary
        self.ngrams = ngrams
        self.size = size
        self.crossing: dict[tuple[str, str], tuple[int, ...]] = {}

    def columns(self, unit: str) -> tuple[int, ...]:
        """The unit's columns, worked out without caching the unit itself.

        A pair's n-grams cross the space between its words, so they depend only on
        the last and first ``high - 2`` letters of the two words: those columns are
        cached under that much shorter key, which new pairs mostly share.
        """
        left, _, right = unit.partition(_PAIR)
        if right:
            reach = self.ngrams[1] - 2
            key = (left[-reach:], right[:reach])
            cols = self.crossing.get(key)
            if cols is None:
                if len(self.crossing) >= self.size:
                    self.crossing = {}
                cols = self.crossing[key] = self._lookup(_cross_ngrams(*key, *self.ngrams))
            return cols
        return self._lookup(_word_ngrams(left, *self.ngrams))

    def _lookup(self, grams: list[str]) -> tuple[int, ...]:
        get = self.vocabulary.get
        return tuple(j for g in grams if (j := get(g)) is not None)

    def __missing__(self, unit: str) -> tuple[int, ...]:
        cols = self.columns(unit)
        if len(self) >= self.size:
            self.clear()
        self[unit] = cols
        return cols


class _GramChars:
    """A vocabulary's n-grams as arrays: ``chars[k]`` holds the code point of each
    n-gram's character k (-1 past its end); shared by the two tables built from it."""

    def __init__(self, grams: Sequence[str], first_column: int) -> None:
        """``grams`` take the columns from ``first_column`` on, in order."""
        self.grams = list(grams)
        self.columns = np.arange(first_column, first_column + len(self.grams), dtype=np.int64)
        self.lengths = np.fromiter(map(len, self.grams), dtype=np.int64, count=len(self.grams))
        self.codes = _codes("".join(self.grams))
        starts = np.cumsum(self.lengths) - self.lengths
        last = max(len(self.codes) - 1, 0)
        padded = self.codes if len(self.codes) else np.zeros(1, dtype=np.int64)
        self.chars = np.full((int(self.lengths.max(initial=0)), len(self.grams)), -1,
                             dtype=np.int64)
        for k, row in enumerate(self.chars):
            row[:] = np.where(self.lengths > k, padded[np.minimum(starts + k, last)], -1)


class _CharTable:
    """Char n-gram -> vocabulary column in numpy, to work out many new units at once.

    Each character of the vocabulary gets a small id (0 = any other character) and
    an n-gram the integer ``n * B**hi + sum(id * B**k)`` (B = ids + 1), so a batch
    of units is matched with numpy (an :class:`~kanalml.lookup.IntMap`) instead of
    one dict look-up per n-gram.
    """

    CHUNK = 1 << 20  # characters of unit text per numpy pass: bounds the temporaries

    def __init__(self, grams: _GramChars, ngrams: tuple[int, int]) -> None:
        self.lo, self.hi = ngrams
        self.alphabet = np.flatnonzero(np.bincount(grams.codes)) if len(grams.codes) else \
            np.zeros(0, dtype=np.int64)
        self.base = len(self.alphabet) + 1
        # Code point -> id; the last entry (0) stands for any code point above the alphabet.
        self._id_of = np.zeros(int(self.alphabet.max(initial=0)) + 2, dtype=np.int64)
        self._id_of[self.alphabet] = np.arange(1, self.base)
        if self.base ** (self.hi + 1) * (self.hi + 1) >= 2**63:
            raise ValueError("char vocabulary alphabet too large for int64 n-gram keys")
        keys = np.zeros(len(grams.lengths), dtype=np.int64)
        for k, chars in enumerate(grams.chars):
            keys = np.where(grams.lengths > k, keys * self.base + self._ids(chars), keys)
        keys += grams.lengths * self.base ** self.hi
        self.columns = IntMap(keys, grams.columns)

    def state(self) -> dict[str, np.ndarray]:
        """The alphabet and the n-gram map, as :meth:`from_state` takes them back."""
        keys, values = self.columns.arrays()
        return {"char_alphabet": self.alphabet, "char_keys": keys, "char_columns": values}

    @classmethod
    def from_state(cls, ngrams: tuple[int, int], alphabet: np.ndarray, keys: np.ndarray,
                   values: np.ndarray, columns: range) -> _CharTable:
        """A table saved by :meth:`state` for the n-grams of ``columns``; ValueError unless
        the alphabet is code points in order and the map holds those columns."""
        self = cls.__new__(cls)
        self.lo, self.hi = ngrams
        if len(alphabet) and not (int(alphabet[0]) >= 0 and int(alphabet[-1]) < 0x110000
                                  and bool((alphabet[1:] > alphabet[:-1]).all())):
            raise ValueError("char alphabet is not code points in order")
        self.alphabet = alphabet
        self.base = len(alphabet) + 1
        self._id_of = np.zeros(int(alphabet.max(initial=0)) + 2, dtype=np.int64)
        self._id_of[alphabet] = np.arange(1, self.base)
        if self.base ** (self.hi + 1) * (self.hi + 1) >= 2**63:
            raise ValueError("char vocabulary alphabet too large for int64 n-gram keys")
        self.columns = IntMap.from_arrays(keys, values, len(columns))
        held = values[keys != -1]
        if len(held) != len(columns) or (len(held) and not (
                int(held.min()) == columns.start and int(held.max()) == columns.stop - 1)):
            raise ValueError("char n-gram map does not hold the char columns")
        return self

    def _ids(self, codes: np.ndarray) -> np.ndarray:
        """Char id of each code point (0: not in the vocabulary, or -1 for none)."""
        ids: np.ndarray = self._id_of[np.clip(codes, 0, len(self._id_of) - 1)]
        return ids

    def rows(self, units: list[str], weights: np.ndarray) -> np.ndarray:
        """(count, partial score per output) of each unit: its in-vocabulary n-grams."""
        out = np.zeros((len(units), weights.shape[1] + 1))
        start = 0
        while start < len(units):
            end, size = start, 0
            while end < len(units) and (size < self.CHUNK or end == start):
                size += len(units[end]) + 2
                end += 1
            out[start:end] = self._rows(units[start:end], weights)
            start = end
        return out

    def _rows(self, units: list[str], weights: np.ndarray) -> np.ndarray:
        texts, cuts = self._texts(units)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        offsets = np.cumsum(lengths) - lengths
        ids = self._ids(_codes("".join(texts)))
        sizes = np.arange(max(self.lo, 2), self.hi + 1)
        # keys[s, i]: the n-gram of sizes[s] characters starting at position i
        keys = np.zeros((len(sizes), len(ids)), dtype=np.int64)
        key = ids.copy()
        for n in range(2, self.hi + 1):
            key = key[:-1] * self.base + ids[n - 1:]
            if n >= sizes[0]:
                keys[n - sizes[0], :len(key)] = key + n * self.base ** self.hi
        # Valid starts per unit and size: any for a word; for a pair, those holding a letter
        # of each side. Spans by unit, then size, then start: each unit's n-grams in
        # _word_ngrams order, the order _sum adds them in.
        word = (cuts < 0)[:, None]
        first = np.where(word, 0, np.maximum(cuts[:, None] - sizes + 2, 0))
        last = np.where(word, lengths[:, None] - sizes,
                        np.minimum(cuts[:, None] - 1, lengths[:, None] - sizes))
        span, pos = _spans((first + offsets[:, None]).ravel(),
                           np.maximum(last - first + 1, 0).ravel())
        return self._sum(span // len(sizes), keys[span % len(sizes), pos], len(units), weights)

    def _texts(self, units: list[str]) -> tuple[list[str], np.ndarray]:
        """Text to cut n-grams from and, for a pair, where its space is (-1 for a word)."""
        reach = self.hi - 2  # a crossing n-gram holds at most this much of either word
        texts, cuts = [], []
        for unit in units:
            left, _, right = unit.partition(_PAIR)
            if right:
                left = left[-reach:]
                texts.append(f"{left} {right[:reach]}")
                cuts.append(len(left))
            else:
                texts.append(f" {left} ")
                cuts.append(-1)
        return texts, np.array(cuts, dtype=np.int64)

    def _sum(self, owner: np.ndarray, keys: np.ndarray, n_units: int,
             weights: np.ndarray) -> np.ndarray:
        """``owner`` sorted, each unit's n-grams in _word_ngrams order (n, then position):
        the order its sums add them in. A bincount per output over gathered weights took
        16 of these 24 ms for 9,145 new forms (measured); one sparse product takes ~2."""
        cols = self.columns.get(keys)
        hit = cols >= 0
        owner, cols = owner[hit], cols[hit]
        out = np.empty((n_units, weights.shape[1] + 1))
        out[:, 0] = np.bincount(owner, minlength=n_units)
        out[:, 1:] = _picked_sums(owner, cols, weights, n_units)
        return out


class _CrossTable:
    """The n-grams crossing the space between two words, as dense tables of classes.

    A crossing n-gram is ``a`` last characters of the left word, a space and ``b``
    first characters of the right word. Each split (a, b) gets a table indexed by
    (class of the left word's a-character suffix, class of the right word's
    b-character prefix), holding the n-gram's entry (-1: not in the vocabulary).
    Classes are the suffixes and prefixes that occur in some such n-gram, plus
    one for any other; a word's classes are worked out once (:meth:`classes`),
    then each pair costs one table read per split, with no string built.
    """

    def __init__(self, grams: _GramChars, ngrams: tuple[int, int]) -> None:
        lo, hi = ngrams
        self.reach = max(hi - 2, 0)
        # (a, b) in the order of _cross_ngrams: by size, then by start.
        self.splits = [(a, n - 1 - a) for n in range(max(lo, 3), hi + 1)
                       for a in range(n - 2, 0, -1)]
        table = grams
        names_of, lengths, chars = table.grams, table.lengths, table.chars
        crossing = [(lengths == a + b + 1) & (chars[a] == ord(" ")) if a < len(chars)
                    else np.zeros(len(names_of), dtype=np.bool_) for a, b in self.splits]
        self.suffixes: list[dict[str, int]] = [{} for _ in range(self.reach + 1)]
        self.prefixes: list[dict[str, int]] = [{} for _ in range(self.reach + 1)]
        suffix_of: dict[tuple[int, int], np.ndarray] = {}
        prefix_of: dict[tuple[int, int], np.ndarray] = {}
        for size in range(1, self.reach + 1):
            for left in (True, False):
                # The grams holding ``size`` characters of the left (or right) word: their
                # parts of that word as integer keys, then one class per distinct part.
                splits = [k for k, (a, b) in enumerate(self.splits) if (a if left else b) == size]
                if not splits:
                    continue
                rows, keys, cuts = [], [], []
                for k in splits:
                    a, _ = self.splits[k]
                    at = np.flatnonzero(crossing[k])
                    key = np.zeros(len(at), dtype=np.int64)
                    for c in (range(0, a) if left else range(a + 1, a + 1 + size)) if len(at) \
                            else ():
                        key = key * 0x110000 + chars[c][at]
                    rows.append(at)
                    keys.append(key)
                    cuts.append(slice(0, a) if left else slice(a + 1, None))
                _, first, inverse = np.unique(np.concatenate(keys), return_index=True,
                                              return_inverse=True)
                owner = np.repeat(np.arange(len(splits)), [len(r) for r in rows])
                flat = np.concatenate(rows)
                names = self.suffixes[size] if left else self.prefixes[size]
                for j, at in enumerate(first.tolist()):
                    names[names_of[flat[at]][cuts[owner[at]]]] = j
                bounds = np.cumsum([0] + [len(r) for r in rows]).tolist()
                for i, k in enumerate(splits):
                    (suffix_of if left else prefix_of)[self.splits[k]] = \
                        inverse[bounds[i]:bounds[i + 1]]
        # Class "any other" of a size is its last class; its rows and columns stay -1.
        self.table = np.full(self._index(), -1, dtype=np.int32)
        for k, split in enumerate(self.splits):
            found = np.flatnonzero(crossing[k])
            at = self.offsets[k] + suffix_of[split] * self.widths[k] + prefix_of[split]
            self.table[at] = table.columns[found]

    def _index(self) -> int:
        """Set the splits' places in the table from the class counts; returns its size."""
        self.widths = [len(self.prefixes[b]) + 1 for _, b in self.splits]
        sizes = [(len(self.suffixes[a]) + 1) * w for (a, _), w in zip(self.splits, self.widths)]
        self.offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int64).tolist()
        lefts, rights = np.array(self.splits, dtype=np.int64).reshape(-1, 2).T
        self._split_index = (lefts - 1, self.reach + rights - 1,
                             np.array(self.widths, dtype=np.int64),
                             np.array(self.offsets, dtype=np.int64))
        return sum(sizes)

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, list[list[str]]]]:
        """The table's entries (where, which column) and its classes, as :meth:`from_state`
        takes them back. Only entries: 96% of the default model's table is empty, and
        reading and hashing its 22 MB cost more than filling it (measured)."""
        at = np.flatnonzero(self.table >= 0)
        return ({"cross_at": at.astype(np.int32), "cross_columns": self.table[at]},
                {"suffixes": [list(d) for d in self.suffixes],
                 "prefixes": [list(d) for d in self.prefixes]})

    @classmethod
    def from_state(cls, ngrams: tuple[int, int], at: np.ndarray, columns: np.ndarray,
                   suffixes: list[list[str]], prefixes: list[list[str]],
                   n_features: int) -> _CrossTable:
        """A table saved by :meth:`state`; ValueError unless it fits ``ngrams`` and its
        entries are columns below ``n_features`` in places inside the table."""
        self = cls.__new__(cls)
        lo, hi = ngrams
        self.reach = max(hi - 2, 0)
        self.splits = [(a, n - 1 - a) for n in range(max(lo, 3), hi + 1)
                       for a in range(n - 2, 0, -1)]
        if len(suffixes) != self.reach + 1 or len(prefixes) != self.reach + 1:
            raise ValueError(f"cross table classes for {len(suffixes) - 1} characters, "
                             f"expected {self.reach}")
        self.suffixes = [dict(zip(names, range(len(names)))) for names in suffixes]
        self.prefixes = [dict(zip(names, range(len(names)))) for names in prefixes]
        if any(len(d) != len(names) for d, names in zip(self.suffixes + self.prefixes,
                                                         suffixes + prefixes)):
            raise ValueError("cross table classes repeat")
        if any(set(map(len, names)) - {k} for side in (suffixes, prefixes)
               for k, names in enumerate(side)):
            raise ValueError("cross table classes of the wrong length")
        size = self._index()
        if len(at) != len(columns) or (len(at) and not (
                int(at.min()) >= 0 and int(at.max()) < size
                and int(columns.min()) >= 0 and int(columns.max()) < n_features)):
            raise ValueError("cross table entries outside the table or the feature columns")
        self.table = np.full(size, -1, dtype=np.int32)
        self.table[at] = columns
        return self

    def classes(self, forms: list[str]) -> np.ndarray:
        """Per form: the class of its last 1..reach characters, then of its first 1..reach.

        From _FEW_FORMS forms on, in numpy: a form's k edge characters packed into one
        integer, searched among the names of that size packed alike (:func:`_packed_names`).
        A dict look-up per form and size took 10.7 ms for the 9,145 new forms of the
        re_dataset stream's second half, a third of working out their char scores; 5.3 ms
        this way (measured).
        """
        reach = self.reach
        out = np.empty((len(forms), 2 * reach), dtype=np.int64)
        if len(forms) < _FEW_FORMS:
            for k in range(1, reach + 1):
                get, other = self.suffixes[k].get, len(self.suffixes[k])
                out[:, k - 1] = [get(f[-k:], other) if len(f) >= k else other for f in forms]
                get, other = self.prefixes[k].get, len(self.prefixes[k])
                out[:, reach + k - 1] = [get(f[:k], other) if len(f) >= k else other
                                         for f in forms]
            return out
        id_of, base, packed = self.__dict__.get("_packed") or self.__dict__.setdefault(
            "_packed", _packed_names(self.suffixes, self.prefixes, reach))
        lengths = np.fromiter(map(len, forms), dtype=np.int64, count=len(forms))
        ends = np.cumsum(lengths)
        # Char ids (0: in no name), then a 0 read past the edge of a form shorter than k:
        # a key holding a 0 is no name's, whose characters' ids are 1 and up.
        ids = np.append(id_of[np.minimum(_codes("".join(forms)), len(id_of) - 1)], 0)
        zero = len(ids) - 1
        last, first = np.zeros((2, len(forms)), dtype=np.int64)  # keys of the last / first k
        for k in range(1, reach + 1):
            short = lengths < k
            last += ids[np.where(short, zero, ends - k)] * base ** (k - 1)
            first = first * base + ids[np.where(short, zero, ends - lengths + k - 1)]
            for column, key in ((k - 1, last), (reach + k - 1, first)):
                names, classes = packed[column]
                at = np.minimum(np.searchsorted(names, key), max(len(names) - 1, 0))
                found = names[at] == key if len(names) else np.zeros(len(forms), dtype=bool)
                out[:, column] = np.where(found, classes[at] if len(names) else 0, len(names))
        return out

    def entries(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """The feature columns (-1: none) of the pairs of forms with :meth:`classes`
        ``left`` and ``right``: one column per split, in :func:`_cross_ngrams` order."""
        suffix, prefix, widths, offsets = self._split_index
        if not len(left) or not self.splits:
            return np.zeros((len(left), len(self.splits)), dtype=np.int32)
        found: np.ndarray = self.table[left[:, suffix] * widths + right[:, prefix] + offsets]
        return found

    def pair_sums(self, doc: np.ndarray, left: np.ndarray, right: np.ndarray,
                  weights: np.ndarray, n_rows: int) -> np.ndarray:
        """(count, partial score per output) of each of ``n_rows`` texts over its pairs,
        ``doc`` (sorted) saying whose each pair is.

        Only the columns found are gathered (most crossing n-grams are not in the
        vocabulary), and added per text in one fixed order - its pairs in order, each
        pair's splits in order - so a text's sums do not depend on the other texts.
        Gathering a row of every split of every pair and adding them per pair, then per
        text, took 22% of scoring new posts of known words (profiled).
        """
        found = self.entries(left, right).ravel()
        hit = found >= 0
        owner = np.repeat(doc, len(self.splits))[hit] if n_rows > 1 else doc
        out = np.empty((n_rows, weights.shape[1] + 1))
        out[:, 0] = np.bincount(owner, minlength=n_rows) if n_rows > 1 else hit.sum()
        out[:, 1:] = _picked_sums(owner, found[hit], weights, n_rows)
        return out


def _picked_sums(row: np.ndarray, picks: np.ndarray, table: np.ndarray, n_rows: int,
                 scale: np.ndarray | None = None) -> np.ndarray:
    """Per ``row`` (sorted), the sum of ``table[picks]`` (rows times ``scale``); zeros elsewhere.
    With one row, ``row`` is not read.

    The picks, as a sparse (rows x table rows) matrix, times ``table``: added in C
    with no gathered copy. Gathering 2.5M rows of 12 floats for new posts of known
    words wrote a 236 MB array and took 0.8 s, most of the scoring time (profiled).
    Each row's picks are added in order from zero, however many rows there are, so
    a text's sums do not depend on the batch.
    """
    out = np.zeros((n_rows, table.shape[1]))
    if not len(picks):
        return out
    # int32 picks (the pair tables' entries) stay int32: the index arrays need one type
    index = np.int32 if picks.dtype == np.int32 and len(picks) < 2**31 else np.int64
    if n_rows == 1:
        indptr = np.array((0, len(picks)), dtype=index)
    else:
        indptr = np.zeros(n_rows + 1, dtype=index)
        np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    data = np.ones(len(picks)) if scale is None else np.ascontiguousarray(scale, dtype=np.float64)
    picks = np.ascontiguousarray(picks, dtype=index)
    table = np.ascontiguousarray(table, dtype=np.float64)
    if _csr_matvecs is None:
        import scipy.sparse as sp

        return np.asarray(sp.csr_matrix((data, picks, indptr), shape=(n_rows, len(table)))
                          @ table)
    _csr_matvecs(n_rows, len(table), table.shape[1], indptr, picks, data, table.ravel(),
                 out.ravel())
    return out


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def _packed_names(suffixes: list[dict[str, int]], prefixes: list[dict[str, int]], reach: int
                  ) -> tuple[np.ndarray, int, list[tuple[np.ndarray, np.ndarray]]]:
    """A :class:`_CrossTable`'s names as integers, for :meth:`_CrossTable.classes`: (char id
    by code point, base, per column of the classes the names of its size packed, sorted,
    and their classes). Built on first need (~2.6 ms for the shipped model)."""
    tables = [*suffixes[1:], *prefixes[1:]]
    alphabet = np.unique(_codes("".join(chain.from_iterable(tables))))
    id_of = np.zeros(int(alphabet.max(initial=0)) + 2, dtype=np.int64)
    id_of[alphabet] = np.arange(1, len(alphabet) + 1)
    base = len(alphabet) + 1  # base ** reach < 2 ** 63: _CharTable checks a larger power
    packed = []
    for column, table in enumerate(tables):
        k = column % reach + 1
        codes = _codes("".join(table)).reshape(len(table), k)
        key = np.zeros(len(table), dtype=np.int64)
        for i in range(k):
            key = key * base + id_of[codes[:, i]]
        order = np.argsort(key)
        classes = np.fromiter(table.values(), dtype=np.int64, count=len(table))
        packed.append((key[order], classes[order]))
    return id_of, base, packed


def _spans(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(span index, position) of every position in the spans [start, start + length)."""
    span = np.repeat(np.arange(len(starts)), lengths)
    first = np.cumsum(lengths) - lengths
    return span, starts[span] + np.arange(len(span)) - first[span]


class _FormScores:
    """Char scores per normalized word form, for one weight matrix and one token cache.

    Arrays indexed by form id (append-only, like the forms): ``rows`` holds the
    (count, partial score per output) of each form as a word unit, ``edges`` its
    first and last characters (see :meth:`_CharTable.edges`), from which the
    rows of its pairs are worked out in numpy. Arrays are replaced when they
    grow and filled before ``filled`` is raised, so a reader that sees
    ``filled >= n`` finds the first n forms in whatever arrays it reads next.
    """

    def __init__(self, chars: _CharTable, cross: _CrossTable, tokens: _TokenCache,
                 weights: np.ndarray) -> None:
        self.chars = chars
        self.cross = cross
        self.tokens = tokens  # form ids are its ids
        self.weights = weights
        self.rows = np.zeros((0, weights.shape[1] + 1))
        self.edges = np.zeros((0, 2 * cross.reach), dtype=np.int64)
        self.filled = 0
        self._lock = threading.Lock()

    def fill(self, n: int) -> None:
        """Work out the first ``n`` forms (those not done yet, in one numpy pass)."""
        with self._lock:
            start = self.filled
            if n <= start:
                return
            forms = self.tokens.forms[start:n]
            rows = self.chars.rows(forms, self.weights)
            edges = self.cross.classes(forms)
            if n > len(self.rows):
                size = max(2 * len(self.rows), n, 1024)
                grown_rows = np.zeros((size, rows.shape[1]))
                grown_edges = np.zeros((size, edges.shape[1]), dtype=np.int64)
                grown_rows[:start], grown_edges[:start] = self.rows[:start], self.edges[:start]
                grown_rows[start:n], grown_edges[start:n] = rows, edges
                self.rows, self.edges = grown_rows, grown_edges
            else:
                self.rows[start:n], self.edges[start:n] = rows, edges
            self.filled = n


_FEW_UNITS = 256  # tokens: fewer are sorted out with sets (numpy's per-call cost dominates)
_FEW_FORMS = 100  # forms: fewer are classed by dict look-ups (numpy's ~60 us per call)


def _few_distinct_units(doc: list[int], form: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_distinct_units` of a few tokens, with sets."""
    seen: set[tuple[int, ...]] = set()
    first = []
    for unit in zip(doc, form):
        first.append(unit not in seen)
        seen.add(unit)
    left = []
    for i in range(len(form) - 1):
        pair = (doc[i], form[i], form[i + 1], -1)
        if doc[i + 1] == doc[i] and pair not in seen:
            seen.add(pair)
            left.append(i)
    return np.array(first, dtype=bool), np.array(left, dtype=np.int64)


def _distinct_units(doc: np.ndarray, form: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First occurrence in its text of each word, and of each adjacent word pair.

    ``doc`` and ``form``: the text and form id of every token with a form, in
    order. Returns (mask of the distinct words over the tokens, positions of the
    distinct pairs' left words): a pair is the tokens at ``left`` and ``left + 1``.
    Only pairs whose two words both recur in the text can recur, so only those
    are sorted.
    """
    n = len(form)
    if not n:
        return np.ones(0, dtype=bool), np.zeros(0, dtype=np.int64)
    if n < _FEW_UNITS:
        return _few_distinct_units(doc.tolist(), form.tolist())
    key = doc * (int(form.max()) + 1) + form
    order = np.argsort(key, kind="stable")  # the first of equal keys comes first
    same = key[order[1:]] == key[order[:-1]]
    first = np.ones(n, dtype=bool)
    first[order[1:][same]] = False
    recurs_sorted = np.zeros(n, dtype=bool)
    recurs_sorted[1:] = same
    recurs_sorted[:-1] |= same
    recurs = np.empty(n, dtype=bool)
    recurs[order] = recurs_sorted
    left = np.flatnonzero(doc[:-1] == doc[1:])
    pair_first = np.ones(len(left), dtype=bool)
    maybe = np.flatnonzero(recurs[left] & recurs[left + 1])
    if len(maybe):
        at = left[maybe]
        ranked = maybe[np.lexsort((maybe, form[at + 1], form[at], doc[at]))]
        a = left[ranked]
        dup = ((doc[a[1:]] == doc[a[:-1]]) & (form[a[1:]] == form[a[:-1]])
               & (form[a[1:] + 1] == form[a[:-1] + 1]))
        pair_first[ranked[1:][dup]] = False
    return first, left[pair_first]


class Featurizer:
    """Word and character n-gram features of Indonesian posts (scikit-learn style).

    Parameters: ``ngram_max`` (word n-grams, 1 or 2), ``char_ngrams`` (low, high;
    ``None`` for no char block), ``min_df`` (minimum document count for any
    feature), ``word_weight`` (scale of the word block), ``cache_size``,
    ``content_only`` (see :class:`~kanalml.preprocess.Preprocessor`: no feature from
    pronouns, modals, address or "admin") and ``min_words``: each block is normalized as if
    the post had at least this many words, so a one-word post does not carry its word's
    whole weight (0: plain normalization). Models saved before these two existed load with
    ``content_only=False, min_words=0``, as they were trained.
    Fitted attributes: ``preprocessor_``, ``vocabulary_`` (word term -> column,
    bigrams as ``"a b"``), ``char_vocabulary_`` (n-gram -> column, after the word
    block) and ``n_features_``.
    """

    # Fitted: the vocabularies, or (a loaded model) how to read them on first need.
    _terms_: tuple[dict[str, int], list[str]] | None = None
    _read_terms: Callable[[], tuple[list[str], list[str]]] | None = None

    def __init__(self, ngram_max: int = 2, char_ngrams: tuple[int, int] | None = (3, 6),
                 min_df: int = 2, word_weight: float = 1.0, cache_size: int = 500_000,
                 content_only: bool = True, min_words: int = 8) -> None:
        self.ngram_max = ngram_max
        self.char_ngrams = char_ngrams
        self.min_df = min_df
        self.word_weight = word_weight
        self.cache_size = cache_size
        self.content_only = content_only
        self.min_words = min_words

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The parameters, read from ``__init__``'s signature as scikit-learn does, sorted."""
        import inspect

        return sorted(p.name for p in inspect.signature(cls.__init__).parameters.values()
                      if p.name != "self")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameter name -> value (scikit-learn's contract; nothing nested, so ``deep`` is
        ignored)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params: Any) -> Featurizer:
        """Set parameters by name and return self; an unknown name is a ValueError, as in
        scikit-learn. A fitted featurizer must be fitted again for them to apply."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self!r}. "
                                 f"Valid parameters are: {valid!r}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        """As scikit-learn shows an estimator: the parameters that differ from the defaults."""
        import inspect

        defaults = {p.name: p.default
                    for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{name}={value!r}" for name, value in self.get_params().items()
                   if value != defaults.get(name)]
        return f"{type(self).__name__}({', '.join(changed)})"

    def _check_is_fitted(self) -> None:
        """scikit-learn's NotFittedError before fit (imported here: sklearn costs seconds to
        import, and scoring never needs it)."""
        if "n_features_" not in self.__dict__:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 "'fit' with appropriate arguments before using this estimator.")

    # -- fitting -----------------------------------------------------------------
    def fit(self, texts: Iterable[Any], y: Any = None) -> Featurizer:
        """Learn the stem table and both vocabularies from ``texts``."""
        texts = list(texts)
        pre = Preprocessor(content_only=self.content_only).fit(texts)
        word_df: Counter[str] = Counter()
        char_df: Counter[str] = Counter()
        for text in texts:
            stems: list[str] = []
            forms: list[str] = []
            for token in tokenize(text):
                token_stems, form = pre.analyze_token(token)
                stems += token_stems
                if form:
                    forms.append(form)
            terms = set(stems)
            if self.ngram_max >= 2:
                terms.update(f"{a} {b}" for a, b in pairwise(stems))
            word_df.update(terms)
            if self.char_ngrams:
                lo, hi = self.char_ngrams
                char_df.update({g for u in _units(forms) for g in _unit_ngrams(u, lo, hi)})
        words = sorted(t for t, n in word_df.items() if n >= self.min_df)
        chars = sorted(g for g, n in char_df.items() if n >= self.min_df)
        return self._set_fitted(pre, words, chars)

    def _set_fitted(self, pre: Preprocessor, words: Sequence[str],
                    chars: Sequence[str]) -> Featurizer:
        self.preprocessor_ = pre
        self._terms_ = (dict(zip(words, range(len(words)))), list(chars))
        self._n_words = len(words)
        self.n_features_ = len(words) + len(chars)
        self._build_tables()
        return self

    @property
    def vocabulary_(self) -> dict[str, int]:
        """Word term -> column (bigrams as ``"a b"``); read from the saved model on first use."""
        return self._terms()[0]

    @property
    def char_vocabulary_(self) -> dict[str, int]:
        """Char n-gram -> column (after the word block); built on first use."""
        vocabulary = self.__dict__.get("_char_vocabulary")  # not in a pickle's state
        if vocabulary is None:
            start = self._n_words
            grams = self._terms()[1]
            vocabulary = dict(zip(grams, range(start, start + len(grams))))
            self._char_vocabulary = vocabulary
        return vocabulary

    def _terms(self) -> tuple[dict[str, int], list[str]]:
        """(word vocabulary, char n-grams in column order). A featurizer loaded from saved
        tables (:meth:`from_tables`) reads them on first need: scoring never does, and
        parsing the default model's 452,577 terms cost 0.03-0.1 s of its load (measured)."""
        terms = self.__dict__.get("_terms_")
        if terms is None:
            with _TERMS_LOCK:
                terms = self.__dict__.get("_terms_")
                read = self.__dict__.get("_read_terms")
                if terms is None:
                    if read is None:
                        raise AttributeError("vocabulary_")  # not fitted: hasattr() is False
                    words, chars = read()
                    if len(words) != self._n_words or len(words) + len(chars) != self.n_features_:
                        raise ValueError(f"{len(words):,} words and {len(chars):,} char n-grams "
                                         f"for {self.n_features_:,} features")
                    terms = self._terms_ = (dict(zip(words, range(len(words)))), list(chars))
        assert terms is not None
        return terms

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (say, sent to a Dask worker) without its caches, which hold a lock: the
        receiving process builds its own."""
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        if "n_features_" in self.__dict__:
            state.update(_terms_=self._terms(), _n_words=self._n_words)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "n_features_" in state:
            self._build_tables()

    @classmethod
    def from_fitted(cls, params: dict[str, Any], words: Sequence[str], chars: Sequence[str],
                    preprocessor: Preprocessor) -> Featurizer:
        """Rebuild a fitted featurizer from its vocabularies (a format-1 model)."""
        featurizer = cls._with_params(params, preprocessor)
        return featurizer._set_fitted(preprocessor, words, chars)

    @classmethod
    def _with_params(cls, params: dict[str, Any], preprocessor: Preprocessor) -> Featurizer:
        params = dict(params)
        if params.get("char_ngrams") is not None:
            params["char_ngrams"] = tuple(params["char_ngrams"])
        featurizer = cls(**params)
        preprocessor.content_only = featurizer.content_only
        featurizer.preprocessor_ = preprocessor
        return featurizer

    def scoring_tables(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The look-up tables scoring reads, as arrays and as JSON-ready strings and counts:
        what a saved model holds so that :meth:`from_tables` builds nothing."""
        self._check_is_fitted()
        arrays = {"unigram": self._unigram, "bigram_keys": self._bigram_keys,
                  "bigram_cols": self._bigram_cols}
        strings: dict[str, Any] = {"words": self._n_words,
                                   "chars": self.n_features_ - self._n_words,
                                   "stems": list(self._tokens.stem_id)}
        if self.char_ngrams:
            chars, cross = self._char_tables()
            cross_arrays, classes = cross.state()
            arrays.update(chars.state(), **cross_arrays)
            strings.update(classes)
        return arrays, strings

    @classmethod
    def from_tables(cls, params: dict[str, Any], preprocessor: Preprocessor,
                    arrays: dict[str, np.ndarray], strings: dict[str, Any],
                    read_terms: Callable[[], tuple[list[str], list[str]]]) -> Featurizer:
        """A fitted featurizer from :meth:`scoring_tables`' output (a format-2 model);
        ``read_terms`` gives (words, char n-grams) when something needs them (explaining,
        :meth:`transform`, pickling). ValueError, KeyError or TypeError if the tables do not
        fit together: every index they hold is checked to be in range before use."""
        self = cls._with_params(params, preprocessor)
        n_words, n_chars, stems = strings["words"], strings["chars"], strings["stems"]
        if not (type(n_words) is int and type(n_chars) is int and n_words >= 0 <= n_chars):
            raise ValueError("word and char counts must be non-negative integers")
        self._terms_ = None
        self._read_terms = read_terms
        self._n_words, self.n_features_ = n_words, n_words + n_chars
        unigram, keys, cols = arrays["unigram"], arrays["bigram_keys"], arrays["bigram_cols"]
        if len(set(stems)) != len(stems) or len(unigram) != len(stems) + 1:
            raise ValueError(f"{len(unigram):,} unigram entries for {len(stems):,} stems")
        if (len(keys) != len(cols) or (len(unigram) and not -1 <= unigram.min() <= unigram.max()
                                       < max(n_words, 1))
                or (len(cols) and not 0 <= cols.min() <= cols.max() < n_words)
                or bool((keys[1:] <= keys[:-1]).any())):
            raise ValueError("word tables outside the word columns or out of order")
        self._set_word_tables(dict(zip(stems, range(1, len(stems) + 1))), unigram, keys, cols)
        if self.char_ngrams:
            columns = range(n_words, n_words + n_chars)
            self._chars = (
                _CharTable.from_state(self.char_ngrams, arrays["char_alphabet"],
                                      arrays["char_keys"], arrays["char_columns"], columns),
                _CrossTable.from_state(self.char_ngrams, arrays["cross_at"],
                                       arrays["cross_columns"],
                                       strings["suffixes"], strings["prefixes"],
                                       self.n_features_))
        return self

    def _build_tables(self) -> None:
        """Look-up tables for fast n-gram matching.

        Every stem in a word term gets an id (0 = any other stem); unigram columns
        are an array indexed by stem id and bigrams a sorted array of
        ``id_a * n_ids + id_b`` keys, so a whole batch is matched in numpy.
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
        self._set_word_tables(stem_id, unigram, np.asarray(keys, dtype=np.int64)[order],
                              np.asarray(cols, dtype=np.int64)[order])

    def _set_word_tables(self, stem_id: dict[str, int], unigram: np.ndarray,
                         bigram_keys: np.ndarray, bigram_cols: np.ndarray) -> None:
        # Norm floors of the two blocks (see min_words): a word brings about this many n-grams.
        self._word_floor = max(self.min_words, 1)
        lo, hi = self.char_ngrams or (0, -1)
        per_word = len(_word_ngrams("abcdef", lo, hi)) + len(_cross_ngrams("abcdef", "ghijkl",
                                                                           lo, hi))
        self._char_floor = float(max(self.min_words * per_word, 1))
        self._n_ids = len(stem_id) + 1
        self._unigram = unigram
        self._unigram_list: list[int] = unigram.tolist()  # for a few stems: no numpy calls
        self._bigram_keys = bigram_keys
        self._bigram_cols = bigram_cols
        self._tokens = _TokenCache(self.preprocessor_, stem_id, self.cache_size)
        self._units: _UnitCache | None = None  # by _unit_cache: needs char_vocabulary_
        # built on first need (or by warm_up), unless loaded with the model
        self._chars: tuple[_CharTable, _CrossTable] | None = None
        self._chars_lock = threading.Lock()
        self._scores: _FormScores | None = None

    def _char_table(self) -> _CharTable:
        return self._char_tables()[0]

    def _char_tables(self) -> tuple[_CharTable, _CrossTable]:
        with self._chars_lock:
            if self._chars is None:
                ngrams = self.char_ngrams or (0, -1)
                grams = _GramChars(self._terms()[1], self._n_words)
                self._chars = (_CharTable(grams, ngrams), _CrossTable(grams, ngrams))
            return self._chars

    def _unit_cache(self) -> _UnitCache:
        """Unit -> columns by dict look-ups (transform, attribute); made on first use."""
        if self._units is None:
            self._units = _UnitCache(self.char_vocabulary_, self.char_ngrams or (0, -1),
                                     self.cache_size)
        return self._units

    def warm_up(self, weights: np.ndarray | None = None) -> None:
        """Do now what the first scoring call would do: build the char n-gram tables, load
        the lexicon (word lists, Sastrawi's dictionary), and, given the ``weights``
        that :meth:`decision` will get, score one short post (filling its caches for them).

        :func:`kanalml.load_model` calls it, so a service's first request is not slower.
        """
        self._check_is_fitted()
        if self.char_ngrams:
            self._char_tables()
        LEXICON.load()
        if weights is not None:
            self.decision([_WARM_UP_POST], weights)

    # -- shared pass over the texts ------------------------------------------------
    def _token_cache(self) -> _TokenCache:
        tokens = self._tokens
        if len(tokens) >= self.cache_size or len(tokens.chunks) >= self.cache_size:
            tokens = self._tokens = _TokenCache(self.preprocessor_, tokens.stem_id,
                                                self.cache_size)
        return tokens

    def _analyze(self, texts: Sequence[Any], tokens: _TokenCache
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Word (row, column) pairs, each once per row, and (row, form id) of every token with
        a normalized form, in order."""
        if len(texts) < _ChunkCache.SMALL:
            return self._few_analyze(texts, tokens)
        token_row, tid = tokens.chunks.token_ids(texts)
        form_of, first_stem, stem_count, stems = tokens.arrays(int(tid.max(initial=-1)) + 1)
        n_stems = stem_count[tid]
        stem_row, at = _spans(first_stem[tid], n_stems)
        row, col = self._word_features(token_row[stem_row], stems[at])
        form = form_of[tid]
        has = form >= 0
        return row, col, token_row[has], form[has]

    def _few_analyze(self, texts: Sequence[Any], tokens: _TokenCache
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`_analyze` of a few texts, from the token cache's lists: the same arrays."""
        token_row, tid = tokens.chunks.few_token_ids(texts)
        first, count, all_stems, form_of = (tokens._stem_first, tokens._stem_count,
                                            tokens._stems, tokens._form_of)
        stem_row: list[int] = []
        sid: list[int] = []
        doc: list[int] = []
        form: list[int] = []
        for r, t in zip(token_row, tid):
            stems = all_stems[first[t]:first[t] + count[t]]
            stem_row += [r] * len(stems)
            sid += stems
            if (f := form_of[t]) >= 0:
                doc.append(r)
                form.append(f)
        row, col = self._word_features(np.array(stem_row, dtype=np.int64),
                                       np.array(sid, dtype=np.int64))
        return row, col, np.array(doc, dtype=np.int64), np.array(form, dtype=np.int64)

    def _word_features(self, row: np.ndarray, sid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of the stem unigrams and bigrams in the vocabulary, each once per row."""
        if len(sid) < _FEW_UNITS:
            return self._few_word_features(row.tolist(), sid.tolist())
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
        n_cols = max(self._n_words, 1)
        keys = np.sort(np.concatenate(rows) * n_cols + np.concatenate(cols))
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
        return np.divmod(keys, n_cols)

    def _few_word_features(self, row: list[int], sid: list[int]
                           ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_word_features` of a few stems, with a set (the same pairs, sorted)."""
        n_cols = max(self._n_words, 1)
        unigram = self._unigram_list
        keys = {r * n_cols + c for r, s in zip(row, sid) if (c := unigram[s]) >= 0}
        if self.ngram_max >= 2 and len(self._bigram_keys) and len(sid) > 1:
            n_ids = self._n_ids
            at = [i for i in range(len(sid) - 1)
                  if row[i] == row[i + 1] and sid[i] > 0 and sid[i + 1] > 0]
            if at:
                key = np.array([sid[i] * n_ids + sid[i + 1] for i in at], dtype=np.int64)
                pos = np.minimum(np.searchsorted(self._bigram_keys, key),
                                 len(self._bigram_keys) - 1)
                hit = (self._bigram_keys[pos] == key).tolist()
                cols = self._bigram_cols[pos].tolist()
                keys.update(row[i] * n_cols + c for i, c, h in zip(at, cols, hit) if h)
        return np.divmod(np.array(sorted(keys), dtype=np.int64), n_cols)

    def _word_values(self, row: np.ndarray, n_rows: int) -> np.ndarray:
        floor = self._word_floor
        if n_rows == 1:  # the same IEEE sqrt and division, without the array calls
            return np.full(len(row), self.word_weight / math.sqrt(max(len(row), floor)))
        present = np.bincount(row, minlength=n_rows)
        values: np.ndarray = self.word_weight / np.sqrt(np.maximum(present, floor))[row]
        return values

    # -- transforming ------------------------------------------------------------
    def transform(self, texts: Iterable[Any]) -> sp.csr_matrix:
        """Texts -> feature matrix (scipy CSR), one row per text."""
        import scipy.sparse as sp

        self._check_is_fitted()
        texts = texts if isinstance(texts, Sequence) else list(texts)
        n_rows = len(texts)
        tokens = self._token_cache()
        row, col, doc, form = self._analyze(texts, tokens)
        unit_row, unit_key = _unit_keys(doc, form)
        distinct = _first_seen(unit_row, np.unique(unit_key, return_inverse=True)[1])
        unit_row, unit_key = unit_row[distinct], unit_key[distinct]
        parts = [sp.csr_matrix((self._word_values(row, n_rows), (row, col)),
                               shape=(n_rows, self.n_features_))]
        if self.char_ngrams:
            lookup = self._unit_cache().__getitem__
            cols = list(map(lookup, map(tokens.unit, unit_key.tolist())))
            crow = np.repeat(unit_row, [len(c) for c in cols])
            ccol = np.fromiter(chain.from_iterable(cols), dtype=np.int64, count=len(crow))
            counts = np.bincount(crow, minlength=n_rows).astype(np.float64)
            values = 1.0 / np.sqrt(np.maximum(counts[crow], self._char_floor)) \
                if len(crow) else np.zeros(0)
            parts.append(sp.csr_matrix((values, (crow, ccol)), shape=(n_rows, self.n_features_)))
        matrix = parts[0] if len(parts) == 1 else parts[0] + parts[1]
        matrix.sum_duplicates()
        return matrix

    def decision(self, texts: Iterable[Any], weights: np.ndarray) -> np.ndarray:
        """``transform(texts) @ weights`` without building the char matrix.

        ``weights`` has one row per feature and one column per output; the
        per-unit partial scores are cached for the last ``weights`` seen.
        """
        self._check_is_fitted()
        texts = texts if isinstance(texts, Sequence) else list(texts)
        n_rows = len(texts)
        tokens = self._token_cache()
        row, col, doc, form = self._analyze(texts, tokens)
        # Sums run over each text's own values in order: a text scores the same in any batch.
        out = _picked_sums(row, col, weights, n_rows, self._word_values(row, n_rows))
        if self.char_ngrams and len(form):
            scores = self._scores
            if scores is None or scores.weights is not weights or scores.tokens is not tokens:
                scores = self._scores = _FormScores(*self._char_tables(), tokens, weights)
            if scores.filled <= int(form.max()):  # first sight of some forms
                scores.fill(int(form.max()) + 1)
            rows, edges = scores.rows, scores.edges  # read after the fill: hold every form
            words, left = _distinct_units(doc, form)  # a unit counts once per text
            # One text's sums need no text indices (see _picked_sums): skip building them.
            one = n_rows == 1
            char = (_picked_sums(doc[:0] if one else doc[words], form[words], rows, n_rows)
                    + scores.cross.pair_sums(doc[:0] if one else doc[left], edges[form[left]],
                                             edges[form[left + 1]], weights, n_rows))
            count = char[:, 0]
            out += char[:, 1:] / np.sqrt(np.maximum(count, self._char_floor))[:, None]
        return out

    def attribute(self, text: Any, weights: np.ndarray) -> dict[str, float]:
        """Split ``transform([text]) @ weights`` (one weight column) among the surface tokens.

        A word feature's share goes to the tokens that produced it, a char unit's
        share to its word (or both words of a pair), split equally where shared.
        """
        self._check_is_fitted()
        surface = tokenize(text)
        entries = [self.preprocessor_.analyze_token(t) for t in surface]
        places: dict[int, list[tuple[int, ...]]] = {}
        seq = [(stem, i) for i, (stems, _) in enumerate(entries) for stem in stems]
        for stem, i in seq:
            if (j := self.vocabulary_.get(stem)) is not None:
                places.setdefault(j, []).append((i,))
        if self.ngram_max >= 2:
            for (a, i), (b, k) in pairwise(seq):
                if (j := self.vocabulary_.get(f"{a} {b}")) is not None:
                    places.setdefault(j, []).append((i, k))
        share: dict[str, float] = {}

        def credit(owners: list[tuple[int, ...]], amount: float) -> None:
            for owner in owners:
                for i in owner:
                    part = amount / len(owners) / len(owner)
                    share[surface[i]] = share.get(surface[i], 0.0) + part

        value = self.word_weight / math.sqrt(max(len(places), self._word_floor))
        for j, owners in places.items():
            credit(owners, value * float(weights[j]))
        if self.char_ngrams:
            forms = [(form, i) for i, (_, form) in enumerate(entries) if form]
            owners_of: dict[str, list[tuple[int, ...]]] = {}
            for form, i in forms:
                owners_of.setdefault(form, []).append((i,))
            for (a, i), (b, k) in pairwise(forms):
                owners_of.setdefault(a + _PAIR + b, []).append((i, k))
            units = self._unit_cache()
            cols = {unit: units[unit] for unit in owners_of}
            total = max(sum(len(c) for c in cols.values()), self._char_floor)
            for unit, owners in owners_of.items():
                if cols[unit]:
                    credit(owners, float(weights[list(cols[unit])].sum()) / math.sqrt(total))
        return share

    def fit_transform(self, texts: Iterable[Any], y: Any = None) -> sp.csr_matrix:
        texts = list(texts)
        return self.fit(texts).transform(texts)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        self._check_is_fitted()
        names = np.empty(self.n_features_, dtype=object)
        for term, j in chain(self.vocabulary_.items(), self.char_vocabulary_.items()):
            names[j] = term
        return names
