"""Known-content lists: items a moderator confirmed, kept across runs and shared across teams.

This module owns the list format, adding and merging items, the hash-only export and matching
posts against a list. It knows nothing about models, scoring or where texts come from: callers
hand it texts.

Format (``kanalml-known``, version 1): a directory holding exactly

- ``items.parquet``: one row per item, in list order, all columns strings: ``id``
  (``k-`` and the first 16 hex digits of the hash), ``sha256`` (of the canonical text),
  ``category`` (from the extremism taxonomy, or ""), ``added_at`` (ISO 8601, UTC),
  ``added_by`` (organisation or team), ``source`` (the decision's file:line, or the queue's
  channel/message id), ``seen_by`` (a JSON list of ``{"added_by", "added_at", "source"}``: the
  other organisations that added the same item; merge keeps the earliest as ``added_by``) and,
  except in a hash-only list, ``text`` (nullable).
- ``signatures.npy``: the items' MinHash signatures, uint32, one row of ``NUM_PERM`` values per
  item in ``items.parquet`` order (all zeros for a text too short to match by similarity), read
  with ``allow_pickle=False``.
- ``manifest.json``: ``format``, ``format_version``, ``hash_only``, ``items`` (count), the
  ``minhash`` parameters the signatures were computed with, and ``files``: the SHA-256 of each
  file above. It is checked before either file is parsed, so an edited, truncated, padded or
  foreign list is refused with a one-line :class:`KnownListError`; so is one whose columns,
  row count, types or unique hashes do not hold after a careless edit that rewrote the
  manifest. Nothing is pickled; Parquet and ``.npy`` are read as data only.

The canonical text and the signature are those of the review queue's grouping
(:mod:`kanalml.rank`): folded text without forward marks, emoji or punctuation; character
5-shingles; 64 permutations. An item matches a post exactly when the SHA-256 of the canonical
texts are equal (``known_similarity`` 1.0), else when their estimated Jaccard similarity is at
least ``THRESHOLD`` (0.7). Candidates come from one banded LSH index built per run (10 bands of
6 rows, as the queue's), never from comparing all pairs.

What a hash-only list reveals: no text, but the SHA-256 confirms a guessed full text, and each
signature value is the minimum of a public permutation of 5-shingle hashes, so someone who
guesses candidate 5-grams can test which of them an item contains (at most 64 per item). Share
hash-only lists with partners, not publicly.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kanalml.errors import DataError
from kanalml.io.writers import fsync_path
from kanalml.preprocess import as_text
from kanalml.rank import (
    EXCERPT_CHARS,
    LSH_BANDS,
    LSH_ROWS,
    MAX_SHINGLED_CHARS,
    MIN_WORDS,
    NUM_PERM,
    SEED,
    SHINGLE,
    THRESHOLD,
    canonical_text,
    excerpt,
    shingle_hashes_batch,
)

__all__ = ["KnownList", "KnownListError", "Matcher", "load", "locked", "matcher", "merge",
           "recover", "signatures", "updating"]

FORMAT = "kanalml-known"
FORMAT_VERSION = 1
ITEMS = "items.parquet"
SIGNATURES = "signatures.npy"
MANIFEST = "manifest.json"
MINHASH = {"num_perm": NUM_PERM, "seed": SEED, "shingle": SHINGLE, "scheme": "affine32",
           "max_chars": MAX_SHINGLED_CHARS, "min_words": MIN_WORDS}
_FIELDS = ("id", "sha256", "category", "added_at", "added_by", "source")
_BATCH_SHINGLES = 16_384  # shingles permuted at once: 16,384 x 64 x 4 bytes = 4 MB
_BAND_MIX = np.uint64(0x9E3779B97F4A7C15)
_DECODED_BASE = 32 << 20  # bytes an items table may decode to, plus _DECODED_RATIO x its size
_DECODED_RATIO = 8  # a list kanalml writes decodes to about twice its size
LOCK_TIMEOUT = 120.0  # seconds a writer waits for another writer of the same list
MAX_MANIFEST_BYTES = 4 << 20  # a manifest, history included; checked before it is parsed


class KnownListError(DataError):
    """A known-content list is missing, corrupt, edited or of an unsupported version."""


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash

    a, b = MinHash(num_perm=NUM_PERM, seed=SEED).permutations
    return a.astype(np.uint32), b.astype(np.uint32)  # affine32: arithmetic mod 2**32


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme applies it (uint32,
    multiplication wrapping mod 2**32)."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return np.asarray(values ^ (values >> np.uint32(16)))


def canonical_sha256(canonical: str) -> str:
    """SHA-256 (hex) of a canonical text."""
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def signatures(canonicals: Sequence[str]) -> np.ndarray:
    """MinHash signatures (n x NUM_PERM, uint32) of canonical texts, equal to the queue's
    ``QueueBuilder._minhash(...).hashvalues`` but computed for a whole batch at once; all
    zeros for a text of fewer than MIN_WORDS words."""
    out = np.zeros((len(canonicals), NUM_PERM), dtype=np.uint32)
    rows = np.array([i for i, text in enumerate(canonicals)
                     if text.count(" ") + 1 >= MIN_WORDS], dtype=np.int64)
    if not len(rows):
        return out
    hashes, counts = shingle_hashes_batch([canonicals[i][:MAX_SHINGLED_CHARS]
                                            for i in rows.tolist()])
    hashes = _fmix32(hashes)
    a, b = _permutations()
    ends = np.cumsum(counts)
    # Permute a slice of texts at a time: NUM_PERM x BATCH values stay in cache.
    first = 0
    while first < len(rows):
        base = ends[first] - counts[first]
        last = max(int(np.searchsorted(ends, base + _BATCH_SHINGLES, side="right")), first + 1)
        piece = hashes[base:ends[last - 1]]
        permuted = np.multiply.outer(a, piece)
        permuted += b[:, None]
        starts = (ends[first:last] - counts[first:last]) - base
        out[rows[first:last]] = np.minimum.reduceat(permuted, starts, axis=1).T
        first = last
    return out


def _band_keys(signature: np.ndarray) -> np.ndarray:
    """One 64-bit key per LSH band (n x LSH_BANDS) of signatures."""
    bands = signature[:, : LSH_BANDS * LSH_ROWS].astype(np.uint64).reshape(
        len(signature), LSH_BANDS, LSH_ROWS)
    keys = np.zeros(bands.shape[:2], dtype=np.uint64)
    for r in range(LSH_ROWS):
        keys = keys * _BAND_MIX + bands[:, :, r]  # wraps mod 2**64
    return keys


class KnownList:
    """Items and their signatures; ``items[i]`` goes with ``signatures[i]``.

    A loaded list keeps its items as the Arrow table it read and builds the item dicts only when
    ``items`` is asked for: matching needs just the ids and hashes (:meth:`column`)."""

    def __init__(self, items: list[dict[str, Any]] | None = None,
                 signatures: np.ndarray | None = None, hash_only: bool = False, *,
                 table: Any = None) -> None:
        self._items = items if items is not None or table is not None else []
        self._table = table
        self.signatures = (signatures if signatures is not None
                           else np.zeros((0, NUM_PERM), dtype=np.uint32))
        self.hash_only = hash_only
        self.history: list[dict[str, Any]] = []

    @property
    def items(self) -> list[dict[str, Any]]:
        if self._items is None:
            self._items = _records(self._table)
            self._table = None
        return self._items

    def column(self, name: str) -> list[Any]:
        """One field of every item, in list order."""
        if self._items is None:
            return list(self._table.column(name).to_pylist())
        return [item[name] for item in self._items]

    def __len__(self) -> int:
        return len(self.signatures)

    def add(self, texts: Iterable[Any], *, added_by: str, categories: Iterable[str] | None = None,
            sources: Iterable[str] | None = None, added_at: str | None = None,
            keep_text: bool = True) -> int:
        """Add confirmed texts; one already in the list (same canonical hash) is skipped.
        Returns how many were new."""
        if self.hash_only and keep_text:
            keep_text = False  # a hash-only list stays hash-only
        texts = [as_text(t) for t in texts]
        categories = list(categories) if categories is not None else [""] * len(texts)
        sources = list(sources) if sources is not None else [""] * len(texts)
        when = added_at or datetime.now(UTC).isoformat(timespec="seconds")
        known = set(self.column("sha256"))
        new_items, new_canonicals = [], []
        for text, category, source in zip(texts, categories, sources):
            canonical = canonical_text(text)
            if not canonical:
                continue
            digest = canonical_sha256(canonical)
            if digest in known:
                continue
            known.add(digest)
            item = {"id": f"k-{digest[:16]}", "sha256": digest, "category": as_text(category),
                    "added_at": when, "added_by": added_by, "source": as_text(source),
                    "seen_by": []}
            if keep_text:
                item["text"] = text
            new_items.append(item)
            new_canonicals.append(canonical)
        if new_items:
            self.items.extend(new_items)
            self.signatures = np.concatenate([self.signatures, signatures(new_canonicals)])
        return len(new_items)

    def without_text(self) -> KnownList:
        """A hash-only copy: the same items with no text."""
        items = [{k: v for k, v in item.items() if k != "text"} for item in self.items]
        copy = KnownList(items, self.signatures.copy(), hash_only=True)
        copy.history = list(self.history)
        return copy

    def summary(self) -> dict[str, Counter[str]]:
        """Item counts by category, organisation (added_by) and month added."""
        return {
            "category": Counter(c or "(none)" for c in self.column("category")),
            "added_by": Counter(self.column("added_by")),
            "month": Counter(when[:7] for when in self.column("added_at")),
        }

    def remove(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """Take the items with these ids out of the list; returns them, in list order. An id
        not in the list is a KnownListError (nothing is removed)."""
        wanted = list(dict.fromkeys(ids))
        listed = self.column("id")
        missing = sorted(set(wanted) - set(listed))
        if missing:
            raise KnownListError(f"no item {', '.join(missing)} in this list")
        drop = set(wanted)
        keep = np.array([i not in drop for i in listed], dtype=bool)
        items = self.items
        removed = [item for item, kept in zip(items, keep) if not kept]
        self._items = [item for item, kept in zip(items, keep) if kept]
        self.signatures = self.signatures[keep]
        return removed

    def record(self, action: str, by: str, **details: Any) -> None:
        """Add an entry to the list's history (kept in its manifest): what was done, by whom,
        when, and its details (counts, ids, files, reason)."""
        self.history.append({"at": datetime.now(UTC).isoformat(timespec="seconds"),
                             "action": action, "by": by, **details})

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the list to ``directory``. An existing list there is replaced as a whole, in one
        atomic exchange where the file system offers it (Linux ``renameat2``): readers see the
        old list or the new one, never none. Elsewhere the old list is moved aside for the
        instant between two renames; a save interrupted there is finished by the next
        :func:`load` or :func:`updating` (:func:`recover`). Callers that read, change and save
        a list hold its lock (:func:`updating`, :func:`locked`) so no other writer's items are
        lost."""
        import pyarrow.parquet as pq

        target = Path(directory)
        if target.exists() and not (target / MANIFEST).is_file() and any(target.iterdir()):
            raise KnownListError(f"{target}: exists and is not a known-content list")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new.", dir=target.parent))
        try:
            pq.write_table(_table(self.items, self.hash_only), tmp / ITEMS, store_schema=False)
            np.save(tmp / SIGNATURES, np.ascontiguousarray(self.signatures, dtype=np.uint32),
                    allow_pickle=False)
            manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                        "hash_only": self.hash_only, "items": len(self), "minhash": MINHASH,
                        "files": {name: _sha256(tmp / name) for name in (ITEMS, SIGNATURES)},
                        "history": self.history}
            text = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
            if len(text.encode("utf-8")) > MAX_MANIFEST_BYTES:
                raise KnownListError(f"{target}: the list's history is over "
                                     f"{MAX_MANIFEST_BYTES:,} bytes; export it to a new list")
            (tmp / MANIFEST).write_text(text, encoding="utf-8")
            for name in (ITEMS, SIGNATURES, MANIFEST):
                fsync_path(tmp / name)
            tmp.chmod(0o755)
            fsync_path(tmp)
            if target.exists():
                if _exchange(tmp, target):
                    shutil.rmtree(tmp)  # tmp now holds the old list
                else:
                    old = target.with_name(f".{target.name}.old.{secrets.token_hex(4)}")
                    os.replace(target, old)
                    os.replace(tmp, target)
                    shutil.rmtree(old)
            else:
                os.replace(tmp, target)
            fsync_path(target.parent)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return target



def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False
    where the system or file system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


@contextmanager
def locked(directory: str | os.PathLike[str], *, timeout: float | None = None,
           waiting: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the list's exclusive writer lock (the file ``.NAME.lock`` beside it), recovering
    an interrupted save first; ``waiting`` is told once when another writer holds it. After
    ``timeout`` seconds (default ``LOCK_TIMEOUT``): KnownListError saying the list is busy."""
    from filelock import FileLock, Timeout

    timeout = LOCK_TIMEOUT if timeout is None else timeout
    target = Path(directory)
    if not target.parent.is_dir():
        raise KnownListError(f"{target}: directory {str(target.parent)!r} does not exist")
    lock = FileLock(_lock_path(target))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if waiting is not None:
            waiting(f"{target}: another kanalml is writing this list; waiting for it (up to "
                    f"{timeout:.0f} s)")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise KnownListError(f"{target}: busy: another kanalml has been writing this list "
                                 f"for over {timeout:.0f} s (lock {_lock_path(target)}); try "
                                 "again when it is done") from None
    except OSError as exc:
        raise KnownListError(f"{target}: cannot lock the list ({exc.strerror or exc})") from None
    try:
        recover(target)
        yield target
    finally:
        lock.release()


@contextmanager
def updating(directory: str | os.PathLike[str], *, timeout: float | None = None,
             waiting: Callable[[str], None] | None = None) -> Iterator[KnownList]:
    """Read (or start) the list under its writer lock, let the caller change it, and save it
    when the block ends without an error; the lock is held throughout, so two writers' items
    are never lost to each other."""
    with locked(directory, timeout=timeout, waiting=waiting) as target:
        listing = load(target) if target.exists() else KnownList()
        yield listing
        listing.save(target)


def recover(directory: str | os.PathLike[str]) -> None:
    """Finish or undo a save that a crash interrupted, and remove what it left. Call it
    holding the list's lock (:func:`locked` does).

    A list missing from its path, with a complete new copy beside it (the crash came between
    the two renames of :meth:`KnownList.save`), gets the new copy; with only the old one
    (or an earlier kanalml's ``.NAME.old.*/list``), the old one is put back."""
    target = Path(directory)
    parent = target.parent
    if not parent.is_dir():
        return
    prefix = f".{target.name}."
    leftovers = sorted((p for p in parent.iterdir() if p.name.startswith(prefix)
                        and p.is_dir() and not p.is_symlink()),
                       key=lambda p: p.stat().st_mtime_ns, reverse=True)
    if not target.exists():
        new = [p for p in leftovers if p.name.startswith(prefix + "new.")
               and (p / MANIFEST).is_file()]
        old = [p / "list" if (p / "list").is_dir() else p for p in leftovers
               if p.name.startswith(prefix + "old.")]
        for candidate in [*new, *old]:
            try:
                _load(candidate)
            except KnownListError:
                continue
            os.replace(candidate, target)
            fsync_path(parent)
            break
    # Only what a save leaves: .NAME.new.*, .NAME.old.* and an earlier kanalml's temporary
    # .NAME.XXXXXXXX (tempfile's 8 characters); never another hidden directory of the user's.
    legacy = re.compile(re.escape(prefix) + r"[a-z0-9_]{8}")
    for leftover in leftovers:
        if leftover.exists() and (leftover.name.startswith((prefix + "new.", prefix + "old."))
                                  or legacy.fullmatch(leftover.name)):
            shutil.rmtree(leftover, ignore_errors=True)


def _schema(hash_only: bool) -> Any:
    import pyarrow as pa

    fields = [pa.field(name, pa.string(), nullable=False) for name in (*_FIELDS, "seen_by")]
    if not hash_only:
        fields.append(pa.field("text", pa.string(), nullable=True))
    return pa.schema(fields)


def _table(items: list[dict[str, Any]], hash_only: bool) -> Any:
    import pyarrow as pa

    columns: dict[str, list[Any]] = {name: [i[name] for i in items] for name in _FIELDS}
    columns["seen_by"] = [json.dumps(i.get("seen_by", []), ensure_ascii=False) for i in items]
    if not hash_only:
        columns["text"] = [i.get("text") for i in items]
    return pa.Table.from_pydict(columns, schema=_schema(hash_only))


def _records(table: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = table.to_pylist()
    for record in records:
        record["seen_by"] = json.loads(record["seen_by"])
        if record.get("text", "") is None:
            del record["text"]
    return records


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(directory: str | os.PathLike[str]) -> KnownList:
    """Read a list written by :meth:`KnownList.save`, verifying the manifest first; a save
    that a crash interrupted is finished first (:func:`recover`, under the list's lock).

    Nothing is trusted before it is checked, so a hostile list costs little: the files must be
    regular files (no symbolic links) and the manifest at most ``MAX_MANIFEST_BYTES``; the
    manifest's SHA-256 are checked before either file is parsed; the ``.npy`` header's type
    and shape before its data is read; the Parquet footer's row count, codec and sizes before
    any page is decoded, and the decoded size of the texts before they are expanded."""
    root = Path(directory)
    if not root.exists() and _interrupted(root):
        with locked(root):  # recovers
            pass
    return _load(root)


def _interrupted(root: Path) -> bool:
    parent = root.parent
    prefix = f".{root.name}."
    return parent.is_dir() and any(p.name.startswith((prefix + "new.", prefix + "old."))
                                   for p in parent.iterdir())


def _regular(path: Path) -> int:
    """The size of ``path``, a regular file (not a link); KnownListError otherwise."""
    from kanalml.artifact import regular_size

    return regular_size(path, "a list's", KnownListError)


def _load(root: Path) -> KnownList:
    manifest_path = root / MANIFEST
    if not root.is_dir():
        raise KnownListError(f"{root}: no such known-content list (a directory)")
    if not manifest_path.exists() and not manifest_path.is_symlink():
        raise KnownListError(f"{root}: not a known-content list ({MANIFEST} is missing)")
    if _regular(manifest_path) > MAX_MANIFEST_BYTES:
        raise KnownListError(f"{manifest_path}: over {MAX_MANIFEST_BYTES:,} bytes: not a "
                             "known-content list manifest")
    try:
        manifest = json.loads(manifest_path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise KnownListError(f"{manifest_path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise KnownListError(f"{manifest_path}: not a known-content list manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise KnownListError(f"{manifest_path}: format version {manifest.get('format_version')!r}"
                             f" is not supported (this kanalml reads version {FORMAT_VERSION})")
    if manifest.get("minhash") != MINHASH:
        raise KnownListError(f"{manifest_path}: signatures computed with other MinHash parameters"
                             f" ({manifest.get('minhash')!r}); they cannot match this kanalml's")
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {ITEMS, SIGNATURES}:
        raise KnownListError(f"{manifest_path}: must list exactly {ITEMS} and {SIGNATURES}")
    count = manifest.get("items")
    if type(count) is not int or count < 0:
        raise KnownListError(f"{manifest_path}: 'items' must be a count, not {count!r}")
    history = manifest.get("history", [])
    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise KnownListError(f"{manifest_path}: 'history' must be a list of entries")
    extra = sorted({p.name for p in root.iterdir()} - {ITEMS, SIGNATURES, MANIFEST})
    if extra:
        raise KnownListError(f"{root}: holds files the manifest does not list: {extra}")
    sizes = {}
    for name, expected in files.items():
        path = root / name
        sizes[name] = _regular(path)
        if _sha256(path) != expected:
            raise KnownListError(f"{path}: SHA-256 differs from {MANIFEST}: the list was edited "
                                 "or damaged after it was written")
    hash_only = manifest.get("hash_only") is True
    sigs = _read_signatures(root / SIGNATURES, count, sizes[SIGNATURES])
    table = _read_items(root / ITEMS, count, sizes[ITEMS], hash_only)
    _check(root, manifest, table, sigs, hash_only)
    listing = KnownList(None, sigs, hash_only=hash_only, table=table)
    listing.history = history
    return listing


def _read_signatures(path: Path, count: int, size: int) -> np.ndarray:
    """The signatures, their ``.npy`` header checked first: uint32, C order, shape
    (``count``, NUM_PERM), and exactly the bytes that shape needs."""
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"unknown .npy version {version}")
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = header(f, max_header_size=4096)
            offset = f.tell()
    except (ValueError, OSError, SyntaxError) as exc:
        raise KnownListError(f"{path}: not a signatures array ({exc})") from None
    expected = (count, NUM_PERM)
    if dtype != np.dtype("<u4") or fortran or tuple(shape) != expected:
        raise KnownListError(f"{path}: expected uint32 of shape {expected}, got {dtype} "
                             f"{tuple(shape)}")
    if size != offset + count * NUM_PERM * 4:
        raise KnownListError(f"{path}: {size} bytes, a {expected} array needs "
                             f"{offset + count * NUM_PERM * 4}")
    try:
        sigs: np.ndarray = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise KnownListError(f"{path}: cannot read the signatures ({exc})") from None
    return sigs


def _read_items(path: Path, count: int, size: int, hash_only: bool) -> Any:
    """The items table, its Parquet footer checked before any page is decoded (``count`` rows,
    the columns of a list, codecs whose output is bounded by their input), then read with the
    strings still dictionary-encoded so their decoded size is known before they are
    expanded: at most ``_DECODED_BASE + _DECODED_RATIO x`` the file's size."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = [f.name for f in _schema(hash_only)]
    limit = _DECODED_BASE + _DECODED_RATIO * size
    try:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
        if meta.num_rows != count:
            raise KnownListError(f"{path}: holds {meta.num_rows} items, the manifest says "
                                 f"{count}")
        if sorted(parquet.schema_arrow.names) != sorted(names):
            raise KnownListError(f"{path}: columns are not those of a "
                                 f"{'hash-only ' if hash_only else ''}list: "
                                 f"{parquet.schema_arrow.names}")
        encoded = 0
        for group in range(meta.num_row_groups):
            for column in range(meta.num_columns):
                chunk = meta.row_group(group).column(column)
                if chunk.compression not in ("UNCOMPRESSED", "SNAPPY"):
                    raise KnownListError(f"{path}: compressed with {chunk.compression}; a list "
                                         "is written uncompressed or with Snappy")
                encoded += chunk.total_uncompressed_size
        if encoded > limit:
            raise KnownListError(f"{path}: {encoded:,} bytes once decompressed, over the "
                                 f"{limit:,} a list of this size may hold")
        table = pq.ParquetFile(path, read_dictionary=names).read()
        decoded = 0
        columns = []
        for column in table.columns:
            for piece in column.chunks:
                if pa.types.is_dictionary(piece.type):
                    lengths = pc.binary_length(piece.dictionary).fill_null(0)
                    used = pc.take(lengths, piece.indices.fill_null(0))
                    decoded += int(pc.sum(used).as_py() or 0)
                else:
                    decoded += piece.nbytes
            if decoded > limit:
                raise KnownListError(f"{path}: its texts take over {limit:,} bytes once "
                                     "decoded, far more than the file: a decompression bomb")
            columns.append(column.cast(pa.string()) if pa.types.is_dictionary(column.type)
                           else column)
        schema = pa.schema([pa.field(f.name, pa.string(), nullable=f.nullable)
                            for f in table.schema])
        return pa.Table.from_arrays(columns, schema=schema)
    except KnownListError:
        raise
    except (pa.ArrowException, ValueError, OSError, TypeError, KeyError) as exc:
        raise KnownListError(f"{path}: cannot read the items ({type(exc).__name__}: {exc})"
                             ) from None


def _check(root: Path, manifest: dict[str, Any], table: Any, sigs: np.ndarray,
           hash_only: bool) -> None:
    path = root / ITEMS
    if not table.schema.equals(_schema(hash_only)):
        raise KnownListError(f"{path}: columns are not those of a "
                             f"{'hash-only ' if hash_only else ''}list: {table.schema.names}")
    if table.num_rows != manifest.get("items"):
        raise KnownListError(f"{path}: holds {table.num_rows} items, the manifest says "
                             f"{manifest.get('items')!r}")
    if any(table.column(name).null_count for name in (*_FIELDS, "seen_by")):
        raise KnownListError(f"{path}: an item lacks a required field")
    if sigs.dtype != np.uint32 or sigs.shape != (table.num_rows, NUM_PERM):
        raise KnownListError(f"{root / SIGNATURES}: expected uint32 of shape "
                             f"({table.num_rows}, {NUM_PERM}), got {sigs.dtype} {sigs.shape}")
    hashes = table.column("sha256").to_pylist()
    if len(set(hashes)) != len(hashes):
        raise KnownListError(f"{path}: the same sha256 is listed twice")


def merge(first: KnownList, second: KnownList) -> KnownList:
    """One list holding both: an item in both (same hash) appears once, as first added (the
    earlier ``added_at``), the other organisation's entry kept in ``seen_by``. The result is
    hash-only if either input is."""
    hash_only = first.hash_only or second.hash_only
    items: list[dict[str, Any]] = []
    rows: list[np.ndarray] = []
    at: dict[str, int] = {}
    for source in (first, second):
        for item, signature in zip(source.items, source.signatures):
            item = {k: v for k, v in item.items() if not (hash_only and k == "text")}
            item["seen_by"] = list(item.get("seen_by", []))
            j = at.get(item["sha256"])
            if j is None:
                at[item["sha256"]] = len(items)
                items.append(item)
                rows.append(signature)
                continue
            mine = items[j]
            if item["added_at"] < mine["added_at"]:
                item, mine = mine, item
                items[j] = mine
            entries = [{k: item[k] for k in ("added_by", "added_at", "source")},
                       *item["seen_by"]]
            for entry in entries:
                if entry not in mine["seen_by"] and entry["added_by"] != mine["added_by"]:
                    mine["seen_by"].append(entry)
            if not mine["category"]:
                mine["category"] = item["category"]
    sigs = np.array(rows, dtype=np.uint32).reshape(len(rows), NUM_PERM)
    merged = KnownList(items, sigs, hash_only=hash_only)
    merged.history = sorted([*first.history, *second.history], key=lambda e: str(e.get("at")))
    return merged


class Matcher:
    """Matches posts against a list: exact by canonical hash, else through a banded LSH index
    over the items' signatures (built once, here) and a check of each candidate's signature."""

    def __init__(self, known: KnownList) -> None:
        self.ids = np.array(known.column("id"), dtype=object)
        self._exact = {digest: i for i, digest in enumerate(known.column("sha256"))}
        self._signatures = known.signatures
        usable = np.flatnonzero(known.signatures.any(axis=1))
        keys = _band_keys(known.signatures[usable])
        self._bands = []
        for b in range(LSH_BANDS):
            order = np.argsort(keys[:, b], kind="stable")
            self._bands.append((keys[order, b], usable[order]))

    def match(self, texts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(known_id, known_similarity) per text: the id of the most similar item at or above
        THRESHOLD (None if none) and 1.0 for an exact match, else the estimated Jaccard
        similarity (NaN when nothing matched).

        A post longer than the queue's excerpt is also matched by its excerpt, since an item
        added from review decisions or a queue holds the excerpt the moderator saw, not the
        whole post."""
        n = len(texts)
        distinct: dict[str, int] = {}
        owner: list[int] = []  # the distinct text each query canonical belongs to
        canonicals: list[str] = []
        where = np.empty(n, dtype=np.int64)
        for i, value in enumerate(texts):
            text = as_text(value)
            d = distinct.get(text)
            if d is None:
                d = distinct[text] = len(distinct)
                owner.append(d)
                canonicals.append(canonical_text(text))
                if len(text) > EXCERPT_CHARS:
                    owner.append(d)
                    canonicals.append(canonical_text(excerpt(text)))
            where[i] = d
        found = np.full(len(canonicals), -1, dtype=np.int64)
        found_sim = np.full(len(canonicals), -1.0)
        rest = []
        for q, canonical in enumerate(canonicals):
            hit = self._exact.get(canonical_sha256(canonical)) if canonical else None
            if hit is not None:
                found[q], found_sim[q] = hit, 1.0
            elif canonical:
                rest.append(q)
        if rest and self._bands and len(self._bands[0][0]):
            rest_arr = np.array(rest, dtype=np.int64)
            sigs = signatures([canonicals[q] for q in rest])
            usable = sigs.any(axis=1)
            rest_arr, sigs = rest_arr[usable], sigs[usable]
            ids, sims = self._nearest(sigs)
            near = ids >= 0
            found[rest_arr[near]], found_sim[rest_arr[near]] = ids[near], sims[near]
        # Per distinct text, its best query (the whole text first on ties).
        owners = np.array(owner, dtype=np.int64)
        order = np.lexsort((np.arange(len(owners)), -found_sim, owners))
        first = order[np.unique(owners[order], return_index=True)[1]]
        best, similarity = found[first][where], found_sim[first][where]
        out_ids = np.full(n, None, dtype=object)
        out_ids[best >= 0] = self.ids[best[best >= 0]]
        return out_ids, np.where(best >= 0, similarity, np.nan)

    def _nearest(self, sigs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = _band_keys(sigs)
        queries, items = [], []
        for b, (sorted_keys, item_ids) in enumerate(self._bands):
            left = np.searchsorted(sorted_keys, keys[:, b], side="left")
            right = np.searchsorted(sorted_keys, keys[:, b], side="right")
            counts = right - left
            if not counts.any():
                continue
            q = np.repeat(np.arange(len(sigs)), counts)
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            queries.append(q)
            items.append(item_ids[np.repeat(left, counts) + offsets])
        best = np.full(len(sigs), -1, dtype=np.int64)
        best_sim = np.full(len(sigs), np.nan)
        if not queries:
            return best, best_sim
        pairs = np.unique(np.stack([np.concatenate(queries), np.concatenate(items)], axis=1),
                          axis=0)
        sims = (self._signatures[pairs[:, 1]] == sigs[pairs[:, 0]]).mean(axis=1)
        keep = sims >= THRESHOLD
        pairs, sims = pairs[keep], sims[keep]
        # Per query the most similar item, the earliest listed on ties.
        order = np.lexsort((pairs[:, 1], -sims, pairs[:, 0]))
        pairs, sims = pairs[order], sims[order]
        first = np.unique(pairs[:, 0], return_index=True)[1]
        best[pairs[first, 0]] = pairs[first, 1]
        best_sim[pairs[first, 0]] = sims[first]
        return best, best_sim


def matcher(known: KnownList | Matcher | str | os.PathLike[str]) -> Matcher:
    """A :class:`Matcher` for a list, a list's directory, or the matcher itself."""
    if isinstance(known, Matcher):
        return known
    return Matcher(known if isinstance(known, KnownList) else load(known))
