"""The errors kanalml raises for problems a user can fix.

Owns :class:`KanalmlError` and its two kinds: :class:`DataError` (the user's data or paths) and
:class:`ModelError` (a model artifact). Knows nothing else: every module may import it, it imports
no module of the package. ``str(e)`` is always one line naming the file and, where known, the line
and column; the command line prints it and exits with status 1, with no traceback. Anything that is
not a :class:`KanalmlError` is a bug and keeps its traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["DataError", "KanalmlError", "ModelError", "existing_output", "new_output_directory",
           "replace_directory", "write_directory"]

FORCE_HINT = "add --force to replace it"


class KanalmlError(Exception):
    """A problem the user can fix; ``str(e)`` is one line naming the file."""


class DataError(KanalmlError):
    """A problem with the user's data or paths (file, line and column where known)."""


class ModelError(KanalmlError):
    """A model artifact is missing, corrupt, tampered with or from an incompatible version."""


def existing_output(path: str | os.PathLike[str] | None, force: bool = False) -> bool:
    """The one policy for outputs: an output that exists (a file, or a directory that is not
    empty) is a DataError unless ``force``; returns whether it exists and will be replaced.
    None and "-" (stdout) never exist."""
    if path is None or str(path) == "-":
        return False
    out = Path(path)
    exists = out.is_symlink() or (out.exists() and not (out.is_dir() and not any(out.iterdir())))
    if exists and not force:
        raise DataError(f"{out}: exists; {FORCE_HINT}")
    return exists


def new_output_directory(path: str | os.PathLike[str], force: bool = False) -> Path:
    """``path`` as a directory that does not exist yet or is empty; DataError otherwise, or
    with ``force`` one that exists and will be replaced as a whole (:func:`replace_directory`).

    Commands that write a directory (a model, a report, a known list) never mix their files
    with an earlier run's.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise DataError(f"{out}: exists and is not empty; choose a new directory or "
                        f"{FORCE_HINT}")
    return out


def replace_directory(new: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Put the finished directory ``new`` in place of ``target`` (which may exist, then it is
    removed): ``target`` is moved aside in the same parent first, so a failure leaves one of
    the two whole."""
    import shutil
    import tempfile

    new, target = Path(new), Path(target)
    if not target.exists():
        os.replace(new, target)
        return
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
        os.replace(new, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.replace(target, aside / "old")
    try:
        os.replace(new, target)
    except OSError:
        os.replace(aside / "old", target)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def write_directory(target: str | os.PathLike[str], write: Callable[[Path], object]) -> None:
    """Have ``write`` fill a new directory beside ``target``, then put it in place of
    ``target`` (:func:`replace_directory`): an existing one (``--force``) is replaced only by a
    finished one, and a failure leaves no half-written directory."""
    import shutil
    import tempfile

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(staging / "new")
        replace_directory(staging / "new", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
