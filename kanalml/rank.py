"""The moderator review queue: duplicate groups, priority, budget and a per-channel summary.

Scored chunks go into a :class:`QueueBuilder` one at a time. Rows are not kept:
every distinct message (exact duplicates after folding, and near duplicates such
as forwarded copies with an added emoji, a ``FWD:`` prefix or a word changed)
becomes one group with running aggregates, so memory grows with the number of
distinct messages, not with the number of rows. Near duplicates are found with
MinHash + LSH (datasketch) over character 5-shingles of the folded text, never
by comparing all pairs. Each item also says where its first copy came from
(``source``: channel/message id, or file:line) and lists its copies' message ids
(``message_ids``, in date order), so a moderator can find the post. An item shows its earliest
copy (text, evidence and category: the copy ``source`` names) and the highest score of its
copies; its category only when it is flagged (a category on a harmless post misleads). Rows
that carry ``known_id`` and ``known_similarity`` (matches against a known-content list,
:mod:`kanalml.known`) make their item a known match: known matches come first in the queue,
since a moderator confirms the match rather than judging anew. This module knows nothing
about file formats.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from datasketch import MinHash, MinHashLSH

from kanalml.preprocess import as_text, normalize

__all__ = ["PRIORITY_FORMULA", "QueueBuilder", "RankedQueue", "mask_pii", "render_evidence"]

# Near-duplicate detection. Character 5-shingles survive small edits far better than
# word shingles: one word added to a 10-word post keeps ~80% of the character
# shingles but only ~45% of the word 3-shingles.
SHINGLE = 5
NUM_PERM = 64
THRESHOLD = 0.7  # estimated Jaccard similarity of the shingle sets needed to merge
# LSH bands x rows: tuned for a Jaccard of 0.6 (datasketch's optimum), below THRESHOLD, so that
# pairs at 0.75 / 0.8 / 0.85 become candidates with probability 0.86 / 0.95 / 0.99; every
# candidate is then checked against THRESHOLD on its stored signature. 10 bands, not the 14-18
# of a 128-permutation index, keep memory at ~4 KB per distinct message (measured; the
# datasketch index is ~3 KB of it).
LSH_BANDS, LSH_ROWS = 10, 6
MIN_WORDS = 4  # shorter texts merge only when identical after folding
SEED = 7  # fixed: the same input always gives the same groups
MAX_SHINGLED_CHARS = 4000  # near-duplicate matching looks at the first 4,000 folded characters

# Telegram's limit for one message: a channel post reaches the moderator whole (the review page
# shows it), only longer forum posts are cut. Memory grows with distinct items, not rows.
EXCERPT_CHARS = 4096
MAX_IDS = 200  # message ids kept per item; the rest are counted ("+N more"), memory stays bounded
UNKNOWN_CHANNEL = "(unknown)"
DECIMALS = 4  # shares and scores in the channel summary (as pipeline.DECIMALS in outputs)
REACH_STEP = 0.1  # priority gained per tenfold reach
REACH_DECADES = 6  # reach counts up to 10**6 (a boost of at most 60%)

PRIORITY_FORMULA = (
    "priority = score × (1 + 0.1 × min(log10(1 + reach), 6)), where reach is the largest value "
    "of the reach column (views or forwards; missing = 0) over the item's copies; without a "
    "reach column, priority = score. Each tenfold reach adds 10% up to +60% at 1,000,000, so "
    "reach reorders items of similar score but never lifts an item above one whose score is "
    "more than 1.6 times its own (0.3 with 1,000,000 views -> 0.48, below 0.9 with none). "
    "Ties: higher score, then more copies, then earlier first_seen."
)

_NON_WORD = re.compile(r"[\W_]+")
_FORWARD_MARK = re.compile(r"^(?:(?:fwd|fw|forwarded)(?: |$))+")
_SPACES = re.compile(r"\s+")
_CUT_NUMBER = re.compile(r"[\d\s().+-]+$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?![\w.-]*@)", re.IGNORECASE)
# Indonesian phone numbers, mobile or landline: 9+ digits grouped by any of space . - / _ ( ),
# even one digit at a time; _phone_or_keep keeps those that do not start with 0, 62 or +62
# (dates, NIK) or are too short or long for a number.
_PHONE = re.compile(r"(?<![\w+])(?:\+\s?)?\(?\+?\d(?:[\s().\-/_]{0,3}\d){8,15}(?!\d)")
# Addresses spelled to dodge filters: budi [at] gmail [dot] com, budi(at)gmail.com.
_SPELLED_EMAIL = re.compile(
    r"[\w.+-]+\s*[\[({]\s*(?:at|@)\s*[\])}]\s*[\w-]+"
    r"(?:\s*(?:[\[({]\s*(?:dot|titik)\s*[\])}]|\.)\s*[\w-]+)+", re.IGNORECASE)
# What PII is found in: full-width and Arabic-Indic digits and signs as ASCII, dashes as "-",
# the full-width at sign as "@", zero-width characters dropped (they hide an address).
_PII_VIEW = str.maketrans({
    **dict(zip("０１２３４５６７８９＋（）－．＠", "0123456789+()-.@")),
    **{chr(0x660 + i): str(i) for i in range(10)}, **{chr(0x6F0 + i): str(i) for i in range(10)},
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"),
    **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff\u00ad"),
})
_EVIDENCE_TEXT = re.compile(r"\s*(.+?)\s*\(\s*([-+]?[\d.]+(?:e[-+]?\d+)?)\s*\)\s*(?:;|$)",
                            re.IGNORECASE)
_US_MAX = np.iinfo(np.int64).max
_US_MIN = np.iinfo(np.int64).min
_RESERVED = {"rank", "score", "category", "flagged", "text", "evidence", "copies", "first_seen",
             "last_seen", "channels", "source", "message_ids", "known_id", "known_similarity"}


def mask_pii(text: str) -> str:
    """Replace Indonesian phone numbers (mobile and landline) with ``[telepon]`` and email
    addresses with ``[email]``: also in full-width or Arabic-Indic digits, with any grouping
    (``+62 (0) 812 3456 7890``, ``0812/3456/7890``, one digit at a time), spelled
    ``nama [at] gmail [dot] com``, ``nama＠gmail.com`` or with a zero-width character inside.
    Where something is masked the text comes back in that ASCII reading; else unchanged."""
    text = as_text(text)
    view = text.translate(_PII_VIEW)
    masked = view
    if "@" in masked:
        masked = _EMAIL.sub("[email]", masked)
    if "[" in masked or "(" in masked or "{" in masked:
        masked = _SPELLED_EMAIL.sub("[email]", masked)
    masked = _PHONE.sub(_phone_or_keep, masked)
    return text if masked == view else masked


def _phone_or_keep(match: re.Match[str]) -> str:
    found = match.group()
    digits = re.sub(r"\D", "", found)
    if digits.startswith("62"):
        national = digits[3:] if digits[2:3] == "0" else digits[2:]  # +62 (0) 812 ...
    elif digits.startswith("0"):
        national = digits[1:]
    else:  # NIK, dates, prices: not a phone number
        return found
    return "[telepon]" if 8 <= len(national) <= 13 else found


def canonical_text(text: str) -> str:
    """Folded text for duplicate matching: no forward marker, emoji, punctuation or extra spaces."""
    folded = _NON_WORD.sub(" ", normalize(text)).strip()
    return _FORWARD_MARK.sub("", folded)


def _shingle_hashes(text: str) -> np.ndarray:
    """Distinct 32-bit hashes of the character 5-shingles of ``text`` (vectorized, seed-free)."""
    return np.unique(shingle_hashes_batch([text])[0])


def shingle_hashes_batch(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of the character 5-shingles of many texts at once: (all hashes, text after
    text, repeats kept; how many each text has). A text shorter than 5 characters has one
    shingle, itself.

    A polynomial hash is enough: datasketch's affine32 scheme pre-mixes every input with the
    MurmurHash3 finalizer before permuting it.
    """
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    codes = np.zeros(int(lengths.sum()) + SHINGLE - 1, dtype=np.uint64)
    codes[: len(codes) - SHINGLE + 1] = np.frombuffer(
        "".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    windows = len(codes) - SHINGLE + 1
    hashes = np.zeros(windows, dtype=np.uint64)
    for k in range(SHINGLE):
        np.multiply(hashes, np.uint64(1_000_003), out=hashes)  # wraps mod 2^64
        np.add(hashes, codes[k:k + windows], out=hashes)
    counts = np.maximum(lengths - SHINGLE + 1, 1)
    starts = np.cumsum(lengths) - lengths
    if (lengths >= SHINGLE).all():  # drop the windows that run into the next text
        keep = np.ones(windows, dtype=bool)
        keep[(starts + lengths)[:, None] - np.arange(1, SHINGLE)] = False
        picked = hashes[keep]
    else:  # window i of a text starts at its start + i; an empty text has one, at its end
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        picked = np.append(hashes, np.uint64(0))[np.repeat(starts, counts) + offsets]
    ends = np.cumsum(counts)
    for i in np.flatnonzero(lengths < SHINGLE).tolist():  # one short shingle: no padding in it
        short = 0
        for code in codes[starts[i]:starts[i] + lengths[i]].tolist():
            short = (short * 1_000_003 + code) & 0xFFFFFFFFFFFFFFFF
        picked[ends[i] - 1] = short
    picked ^= picked >> np.uint64(32)
    return picked.astype(np.uint32), counts  # the low 32 bits


def _same(value: int) -> int:
    """Identity hash function: shingles arrive already hashed."""
    return value


def excerpt(text: str) -> str:
    """The first EXCERPT_CHARS characters, whitespace collapsed, phones and emails masked."""
    text = as_text(text)
    head = text[: EXCERPT_CHARS * 8]
    if len(head) < len(text):  # a number cut in two would escape the mask: drop its start
        head = _CUT_NUMBER.sub("", head)
    short = mask_pii(_SPACES.sub(" ", head).strip())
    return short if len(short) <= EXCERPT_CHARS else short[: EXCERPT_CHARS - 1].rstrip() + "…"


def _evidence_pairs(value: Any) -> list[tuple[str, float]]:
    """(word, weight) pairs from a list of pairs, an array of them, or the rendered string."""
    if value is None or isinstance(value, float):
        return []
    if isinstance(value, str):
        pairs = [(m.group(1), m.group(2)) for m in _EVIDENCE_TEXT.finditer(value)]
    elif isinstance(value, Iterable):
        pairs = []
        for item in value:
            if isinstance(item, dict):
                item = (item.get("word"), item.get("weight"))
            try:
                word, weight = item
            except (TypeError, ValueError):
                continue
            pairs.append((word, weight))
    else:
        return []
    out = []
    for word, weight in pairs:
        try:
            number = float(weight)
        except (TypeError, ValueError):
            continue
        word = as_text(word).strip()
        if word and math.isfinite(number):
            out.append((word, number))
    return out


def render_evidence(pairs: list[tuple[str, float]]) -> str:
    """Evidence as one cell, ``word (weight); ...``, each word PII-masked on its own (a weight's
    digits must not read as the end of a phone number)."""
    return "; ".join(f"{mask_pii(word)} ({weight:.2f})" for word, weight in pairs)


def _to_micros(values: pd.Series) -> np.ndarray:
    """Dates -> int64 microseconds since the epoch (UTC); unparseable or missing -> NaT marker."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        parsed = pd.to_datetime(values, unit="s", utc=True, errors="coerce")  # unix seconds
    else:
        strings = values.astype(object).where(values.notna(), None)
        parsed = pd.to_datetime(strings, utc=True, errors="coerce", format="ISO8601")
        retry = parsed.isna() & values.notna()
        if retry.any():
            parsed = parsed.astype("datetime64[us, UTC]")
            parsed[retry] = pd.to_datetime(strings[retry], utc=True, errors="coerce",
                                           format="mixed", dayfirst=True)
    parsed = pd.Series(parsed, index=values.index).astype("datetime64[us, UTC]")
    micros = parsed.to_numpy(dtype="datetime64[us]").view(np.int64).copy()
    micros[parsed.isna().to_numpy()] = _US_MIN  # numpy's NaT is int64 min
    return micros


def _provenance(chunk: pd.DataFrame, id_column: str | None, channels: np.ndarray | None
                ) -> tuple[list[str] | None, list[str] | None]:
    """(where each row came from, its message id) - ``channel/id`` where the row has an id,
    else ``file:line``; None when the chunk says neither."""
    has_lines = "_file" in chunk.columns and "_line" in chunk.columns
    if id_column is None and not has_lines:
        return None, None
    n = len(chunk)
    lines = ([f"{f}:{line}" for f, line in zip(chunk["_file"].tolist(), chunk["_line"].tolist())]
             if has_lines else [""] * n)
    if id_column is None:
        return lines, None
    ids = []
    for i, value in enumerate(chunk[id_column].tolist()):
        name = _channel_name(value)
        if name == UNKNOWN_CHANNEL:
            ids.append("")
        else:
            ids.append(name if channels is None else f"{channels[i]}/{name}")
    refs = [ident or line for ident, line in zip(ids, lines)]
    return refs, ids


def _channel_name(value: Any) -> str:
    """A channel value as text; ids read as floats (a column with gaps) lose their ``.0``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return as_text(value).strip() or UNKNOWN_CHANNEL


def _join(channels: str | set[str]) -> str:
    return channels if isinstance(channels, str) else ", ".join(sorted(channels))


def _iso(micros: int) -> str | None:
    if micros in (_US_MAX, _US_MIN):
        return None
    return pd.Timestamp(micros, unit="us", tz="UTC").isoformat()


@dataclass
class _Channel:
    """Running per-channel statistics over rows."""

    posts: int = 0
    flagged: int = 0
    score_sum: float = 0.0
    score_max: float = 0.0
    words_flagged: Counter[str] = field(default_factory=Counter)
    words_all: Counter[str] = field(default_factory=Counter)
    known: int = 0  # posts matching a known-content list


class RankedQueue(NamedTuple):
    """A moderator queue, its per-channel summary and the share of the expected positives (sum
    of scores) that the queue's items cover."""

    queue: pd.DataFrame
    channels: pd.DataFrame
    covered: float


class QueueBuilder:
    """Accumulates scored chunks and builds the moderator queue; memory grows with the number of
    distinct messages, not rows."""

    def __init__(self, labels: Sequence[str], *, reach_column: str | None = None,
                 min_score: float = 0.0, categories: bool = False) -> None:
        self.labels = [str(label) for label in labels]
        clash = sorted(_RESERVED.intersection(self.labels))
        if clash or len(set(self.labels)) != len(self.labels):
            raise ValueError(f"label names must be distinct and not queue columns: {clash}")
        if not 0.0 <= float(min_score) <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, got {min_score}")
        self.reach_column = reach_column
        self.min_score = float(min_score)
        self.rows = 0
        self._n = 0
        self._exact: dict[int, int] = {}  # 64-bit digest of a folded text -> group
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=(LSH_BANDS, LSH_ROWS))
        self._permutations = MinHash(num_perm=NUM_PERM, seed=SEED).permutations
        cap = 1024
        self._signature = np.zeros((cap, NUM_PERM), dtype=np.uint32)
        self._score = np.full(cap, -np.inf)
        self._label = np.zeros((cap, len(self.labels)))
        self._flagged = np.zeros(cap, dtype=bool)
        self._copies = np.zeros(cap, dtype=np.int64)
        self._first = np.full(cap, _US_MAX, dtype=np.int64)
        self._last = np.full(cap, _US_MIN, dtype=np.int64)
        self._reach = np.zeros(cap)
        self._text: list[str] = []
        self._evidence: list[str] = []
        self._category: list[str] = []  # of the highest-scoring copy, like text and evidence
        self._has_category = categories  # a model with categories (or chunks scored by one)
        self._channels: list[str | set[str]] = []  # a str while the item has one channel
        self._has_source = True  # source and message_ids: every queue has the columns
        self._source: list[str] = []  # channel/message id or file:line of the earliest copy
        self._source_at = np.full(cap, _US_MAX, dtype=np.int64)  # that copy's date
        self._ids: list[list[tuple[int, int, str]]] = []  # (date, row seen, channel/message id)
        self._more_ids = np.zeros(cap, dtype=np.int64)  # ids beyond MAX_IDS
        self._channel_stats: dict[str, _Channel] = {}
        self._dropped_score = 0.0  # scores of items pruned away (see prune)
        self._has_known = False  # chunks matched against a known-content list
        self._known_sim = np.full(cap, -1.0)  # best known_similarity of a copy; -1: no match
        self._known_id: list[str] = []

    def __len__(self) -> int:
        """Number of items (distinct messages) so far."""
        return self._n

    # -- adding rows -----------------------------------------------------------------------

    def add(self, chunk: pd.DataFrame, *, text_column: str, channel_column: str | None,
            date_column: str | None, id_column: str | None = None) -> None:
        """Fold one scored chunk (input columns plus score, labels, flagged, evidence) in.

        With ``id_column`` or ``_file``/``_line`` columns, items get ``source`` and
        ``message_ids``."""
        needed = [text_column, "score", *self.labels]
        needed += [c for c in (channel_column, date_column, self.reach_column, id_column) if c]
        missing = [c for c in needed if c not in chunk.columns]
        if missing:
            raise ValueError(f"chunk lacks column(s): {', '.join(map(repr, missing))}")
        n = len(chunk)
        # an empty queue keeps the columns a full one would have
        self._has_category |= "category" in chunk.columns
        if n == 0:
            self._has_source |= id_column is not None or {"_file", "_line"} <= set(chunk.columns)
            return
        scores = np.nan_to_num(pd.to_numeric(chunk["score"], errors="coerce")
                               .to_numpy(dtype=float, na_value=np.nan), nan=0.0)
        probs = np.nan_to_num(chunk[self.labels].apply(pd.to_numeric, errors="coerce")
                              .to_numpy(dtype=float, na_value=np.nan), nan=0.0)
        flagged = (chunk["flagged"].fillna(False).astype(bool).to_numpy()
                   if "flagged" in chunk.columns else np.zeros(n, dtype=bool))
        evidence = (chunk["evidence"].to_numpy(dtype=object) if "evidence" in chunk.columns
                    else np.full(n, None, dtype=object))
        category = (chunk["category"].fillna("").astype(str).to_numpy(dtype=object)
                    if "category" in chunk.columns else np.full(n, "", dtype=object))
        texts = chunk[text_column].to_numpy(dtype=object)
        channels = (np.array([_channel_name(c) for c in chunk[channel_column].tolist()],
                             dtype=object)
                    if channel_column else np.full(n, UNKNOWN_CHANNEL, dtype=object))
        dates = _to_micros(chunk[date_column]) if date_column else np.full(n, _US_MIN)
        reach = np.zeros(n)
        if self.reach_column:
            raw = pd.to_numeric(chunk[self.reach_column], errors="coerce")
            reach = np.clip(np.nan_to_num(raw.to_numpy(dtype=float, na_value=np.nan), nan=0.0,
                                          posinf=0.0, neginf=0.0), 0.0, None)

        group = self._assign(texts)
        refs, ids = _provenance(chunk, id_column, channels if channel_column else None)
        self._update_groups(group, scores, probs, flagged, evidence, category, texts, channels,
                            dates, reach, refs)
        matched = np.zeros(n, dtype=bool)
        if "known_similarity" in chunk.columns and "known_id" in chunk.columns:
            self._has_known = True
            matched = self._update_known(group, chunk["known_id"].to_numpy(dtype=object),
                                         pd.to_numeric(chunk["known_similarity"], errors="coerce")
                                         .to_numpy(dtype=float, na_value=np.nan))
        if ids is not None:
            self._update_ids(group, dates, ids)
        self._update_channels(channels, scores, flagged, evidence, matched)
        self.rows += n

    def _update_known(self, group: np.ndarray, ids: np.ndarray, sims: np.ndarray) -> np.ndarray:
        """Record each item's best known match; returns which rows matched."""
        matched = ~np.isnan(sims) & np.array([bool(i) and isinstance(i, str) for i in ids],
                                             dtype=bool)
        for g, ident, sim in zip(group[matched].tolist(), ids[matched].tolist(),
                                 sims[matched].tolist()):
            if sim > self._known_sim[g]:
                self._known_sim[g], self._known_id[g] = sim, ident
        return np.asarray(matched, dtype=bool)

    def groups(self, texts: Sequence[Any]) -> np.ndarray:
        """Item number of every text: near-duplicates, here or in earlier chunks, share one."""
        return self._assign(np.asarray(texts, dtype=object))

    def _assign(self, texts: np.ndarray) -> np.ndarray:
        """The group of every row, creating groups for new messages."""
        seen: dict[str, int] = {}
        out = np.empty(len(texts), dtype=np.int64)
        for i, value in enumerate(texts):
            text = as_text(value)
            found = seen.get(text)
            if found is None:
                found = seen[text] = self._group_of(text)
            out[i] = found
        return out

    def _group_of(self, text: str) -> int:
        canonical = canonical_text(text)
        key = int.from_bytes(hashlib.blake2b(canonical.encode("utf-8", "surrogatepass"),
                                             digest_size=8).digest())
        found = self._exact.get(key)
        if found is not None:
            return found
        if canonical.count(" ") + 1 >= MIN_WORDS:
            minhash = self._minhash(canonical)
            found = self._nearest(minhash)
            if found is None:
                found = self._new_group()
                self._signature[found] = minhash.hashvalues
                self._lsh.insert(found, minhash, check_duplication=False)
        else:
            found = self._new_group()
        self._exact[key] = found
        return found

    def _minhash(self, canonical: str) -> MinHash:
        minhash = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=_same,
                          permutations=self._permutations, scheme="affine32")
        minhash.update_batch(_shingle_hashes(canonical[:MAX_SHINGLED_CHARS]).tolist())
        return minhash

    def _stored_minhash(self, signature: np.ndarray) -> MinHash:
        return MinHash(num_perm=NUM_PERM, seed=SEED, hashvalues=signature,
                       permutations=self._permutations, scheme="affine32")

    def _nearest(self, minhash: MinHash) -> int | None:
        """The most similar existing group at or above THRESHOLD (lowest id on ties), if any."""
        candidates = self._lsh.query(minhash)
        if not candidates:
            return None
        ids = np.array(sorted(candidates), dtype=np.int64)
        similarity = (self._signature[ids] == minhash.hashvalues).mean(axis=1)
        best = int(np.argmax(similarity))
        return int(ids[best]) if similarity[best] >= THRESHOLD else None

    def _new_group(self) -> int:
        if self._n == len(self._score):
            self._grow()
        self._text.append("")
        self._evidence.append("")
        self._category.append("")
        self._channels.append("")
        self._source.append("")
        self._ids.append([])
        self._known_id.append("")
        self._n += 1
        return self._n - 1

    def _grow(self) -> None:
        cap = len(self._score)

        def extend(array: np.ndarray, fill: Any) -> np.ndarray:
            more = np.full((cap, *array.shape[1:]), fill, dtype=array.dtype)
            return np.concatenate([array, more])

        self._signature = extend(self._signature, 0)
        self._score = extend(self._score, -np.inf)
        self._label = extend(self._label, 0.0)
        self._flagged = extend(self._flagged, False)
        self._copies = extend(self._copies, 0)
        self._first = extend(self._first, _US_MAX)
        self._last = extend(self._last, _US_MIN)
        self._reach = extend(self._reach, 0.0)
        self._source_at = extend(self._source_at, _US_MAX)
        self._more_ids = extend(self._more_ids, 0)
        self._known_sim = extend(self._known_sim, -1.0)

    def _update_groups(self, group: np.ndarray, scores: np.ndarray, probs: np.ndarray,
                       flagged: np.ndarray, evidence: np.ndarray, category: np.ndarray,
                       texts: np.ndarray, channels: np.ndarray, dates: np.ndarray,
                       reach: np.ndarray, refs: list[str] | None) -> None:
        # Shown copy: the earliest dated one (undated copies count as latest; ties go to the
        # copy seen first), whose text, evidence, category and source the item shows.
        at = np.where(dates == _US_MIN, _US_MAX - 1, dates)
        order = np.lexsort((np.arange(len(group)), at, group))
        ids, first = np.unique(group[order], return_index=True)
        earliest = order[first]
        earlier = at[earliest] < self._source_at[ids]
        for g, row in zip(ids[earlier].tolist(), earliest[earlier].tolist()):
            self._text[g] = excerpt(texts[row])
            self._evidence[g] = render_evidence(_evidence_pairs(evidence[row]))
            self._category[g] = category[row]
            self._source_at[g] = at[row]
            if refs is not None:
                self._source[g] = refs[row]
        np.maximum.at(self._score, group, scores)
        np.maximum.at(self._label, group, probs)
        np.logical_or.at(self._flagged, group, flagged)
        np.add.at(self._copies, group, 1)
        known = dates != _US_MIN
        np.minimum.at(self._first, group[known], dates[known])
        np.maximum.at(self._last, group[known], dates[known])
        np.maximum.at(self._reach, group, reach)
        for g, channel in set(zip(group.tolist(), channels.tolist())):
            self._add_channel(g, channel)

    def _update_ids(self, group: np.ndarray, dates: np.ndarray, ids: list[str]) -> None:
        # Each copy's message id with its date (undated: latest) and the order it was seen in.
        at = np.where(dates == _US_MIN, _US_MAX - 1, dates).tolist()
        for i, (g, value) in enumerate(zip(group.tolist(), ids)):
            if value:
                self._add_ids(g, [(at[i], self.rows + i, value)], 0)

    def _add_ids(self, g: int, ids: list[tuple[int, int, str]], more: int) -> None:
        """Keep the item's MAX_IDS earliest message ids; the others are counted."""
        kept = self._ids[g]
        kept.extend(ids)
        self._more_ids[g] += more
        if len(kept) > 2 * MAX_IDS:  # trimmed now and then: memory stays bounded
            self._trim_ids(g)

    def _trim_ids(self, g: int) -> None:
        kept = sorted(self._ids[g])
        self._more_ids[g] += max(len(kept) - MAX_IDS, 0)
        self._ids[g] = kept[:MAX_IDS]

    def _add_channel(self, g: int, channel: str) -> None:
        known = self._channels[g]
        if isinstance(known, set):
            known.add(channel)
        elif not known:
            self._channels[g] = channel
        elif known != channel:
            self._channels[g] = {known, channel}

    def _update_channels(self, channels: np.ndarray, scores: np.ndarray, flagged: np.ndarray,
                         evidence: np.ndarray, matched: np.ndarray) -> None:
        names, inverse = np.unique(channels, return_inverse=True)
        posts = np.bincount(inverse, minlength=len(names))
        flags = np.bincount(inverse, weights=flagged, minlength=len(names))
        sums = np.bincount(inverse, weights=scores, minlength=len(names))
        known = np.bincount(inverse, weights=matched, minlength=len(names))
        maxes = np.zeros(len(names))
        np.maximum.at(maxes, inverse, scores)
        stats = []
        for i, name in enumerate(names.tolist()):
            entry = self._channel_stats.setdefault(name, _Channel())
            entry.posts += int(posts[i])
            entry.flagged += int(flags[i])
            entry.score_sum += float(sums[i])
            entry.score_max = max(entry.score_max, float(maxes[i]))
            entry.known += int(known[i])
            stats.append(entry)
        for i, value in enumerate(evidence.tolist()):
            pairs = _evidence_pairs(value)
            if not pairs:
                continue
            entry = stats[inverse[i]]
            for word, weight in pairs:
                entry.words_all[word.casefold()] += weight
                if flagged[i]:
                    entry.words_flagged[word.casefold()] += weight

    # -- merging partial queues (distributed ranking) ---------------------------------------

    def merge(self, other: QueueBuilder) -> QueueBuilder:
        """Fold in a queue built on other rows, as if those rows had been added here after this
        builder's: items that are duplicates of each other collapse into one. Returns self."""
        if other.labels != self.labels or other.reach_column != self.reach_column:
            raise ValueError("cannot merge queues built with different labels or reach column")
        self._has_category |= other._has_category
        self._has_source |= other._has_source
        self._has_known |= other._has_known
        keys: dict[int, list[int]] = {}
        for key, g in other._exact.items():
            keys.setdefault(g, []).append(key)
        for g in range(other._n):
            target = next((self._exact[k] for k in keys.get(g, ()) if k in self._exact), None)
            signature = other._signature[g]
            if target is None and signature.any():
                minhash = self._stored_minhash(signature)
                target = self._nearest(minhash)
                if target is None:
                    target = self._new_group()
                    self._signature[target] = signature
                    self._lsh.insert(target, minhash, check_duplication=False)
            elif target is None:
                target = self._new_group()
            for key in keys.get(g, ()):
                self._exact.setdefault(key, target)
            self._merge_item(target, other, g)
        for name, entry in other._channel_stats.items():
            mine = self._channel_stats.setdefault(name, _Channel())
            mine.posts += entry.posts
            mine.flagged += entry.flagged
            mine.score_sum += entry.score_sum
            mine.score_max = max(mine.score_max, entry.score_max)
            mine.known += entry.known
            mine.words_all.update(entry.words_all)
            mine.words_flagged.update(entry.words_flagged)
        self.rows += other.rows
        self._dropped_score += other._dropped_score
        return self

    def _merge_item(self, g: int, other: QueueBuilder, h: int) -> None:
        if other._source_at[h] < self._source_at[g]:  # other's shown copy is earlier
            self._text[g], self._evidence[g] = other._text[h], other._evidence[h]
            self._category[g] = other._category[h]
            self._source[g], self._source_at[g] = other._source[h], other._source_at[h]
        elif other._source[h] and not self._source[g]:
            self._source[g] = other._source[h]
        self._score[g] = max(self._score[g], other._score[h])
        np.maximum(self._label[g], other._label[h], out=self._label[g])
        self._flagged[g] |= other._flagged[h]
        self._copies[g] += other._copies[h]
        self._first[g] = min(self._first[g], other._first[h])
        self._last[g] = max(self._last[g], other._last[h])
        self._reach[g] = max(self._reach[g], other._reach[h])
        if other._known_sim[h] > self._known_sim[g]:
            self._known_sim[g], self._known_id[g] = other._known_sim[h], other._known_id[h]
        self._add_ids(g, [(at, self.rows + seen, ident) for at, seen, ident in other._ids[h]],
                      int(other._more_ids[h]))
        theirs = other._channels[h]
        for channel in sorted(theirs) if isinstance(theirs, set) else [theirs]:
            self._add_channel(g, channel)

    def prune(self, keep: int) -> QueueBuilder:
        """Keep only the first ``keep`` items in review order (a partition's candidates for a
        budgeted queue). The dropped items' scores still count in the covered share; after
        merging pruned partitions an item dropped in one and kept in another counts twice, so
        the share is then a lower bound, and its copies from partitions where it was dropped
        are not counted."""
        order = self._review_order()
        if len(order) <= keep:
            return self
        kept = np.sort(order[:keep])
        dropped = np.setdiff1d(np.arange(self._n), kept)
        self._dropped_score += float(self._score[dropped].sum())
        new_id = np.full(self._n, -1, dtype=np.int64)
        new_id[kept] = np.arange(len(kept))
        self._exact = {k: int(new_id[g]) for k, g in self._exact.items() if new_id[g] >= 0}
        for name in ("_signature", "_score", "_label", "_flagged", "_copies", "_first", "_last",
                     "_reach", "_source_at", "_more_ids", "_known_sim"):
            array = getattr(self, name)
            compact = array.copy()
            compact[: len(kept)] = array[kept]
            setattr(self, name, compact)
        for name, fill in (("_signature", 0), ("_score", -np.inf), ("_label", 0.0),
                           ("_flagged", False), ("_copies", 0), ("_first", _US_MAX),
                           ("_last", _US_MIN), ("_reach", 0.0), ("_source_at", _US_MAX),
                           ("_more_ids", 0), ("_known_sim", -1.0)):
            getattr(self, name)[len(kept):] = fill  # free slots as new ones are
        for name in ("_text", "_evidence", "_category", "_channels", "_source", "_ids",
                     "_known_id"):
            setattr(self, name, [getattr(self, name)[i] for i in kept.tolist()])
        self._n = len(kept)
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=(LSH_BANDS, LSH_ROWS))
        for g in range(self._n):
            if self._signature[g].any():
                self._lsh.insert(g, self._stored_minhash(self._signature[g]),
                                 check_duplication=False)
        return self

    # -- output ----------------------------------------------------------------------------

    def _priority(self) -> np.ndarray:
        score = self._score[: self._n]
        if not self.reach_column:
            return score.copy()
        decades = np.minimum(np.log10(1.0 + self._reach[: self._n]), REACH_DECADES)
        return score * (1.0 + REACH_STEP * decades)

    def _review_order(self) -> np.ndarray:
        """Items at or above min_score, known matches (any score) first: priority, then score,
        copies, first_seen (unknown last), then creation order."""
        n = self._n
        score = self._score[:n]
        known = self._known_sim[:n] >= 0
        order = np.lexsort((np.arange(n), self._first[:n], -self._copies[:n], -score,
                            -self._priority(), ~known))
        return order[(score[order] >= self.min_score) | known[order]]

    def queue(self, budget: int | None = None) -> tuple[pd.DataFrame, float]:
        """(queue, covered): items in review order, and the share of the expected positives
        (sum of item scores) that the kept items cover."""
        if budget is not None and budget < 0:
            raise ValueError(f"budget must be at least 0, got {budget}")
        n = self._n
        score = self._score[:n]
        order = self._review_order()
        if budget is not None:
            order = order[:budget]
        total = float(score.sum()) + self._dropped_score
        complete = len(order) == n and not self._dropped_score
        covered = 1.0 if complete or total <= 0 else float(score[order].sum()) / total

        columns: dict[str, Any] = {
            "rank": np.arange(1, len(order) + 1, dtype=np.int64),
            "score": score[order],
        }
        for j, label in enumerate(self.labels):
            columns[label] = self._label[order, j]
        if self._has_category:  # only where it means something: on flagged items
            columns["category"] = pd.Series(
                [self._category[i] or None if self._flagged[i] else None for i in order],
                dtype=object)
        columns["flagged"] = self._flagged[order]
        columns["text"] = pd.Series([self._text[i] for i in order], dtype=object)
        columns["evidence"] = pd.Series([self._evidence[i] for i in order], dtype=object)
        columns["copies"] = self._copies[order]
        columns["first_seen"] = pd.Series([_iso(v) for v in self._first[order].tolist()],
                                          dtype=object)
        columns["last_seen"] = pd.Series([_iso(v) for v in self._last[order].tolist()],
                                         dtype=object)
        columns["channels"] = pd.Series([_join(self._channels[i]) for i in order], dtype=object)
        if self._has_source:
            columns["source"] = pd.Series([self._source[i] for i in order], dtype=object)
            columns["message_ids"] = pd.Series([self._render_ids(i) for i in order], dtype=object)
        if self._has_known:
            sims = self._known_sim[order]
            columns["known_id"] = pd.Series([self._known_id[i] or None for i in order],
                                            dtype=object)
            columns["known_similarity"] = np.where(sims >= 0, sims, np.nan)
        return pd.DataFrame(columns), covered

    def known_counts(self) -> dict[str, int]:
        """Posts matching a known-content list, per channel (channels with none left out)."""
        return {name: entry.known for name, entry in sorted(self._channel_stats.items())
                if entry.known}

    def _render_ids(self, g: int) -> str:
        """The item's message ids in date order (undated last, then as seen), the first
        MAX_IDS, then ``+N more``."""
        self._trim_ids(g)
        more = int(self._more_ids[g])
        return "; ".join(i for _, _, i in self._ids[g]) + (f"; +{more} more" if more else "")

    def channels(self) -> pd.DataFrame:
        """One row per channel over all rows, riskiest first (flagged share, then max score)."""
        rows = []
        for name, entry in self._channel_stats.items():
            words = entry.words_flagged if entry.flagged else entry.words_all
            top = sorted(((w, s) for w, s in words.items() if s > 0),
                         key=lambda kv: (-kv[1], kv[0]))
            rows.append({
                "channel": name,
                "posts": entry.posts,
                "flagged_posts": entry.flagged,
                "flagged_share": round(entry.flagged / entry.posts, DECIMALS),
                "max_score": round(entry.score_max, DECIMALS),
                "mean_score": round(entry.score_sum / entry.posts, DECIMALS),
                "top_evidence": mask_pii("; ".join(w for w, _ in top[:5])),
                "known_posts": entry.known,
            })
        columns = ["channel", "posts", "flagged_posts", "flagged_share", "max_score",
                   "mean_score", "top_evidence"] + (["known_posts"] if self._has_known else [])
        frame = pd.DataFrame(rows, columns=columns)
        if frame.empty:
            return frame.astype({"posts": np.int64, "flagged_posts": np.int64,
                                 "flagged_share": float, "max_score": float, "mean_score": float})
        frame = frame.sort_values(["flagged_share", "max_score", "posts", "channel"],
                                  ascending=[False, False, False, True], kind="stable")
        return frame.reset_index(drop=True)
