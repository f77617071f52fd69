"""Files a CLI command writes for its user (an export): private, whole or not at all."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

_STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def store_file_named(output: str, db: str) -> str | None:
    """The store's file that ``output`` names (the database or one of its companions), or
    ``None``: writing an export there would destroy the data being exported."""
    target = Path(output)
    for suffix in _STORE_SUFFIXES:
        store_file = Path(db + suffix)
        if target.resolve() == store_file.resolve():
            return str(store_file)
        with contextlib.suppress(OSError):
            if target.exists() and store_file.exists() and os.path.samefile(target, store_file):
                return str(store_file)
    return None


_SQLITE_HEADER = b"SQLite format 3\x00"


def refused_output(output: str, db: str) -> str | None:
    """Why a command must not write its file to ``output``, or ``None``: it names the store's
    own file (the export would overwrite the data it exports) or another SQLite database (a
    mistyped ``.db`` for ``.json``): either would be destroyed for good."""
    named = store_file_named(output, db)
    if named is not None:
        return f"{output} is the store's own file {named}"
    if _is_sqlite(output):
        return f"{output} is an SQLite database; name another file"
    return None


def _is_sqlite(path: str) -> bool:
    """Whether ``path`` is a regular file that starts as every SQLite database does."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_SQLITE_HEADER)) == _SQLITE_HEADER
    except OSError:  # missing, a directory, unreadable: nothing of ours to destroy there
        return False


@contextlib.contextmanager
def private_output(path: str) -> Iterator[TextIO]:
    """A text file only its owner may read, which appears at ``path`` only once the block
    has written all of it: the block writes to a temporary file beside ``path``, renamed over
    it at the end, so an export that fails (a full disk, Ctrl-C) leaves what was there
    before, never half a file. A path that is no regular file (``/dev/stdout``, a pipe) is
    written in place. ``OSError`` from opening, writing or closing reaches the caller."""
    if _is_special(path):
        with open(path, "w", encoding="utf-8", newline="") as out:
            yield out
        return
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:  # mkstemp: mode 0600
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _is_special(path: str) -> bool:
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False
