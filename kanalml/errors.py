"""The errors kanalml raises for problems a user can fix.

Owns :class:`KanalmlError` and its two kinds: :class:`DataError` (the user's data or paths) and
:class:`ModelError` (a model artifact). Knows nothing else: every module may import it, it imports
no module of the package. ``str(e)`` is always one line naming the file and, where known, the line
and column; the command line prints it and exits with status 1, with no traceback. Anything that is
not a :class:`KanalmlError` is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DataError", "KanalmlError", "ModelError", "new_output_directory"]


class KanalmlError(Exception):
    """A problem the user can fix; ``str(e)`` is one line naming the file."""


class DataError(KanalmlError):
    """A problem with the user's data or paths (file, line and column where known)."""


class ModelError(KanalmlError):
    """A model artifact is missing, corrupt, tampered with or from an incompatible version."""


def new_output_directory(path: str | os.PathLike[str]) -> Path:
    """``path`` as a directory that does not exist yet or is empty; DataError otherwise.

    Commands that write a directory (a model, a report, a known list) never mix their files
    with an earlier run's.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise DataError(f"{out}: exists and is not empty; choose a new directory")
    return out
