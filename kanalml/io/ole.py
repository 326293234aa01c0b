"""OLE2 compound files (the container of .xls, .doc and password-protected Office files).

Owns :func:`stream_names`: the names in a compound file's directory, read from its header, FAT
and directory sectors only, so that detection can tell an Excel 97-2003 workbook (a
``Workbook`` or ``Book`` stream) from an encrypted Office file (``EncryptedPackage``) or a
document of another program. Knows nothing about what the streams hold.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END = 0xFFFFFFFA  # sector numbers from here on are markers, not sectors
_MAX_ENTRIES = 1 << 16  # directory entries read at most: a directory cycle stops here


class CorruptOle(ValueError):
    """The file starts like a compound file but its header or directory cannot be read."""


def stream_names(path: Path) -> list[str]:
    """Names of the streams and storages in a compound file, in directory order (the root
    entry left out); :class:`CorruptOle` if its structure is broken."""
    with open(path, "rb") as handle:
        header = handle.read(512)
        if len(header) < 512 or not header.startswith(MAGIC):
            raise CorruptOle("a header shorter than 512 bytes")
        shift, = struct.unpack_from("<H", header, 0x1E)
        if shift not in (9, 12):
            raise CorruptOle(f"sector size 2^{shift}, not 512 or 4096 bytes")
        size = 1 << shift
        first_dir, = struct.unpack_from("<I", header, 0x30)
        difat_next, difat_count = struct.unpack_from("<II", header, 0x44)
        fat_sectors = [s for s in struct.unpack_from("<109I", header, 0x4C) if s < _END]
        for _ in range(min(difat_count, path.stat().st_size // size)):  # a looped chain ends
            if difat_next >= _END:
                break
            entries = struct.unpack(f"<{size // 4}I", _sector(handle, size, difat_next))
            fat_sectors += [s for s in entries[:-1] if s < _END]
            difat_next = entries[-1]
        names: list[str] = []
        sector, seen = first_dir, set()
        while sector < _END and len(names) < _MAX_ENTRIES:
            if sector in seen:
                raise CorruptOle(f"directory sector {sector} is in its chain twice")
            seen.add(sector)
            data = _sector(handle, size, sector)
            for at in range(0, size, 128):
                length, kind = struct.unpack_from("<HB", data, at + 64)
                if kind in (1, 2) and 2 <= length <= 64:  # a storage or a stream
                    names.append(data[at:at + length - 2].decode("utf-16-le", "replace"))
            per_fat = size // 4
            if sector // per_fat >= len(fat_sectors):
                raise CorruptOle(f"directory sector {sector} is not in the FAT")
            fat = _sector(handle, size, fat_sectors[sector // per_fat])
            sector, = struct.unpack_from("<I", fat, 4 * (sector % per_fat))
        return names


def _sector(handle: BinaryIO, size: int, number: int) -> bytes:
    handle.seek(size * (number + 1))  # sector 0 comes after the header (sector -1)
    data = handle.read(size)
    if len(data) < size:
        raise CorruptOle(f"sector {number} is past the end of the file")
    return data
