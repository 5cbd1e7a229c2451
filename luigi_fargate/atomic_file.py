"""Atomic file replacement: a concurrent reader sees the old content or the new, never a part."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], content: str | bytes, new_file_mode: int = 0o644) -> None:
    """Write a file so that a concurrent reader sees the old or the new content, never a part.

    Airflow's dag-processor may read the directory at any moment: write to a
    temporary file in the same directory, fsync, then rename over the target.
    An existing file keeps its mode; a new one gets ``new_file_mode``. Bytes
    are written as they are (crontabs must come back byte for byte).
    """
    target = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = os.stat(target).st_mode & 0o777
        except FileNotFoundError:
            mode = new_file_mode
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
