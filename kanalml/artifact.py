"""A verified bundle: named JSON documents, text files and float64 arrays in one directory.

Owns the bundle format - the manifest (format name, version, every file's SHA-256), atomic
writing, and the checks made before anything is trusted - and knows nothing of what a bundle
means: :mod:`kanalml.model` says which files a model is and what is in them.

Nothing is pickled, so reading a bundle can never run code from it, even one crafted by an
attacker who also rewrote the manifest: arrays are read with ``allow_pickle=False``, must be
float64 of the shape the caller expects, are never inflated past the bytes that shape needs and
must be finite; everything else is JSON the caller validates field by field (the guarantee
skops.io gives with a trusted-type list, without a list to keep current). The manifest is
checked before any file is parsed, and a bundle is exactly the files its :class:`Layout`
allows, so a truncated, edited, foreign or padded bundle is refused with a message naming the
file. Each file is read once: what is hashed is what is parsed, so a file swapped after the
check is never used.

Two kinds of array archive: ``arrays`` (float64, deflated: the format-1 models) and ``tables``
(float64, int32 or int64, stored uncompressed with every member aligned, so
:meth:`Bundle.tables` hands out read-only views of the verified bytes: no inflating, no copy).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import stat
import struct
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kanalml.errors import ModelError, new_output_directory

__all__ = ["MANIFEST", "Bundle", "Layout", "expect_strings", "file_sha256", "read",
           "write"]

MANIFEST = "manifest.json"
_NPY_HEADER = 4096  # room for a .npy header in front of an array's data
MAX_MANIFEST_BYTES = 1 << 20  # a manifest lists a few files
MAX_JSON_BYTES = 256 << 20  # any JSON document of a bundle; callers give tighter limits
# Any file of a bundle: each is read whole (what is hashed is what is used), so a padded file
# must not be. A model at kanalml's feature limit holds ~0.4 GB of weights.
MAX_FILE_BYTES = 1 << 30
TABLE_TYPES = (np.dtype("<f8"), np.dtype("<i4"), np.dtype("<i8"))
_ALIGN = 64  # a table member's data starts at a multiple of this in its file
_PAD_FIELD = 0xD935  # the zip extra field that pads a member to alignment (as zipalign's)


@dataclass(frozen=True)
class Layout:
    """One kind of bundle: the ``format`` name and ``version`` its manifest carries, the files
    every bundle of the kind has and those it may have (no others), and ``noun`` for messages."""

    format: str
    version: int
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    noun: str = "bundle"

    @property
    def files(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                    encoding="utf-8")


def _write_tables(path: Path, named: Mapping[str, np.ndarray]) -> None:
    """An uncompressed ``.npz`` whose members' data each start at a multiple of
    :data:`_ALIGN` bytes, padded with an extra field: ``np.load`` reads it as any ``.npz``,
    and :meth:`Bundle.tables` reads each member in place."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for key, value in named.items():
            array = np.ascontiguousarray(value)
            if array.dtype not in TABLE_TYPES:
                raise ValueError(f"table {key!r} has type {array.dtype}; tables are "
                                 "float64, int32 or int64")
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            data = buffer.getvalue()  # numpy pads its header to a multiple of 64 bytes
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            # The local header: 30 bytes, the name, this padding field, and the zip64 field
            # that zipfile adds (as its writestr decides) for a member near 2 GB.
            zip64 = len(data) * 1.05 > zipfile.ZIP64_LIMIT
            fixed = 30 + len(info.filename.encode()) + 4 + (20 if zip64 else 0)
            assert archive.fp is not None
            pad = -(archive.fp.tell() + fixed) % _ALIGN
            info.extra = struct.pack("<HH", _PAD_FIELD, pad) + bytes(pad)
            archive.writestr(info, data)


def write(directory: str | os.PathLike[str], layout: Layout, *,
          documents: Mapping[str, Any] | None = None, texts: Mapping[str, str] | None = None,
          arrays: Mapping[str, Mapping[str, np.ndarray]] | None = None,
          tables: Mapping[str, Mapping[str, np.ndarray]] | None = None) -> Path:
    """Write a bundle of ``layout`` to ``directory`` (new or empty, else DataError).

    ``documents``: file name -> JSON value; ``texts``: file name -> text (UTF-8);
    ``arrays``: file name (``.npz``) -> named float64 arrays, compressed; ``tables``: file name
    (``.npz``) -> named float64, int32 or int64 arrays, uncompressed and aligned (read in
    place by :meth:`Bundle.tables`). Files are written to a temporary sibling directory,
    listed in the manifest and renamed into place, so an interrupted write never leaves a
    half-written bundle behind.
    """
    documents, texts, arrays = documents or {}, texts or {}, arrays or {}
    tables = tables or {}
    names = [*documents, *texts, *arrays, *tables]
    missing = [n for n in layout.required if n not in names]
    foreign = [n for n in names if n not in layout.files or n == MANIFEST]
    if missing or foreign or len(set(names)) != len(names):
        raise ValueError(f"a {layout.noun} is {', '.join(layout.files)}; got {', '.join(names)}")
    target = new_output_directory(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    for name, named in arrays.items():
        members: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in named.items()}
        np.savez_compressed(tmp / name, **members)
    for name, named in tables.items():
        _write_tables(tmp / name, named)
    for name, obj in documents.items():
        _write_json(tmp / name, obj)
    for name, text in texts.items():
        (tmp / name).write_text(text, encoding="utf-8")
    files = sorted(p.name for p in tmp.iterdir())
    _write_json(tmp / MANIFEST, {"format": layout.format, "format_version": layout.version,
                                 "files": {name: file_sha256(tmp / name) for name in files}})
    if target.exists():
        target.rmdir()
    tmp.chmod(0o755)
    os.replace(tmp, target)
    return target


def regular_size(path: Path, noun: str, error: type[Exception] = ModelError) -> int:
    """The size of ``path``, a regular file and not a symbolic link; ``error`` otherwise (known
    lists check their files with it too)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise error(f"{path}: missing") from None
    if stat.S_ISLNK(info.st_mode):
        raise error(f"{path}: is a symbolic link; {noun} files must be regular files")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{path}: not a regular file")
    return info.st_size


def _read_json(path: Path, max_bytes: int = MAX_JSON_BYTES, data: bytes | None = None) -> Any:
    """The JSON document at ``path``, its size checked before it is read or parsed."""
    if data is None:
        size = regular_size(path, "bundle")
        if size > max_bytes:
            raise ModelError(f"{path}: {size:,} bytes, over the {max_bytes:,} this file may "
                             "have")
        data = path.read_bytes()
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelError(f"{path}: not valid JSON ({type(exc).__name__}: {exc})") from None


def string_literals(data: bytes) -> int:
    """How many JSON strings ``data`` holds (keys included), counted in C without parsing it:
    what a document will cost in Python objects, known before it is parsed."""
    plain = data.replace(b"\\\\", b"")  # escaped backslashes cannot escape a quote
    return (plain.count(b'"') - plain.count(b'\\"')) // 2


def expect_strings(value: Any, path: Path) -> list[str]:
    """``value`` if it is a list of strings; else ModelError naming ``path``."""
    # The set of item types in one C-level pass: 341k vocabulary strings are checked in
    # ~5 ms, against ~0.1 s for a generator of isinstance calls (measured). Stricter too:
    # a str subclass is refused (JSON makes none).
    if not isinstance(value, list) or not set(map(type, value)) <= {str}:
        raise ModelError(f"{path}: expected a list of strings")
    return value


class Bundle:
    """A bundle whose manifest and file hashes have been verified (see :func:`read`); its files
    are parsed on request, each refused with a ModelError naming it."""

    def __init__(self, root: Path, data: Mapping[str, bytes], version: int) -> None:
        self.root = root
        self.files = frozenset(data)
        self.version = version  # the manifest's format version
        self._data = dict(data)

    def data(self, name: str) -> bytes:
        """The verified bytes of file ``name``, as hashed."""
        self.path(name)
        return self._data[name]

    def __contains__(self, name: object) -> bool:
        return name in self.files

    def __repr__(self) -> str:
        return f"Bundle({str(self.root)!r}, files={sorted(self.files)})"

    def path(self, name: str) -> Path:
        if name not in self.files:
            raise ModelError(f"{self.root / name}: not in this bundle")
        return self.root / name

    def json(self, name: str, max_bytes: int = MAX_JSON_BYTES,
             max_strings: int | None = None) -> Any:
        """The parsed JSON document ``name``, refused before it is parsed when it is over
        ``max_bytes`` or holds more than ``max_strings`` strings."""
        path = self.path(name)
        data = self._data[name]
        if len(data) > max_bytes:
            raise ModelError(f"{path}: {len(data):,} bytes, over the {max_bytes:,} this file "
                             "may have")
        if max_strings is not None and string_literals(data) > max_strings:
            raise ModelError(f"{path}: holds {string_literals(data):,} strings, more than the "
                             f"{max_strings:,} the rest of the model allows")
        return _read_json(path, data=data)

    def object(self, name: str, max_bytes: int = MAX_JSON_BYTES,
               max_strings: int | None = None) -> dict[str, Any]:
        """The JSON document ``name``, which must be an object (see :meth:`json`)."""
        value = self.json(name, max_bytes, max_strings)
        if not isinstance(value, dict):
            raise ModelError(f"{self.root / name}: expected a JSON object")
        return value

    def strings(self, name: str, max_bytes: int = MAX_JSON_BYTES,
                max_strings: int | None = None) -> list[str]:
        """The JSON document ``name``, which must be a list of strings (see :meth:`json`)."""
        return expect_strings(self.json(name, max_bytes, max_strings), self.root / name)

    def array_shape(self, name: str, key: str) -> tuple[int, ...]:
        """The shape the ``.npy`` header of array ``key`` in the archive ``name`` declares,
        read without its data."""
        path = self.path(name)
        try:
            with zipfile.ZipFile(io.BytesIO(self._data[name])) as archive:
                members = {n.removesuffix(".npy"): n for n in archive.namelist()}
                if key not in members:
                    raise ModelError(f"{path}: array {key!r} is missing")
                with archive.open(members[key]) as member:
                    buffer = io.BytesIO(member.read(_NPY_HEADER))
            shape, _, dtype = _read_header(buffer, path, key)
            if dtype != np.dtype("<f8"):
                raise ModelError(f"{path}: array {key!r} has type {dtype}, expected float64")
        except ModelError:
            raise
        except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
            raise ModelError(f"{path}: unreadable arrays ({type(exc).__name__}: {exc})") \
                from None
        return shape

    def text(self, name: str) -> str:
        path = self.path(name)
        try:
            return self._data[name].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelError(f"{path}: not UTF-8 text ({exc})") from None

    def arrays(self, name: str, shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
        """The float64 arrays named in ``shapes`` from the archive ``name``, each checked
        before it is read.

        The .npy header's shape and dtype are compared with ``shapes`` before any data is read,
        and no member is inflated past the bytes its shape needs, so a header claiming 10^13
        elements or a zip bomb costs nothing. Non-finite values are refused: NaN weights
        would score every post as NaN. Members not named in ``shapes`` are not read.
        """
        path = self.path(name)
        try:
            with zipfile.ZipFile(io.BytesIO(self._data[name])) as archive:
                members = {n.removesuffix(".npy"): n for n in archive.namelist()}
                return {key: _read_array(archive, members, key, shape, path)
                        for key, shape in shapes.items()}
        except ModelError:
            raise
        except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
            raise ModelError(f"{path}: unreadable arrays ({type(exc).__name__}: {exc})") \
                from None


    def tables(self, name: str, specs: Mapping[str, tuple[str, tuple[int | None, ...]]]
               ) -> dict[str, np.ndarray]:
        """The arrays named in ``specs`` (name -> (dtype, shape), None for a free dimension)
        from the table archive ``name`` (see :func:`write`): read-only views of the verified
        bytes, none copied or inflated.

        Each member must be stored uncompressed, C-ordered, of the dtype and shape asked,
        exactly as long as its header says and inside the file; float tables must be
        finite. Anything else is a ModelError naming the file and the member.
        """
        path = self.path(name)
        data = self._data[name]
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = {i.filename.removesuffix(".npy"): i for i in archive.infolist()}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelError(f"{path}: unreadable tables ({type(exc).__name__}: {exc})") \
                from None
        return {key: _table(data, infos.get(key), key, *spec, path)
                for key, spec in specs.items()}


def _table(data: bytes, info: zipfile.ZipInfo | None, key: str, dtype: str,
           shape: tuple[int | None, ...], path: Path) -> np.ndarray:
    """One member of a table archive as a view of ``data`` (see :meth:`Bundle.tables`)."""
    if info is None:
        raise ModelError(f"{path}: table {key!r} is missing")
    if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        raise ModelError(f"{path}: table {key!r} is compressed; tables are stored as they are")
    at = info.header_offset
    local = data[at:at + 30]
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise ModelError(f"{path}: table {key!r} has no local zip header")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    start = at + 30 + name_length + extra_length
    end = start + info.file_size
    if end > len(data) or data[at + 30:at + 30 + name_length] != info.filename.encode():
        raise ModelError(f"{path}: table {key!r} does not match its zip directory entry")
    try:
        buffer = io.BytesIO(data[start:min(end, start + _NPY_HEADER)])
        found, fortran, found_dtype = _read_header(buffer, path, key)
    except ModelError:
        raise
    except (ValueError, EOFError, TypeError) as exc:
        raise ModelError(f"{path}: table {key!r} has a bad header ({exc})") from None
    expected = np.dtype(dtype)
    fits = len(found) == len(shape) and all(s is None or s == f for s, f in zip(shape, found))
    if found_dtype != expected or fortran or not fits:
        wanted = tuple("n" if s is None else s for s in shape)
        raise ModelError(f"{path}: table {key!r} has shape {found} and type {found_dtype}, "
                         f"expected {wanted} {expected} in C order")
    count = math.prod(found)  # exact: a header's product must not wrap around as int64 does
    offset = start + buffer.tell()
    if offset + count * expected.itemsize != end:
        raise ModelError(f"{path}: table {key!r} is not as long as its shape {found} says")
    array = np.frombuffer(data, dtype=expected, count=count, offset=offset).reshape(found)
    if expected.kind == "f" and not np.isfinite(array).all():
        raise ModelError(f"{path}: table {key!r} holds NaN or infinite values")
    return array


def _read_array(archive: zipfile.ZipFile, members: dict[str, str], name: str,
                shape: tuple[int, ...], path: Path) -> np.ndarray:
    if name not in members:
        raise ModelError(f"{path}: array {name!r} is missing")
    limit = int(np.prod(shape, dtype=np.int64)) * 8 + _NPY_HEADER
    if archive.getinfo(members[name]).file_size > limit:
        raise ModelError(f"{path}: array {name!r} is larger than shape {shape} needs")
    with archive.open(members[name]) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ModelError(f"{path}: array {name!r} is larger than shape {shape} needs")
    found_shape, _, dtype = _read_header(io.BytesIO(data), path, name)
    if tuple(found_shape) != shape or dtype != np.dtype("<f8"):
        raise ModelError(f"{path}: array {name!r} has shape {tuple(found_shape)} and "
                         f"type {dtype}, expected {shape} float64")
    array = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
    if not np.isfinite(array).all():
        raise ModelError(f"{path}: array {name!r} holds NaN or infinite values")
    return array


def _read_header(buffer: io.BytesIO, path: Path, name: str) -> tuple[tuple[int, ...], bool, Any]:
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    read_header = readers.get(np.lib.format.read_magic(buffer))
    if read_header is None:
        raise ModelError(f"{path}: array {name!r} has an unknown .npy version")
    shape, fortran, dtype = read_header(buffer)
    return tuple(shape), fortran, dtype


def _read_capped(path: Path) -> bytes:
    """The bytes of ``path``, refused unread past :data:`MAX_FILE_BYTES`."""
    if regular_size(path, "bundle") > MAX_FILE_BYTES:
        raise ModelError(f"{path}: over the {MAX_FILE_BYTES:,} bytes a bundle file may have")
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ModelError(f"{path}: over the {MAX_FILE_BYTES:,} bytes a bundle file may have")
    return data


def read(directory: str | os.PathLike[str], *layouts: Layout) -> Bundle:
    """Open the bundle in ``directory``, verifying first its manifest (format, one of the
    ``layouts``' versions, file list) and the SHA-256 of every file, read once and kept;
    ModelError naming the file otherwise."""
    if not layouts:
        raise TypeError("read() needs at least one layout")
    layout = layouts[-1]
    root = Path(directory)
    if not root.is_dir():
        raise ModelError(f"{root}: no such {layout.noun} directory")
    manifest_path = root / MANIFEST
    if not manifest_path.exists() and not manifest_path.is_symlink():
        raise ModelError(f"{root}: not a {layout.noun} ({MANIFEST} is missing)")
    if regular_size(manifest_path, layout.noun) > MAX_MANIFEST_BYTES:
        raise ModelError(f"{manifest_path}: over {MAX_MANIFEST_BYTES:,} bytes: not a "
                         f"{layout.noun} manifest")
    manifest = _read_json(manifest_path, MAX_MANIFEST_BYTES)
    if not isinstance(manifest, dict) or manifest.get("format") != layout.format:
        raise ModelError(f"{manifest_path}: not a {layout.noun} manifest")
    versions = {one.version: one for one in layouts}
    version = manifest.get("format_version")
    if type(version) is not int or version not in versions:
        readable = ", ".join(map(str, sorted(versions)))
        raise ModelError(f"{manifest_path}: format version {version!r} is not supported by "
                         f"this kanalml (reads version {readable})")
    layout = versions[version]
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ModelError(f"{manifest_path}: has no file list")
    for name in layout.required:
        if name not in files:
            raise ModelError(f"{manifest_path}: does not list {name}")
    data: dict[str, bytes] = {}
    for name, expected in files.items():
        if not isinstance(name, str) or Path(name).name != name or name in (".", ".."):
            raise ModelError(f"{manifest_path}: names a file outside the {layout.noun} "
                             f"directory: {name!r}")
        if name not in layout.files:
            # Even a correctly hashed extra file is refused: a bundle is these files, no others.
            raise ModelError(f"{manifest_path}: lists {name!r}, which is not part of a "
                             f"{layout.noun} (foreign or tampered {layout.noun})")
        path = root / name
        if path.is_symlink():
            raise ModelError(f"{path}: is a symbolic link; {layout.noun} files must be regular "
                             "files")
        if not path.is_file():
            raise ModelError(f"{path}: listed in the manifest but missing")
        data[name] = _read_capped(path)
        if hashlib.sha256(data[name]).hexdigest() != expected:
            raise ModelError(f"{path}: SHA-256 does not match the manifest "
                             "(the file is corrupt, truncated or was modified)")
    for path in root.iterdir():
        if path.name != MANIFEST and path.name not in files:
            raise ModelError(f"{path}: file not listed in the manifest (foreign or tampered "
                             f"{layout.noun})")
    return Bundle(root, data, version)
