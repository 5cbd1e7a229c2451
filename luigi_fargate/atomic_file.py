"""Atomic file replacement: a concurrent reader sees the old content or the new, never a part."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from luigi_fargate.errors import UserError


def _what_it_is(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    kinds = (
        (stat.S_ISLNK, "a symlink"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((words for test, words in kinds if test(mode)), None if stat.S_ISREG(mode) else "not a regular file")


def write_atomically(
    path: str | os.PathLike[str], content: str | bytes, new_file_mode: int = 0o644, *, replace_special: bool = False
) -> None:
    """Write a file so that a concurrent reader sees the old or the new content, never a part.

    Airflow's dag-processor may read the directory at any moment: write to a
    temporary file in the same directory, fsync, then rename over the target.
    An existing file keeps its mode; a new one gets ``new_file_mode``. Bytes
    are written as they are (crontabs must come back byte for byte).

    The target must be a regular file or absent: renaming over a symlink
    replaces the link (its target keeps the old content, which is rarely what
    the caller meant), and over a device, a FIFO or a directory is never what
    a writer of specs and crontabs means. ``replace_special=True`` says the
    caller means it (a symlink or special file is then replaced by a regular
    file).
    """
    target = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        existing = os.lstat(target)
    except FileNotFoundError:
        existing = None
    kind = _what_it_is(existing.st_mode) if existing is not None else None
    if kind is not None and not replace_special:
        raise UserError(f"{target} is {kind}, not a regular file: refusing to replace it; remove it or write elsewhere")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        mode = existing.st_mode & 0o777 if existing is not None and kind is None else new_file_mode
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
