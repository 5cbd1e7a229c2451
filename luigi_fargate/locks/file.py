"""``file://DIR``: one host's lock, an ``fcntl.flock`` on a file per task.

The kernel drops the lock when the holding process dies, even by SIGKILL, so
a crash never leaves a lock that blocks later runs. The file stays behind
(deleting it would race with a new holder) and records the last owner for
``luigi-fargate locks list``.

The folder must be private to the user the runner runs as: in a folder
others can write to, they could plant a file or a symlink where a lock file
goes. So the folder is created 0700, and one that is a symlink, owned by
another user, or world-writable without the sticky bit is refused. Lock files
are opened without following symlinks and must be regular files of ours.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import stat
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

from luigi_fargate.errors import UserError
from luigi_fargate.locks.base import Lease, LeaseLost, LockBackend, LockInfo

#: How every lock file is opened: never through a symlink, never blocking on a FIFO, not inherited.
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
FIX = "use a folder of your own: --lock file:///path/to/dir or $LUIGI_FARGATE_LOCK"


def _file_name(key: str) -> str:
    readable = re.sub(r"[^\w.-]", "_", key)[:100]
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{readable}.{digest}.lock"


def check_private_dir(directory: Path) -> None:
    """Raise UserError unless ``directory`` is a real folder that no other user can write into."""
    st = os.lstat(directory)
    if stat.S_ISLNK(st.st_mode):
        raise UserError(f"lock folder {directory} is a symlink; point --lock at the folder itself ({FIX})")
    if not stat.S_ISDIR(st.st_mode):
        raise UserError(f"lock folder {directory} is not a folder; {FIX}")
    if st.st_uid != os.geteuid():
        raise UserError(f"lock folder {directory} is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()}); {FIX}")
    if st.st_mode & stat.S_IWOTH and not st.st_mode & stat.S_ISVTX:
        raise UserError(f"lock folder {directory} is writable by everyone and has no sticky bit; chmod o-w {directory}, or {FIX}")


def open_lock_file(path: Path, flags: int) -> int:
    """An fd on the lock file at ``path``: a regular file of ours, never reached through a symlink."""
    try:
        fd = os.open(path, flags | _OPEN_FLAGS, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UserError(f"lock file {path} is a symlink (planted?); remove it, and check who can write to {path.parent}") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
        os.close(fd)
        raise UserError(f"lock file {path} is not a regular file of this user's; remove it, and check who can write to {path.parent}")
    return fd


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
            same = os.lstat(self.path).st_ino == os.fstat(self._fd).st_ino
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
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"lock folder {self.directory}: can't create it ({exc.strerror}); choose a writable folder with "
                "--lock file:///path or $LUIGI_FARGATE_LOCK"
            ) from None
        check_private_dir(self.directory)

    def try_acquire(self, key: str, owner: str) -> FileLease | None:
        self._ensure_dir()
        path = self.directory / _file_name(key)
        fd = open_lock_file(path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        record = json.dumps({"key": key, "owner": owner, "acquired_at": time.time()})
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode(), 0)
        return FileLease(key, owner, fd, path)

    def _read_if_held(self, path: Path) -> dict | None:
        """The record of a held lock file, or None when nobody holds it."""
        fd = open_lock_file(path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return json.loads(os.pread(fd, 1 << 16, 0).decode() or "{}")
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def list_locks(self) -> list[LockInfo]:
        if not self.directory.is_dir():
            return []
        check_private_dir(self.directory)
        held = []
        for path in sorted(self.directory.glob("*.lock")):
            try:
                record = self._read_if_held(path)
            except (OSError, ValueError, UserError):
                continue
            if record is None:
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
            held = self._read_if_held(path) is not None
            path.unlink()
        except FileNotFoundError:
            return False
        return held
