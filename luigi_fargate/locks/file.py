"""``file://DIR``: one host's lock, an ``fcntl.flock`` on a file per task.

The kernel drops the lock when the holding process dies, even by SIGKILL, so
a crash never leaves a lock that blocks later runs. The file stays behind
(deleting it would race with a new holder) and records the last owner for
``luigi-fargate locks list``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from luigi_fargate.errors import UserError
from luigi_fargate.locks.base import Lease, LeaseLost, LockBackend, LockInfo


def _file_name(key: str) -> str:
    readable = re.sub(r"[^\w.-]", "_", key)[:100]
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{readable}.{digest}.lock"


class FileLease(Lease):
    #: Check every few seconds that ``locks break`` didn't replace our lock file.
    renew_interval = 5.0
    #: The kernel holds a flock for as long as we live: it never expires.
    ttl = float(10**9)

    def __init__(self, key: str, owner: str, fd: int, path: Path) -> None:
        self.key, self.owner, self._fd, self.path = key, owner, fd, path

    def renew(self) -> None:
        """The lock is ours while the file at ``path`` is still the one we locked."""
        try:
            same = os.stat(self.path).st_ino == os.fstat(self._fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            raise LeaseLost(f"lock file {self.path} was removed or replaced (luigi-fargate locks break?)")

    def release(self) -> None:
        if self._fd < 0:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = -1


class FileLockBackend(LockBackend):
    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.url = f"file://{self.directory}"

    @classmethod
    def from_url(cls, url: str) -> FileLockBackend:
        parts = urlsplit(url)
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise UserError(f"lock URL {url!r}: no directory; use file:///path/to/lock-dir")
        return cls(path)

    def _ensure_dir(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"lock directory {self.directory}: can't create it ({exc.strerror}); "
                "choose a writable directory with --lock file:///path"
            ) from None

    def try_acquire(self, key: str, owner: str) -> FileLease | None:
        self._ensure_dir()
        path = self.directory / _file_name(key)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        record = json.dumps({"key": key, "owner": owner, "acquired_at": time.time()})
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        return FileLease(key, owner, fd, path)

    def _held(self, path: Path) -> bool:
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def list_locks(self) -> list[LockInfo]:
        if not self.directory.is_dir():
            return []
        held = []
        for path in sorted(self.directory.glob("*.lock")):
            try:
                if not self._held(path):
                    continue
                record = json.loads(path.read_text() or "{}")
            except (OSError, ValueError):
                continue
            held.append(
                LockInfo(
                    key=record.get("key", path.stem),
                    owner=record.get("owner", "?"),
                    acquired_at=record.get("acquired_at"),
                    detail=str(path),
                )
            )
        return held

    def break_lock(self, key: str) -> bool:
        # A flock can't be taken from a live process; removing the file lets a
        # new contender lock a fresh inode while the old holder keeps running.
        path = self.directory / _file_name(key)
        try:
            held = self._held(path)
            path.unlink()
        except FileNotFoundError:
            return False
        return held
