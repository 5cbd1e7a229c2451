"""The lock interface the runner uses so that one Luigi task never runs twice at once.

A backend hands out *leases*. A lease either needs no heartbeat (the file lock,
which the kernel releases when the process dies) or must be renewed every
``renew_interval`` seconds (luigid, DynamoDB); a renewal that fails raises
:class:`LeaseLost`, and the runner then stops the task and exits 7 rather than
risk two runners.

Backends are chosen by URL (``file:///srv/lf-locks``, ``luigid://host:8082``,
``dynamodb://table?region=eu-west-1``); see :func:`open_backend`.
"""

from __future__ import annotations

import abc
import importlib
import os
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from luigi_fargate.errors import UserError

#: URL scheme -> "module:Class" of the backend. Imported lazily: the file
#: backend must not pay for boto3.
BACKENDS = {
    "file": "luigi_fargate.locks.file:FileLockBackend",
    "luigid": "luigi_fargate.locks.luigid:LuigidLockBackend",
    "dynamodb": "luigi_fargate.locks.dynamodb:DynamoDBLockBackend",
}



def default_lock_dir() -> str:
    """A private folder per user: ``/tmp/luigi-fargate-<uid>``, created 0700 and checked on every use.

    One path per user whatever the environment (cron, a shell and an Airflow
    worker of the same user must meet at the same lock); under /tmp because
    that is writable in every container (read-only root filesystems
    included). Not the shared /tmp itself: another user can't plant files in
    it, and a folder of that name that isn't ours is refused
    (``luigi_fargate.locks.file``).
    """
    return f"/tmp/luigi-fargate-{os.geteuid()}"


DEFAULT_LOCK_URL = f"file://{default_lock_dir()}"


class LeaseLost(Exception):
    """The lease can no longer be renewed: someone else may now hold the lock."""


@dataclass(frozen=True)
class LockInfo:
    """What ``luigi-fargate locks list|show`` prints about one held lock."""

    key: str
    owner: str
    acquired_at: float | None = None  # epoch seconds
    expires_at: float | None = None  # epoch seconds; None = held until released/process death
    fencing_token: int | None = None
    detail: str = ""


class Lease(abc.ABC):
    """A held lock. Release it exactly once; renew it if ``renew_interval`` is set."""

    key: str
    owner: str
    fencing_token: int | None = None
    #: Seconds between heartbeats; ``None`` when the lock needs none.
    renew_interval: float | None = None

    def renew(self) -> None:  # noqa: B027 - no-op for leases without a heartbeat
        """Extend the lease. Raise :class:`LeaseLost` if it is no longer ours."""

    @abc.abstractmethod
    def release(self) -> None:
        """Give the lock up. Must not raise if the lease was already lost."""


class LockBackend(abc.ABC):
    """One place where locks live."""

    url: str

    @abc.abstractmethod
    def try_acquire(self, key: str, owner: str) -> Lease | None:
        """Take the lock for ``key`` now, or return ``None`` if someone holds it."""

    @abc.abstractmethod
    def list_locks(self) -> list[LockInfo]:
        """The locks currently held (expired leases may be listed with their expiry)."""

    def show(self, key: str) -> LockInfo | None:
        for info in self.list_locks():
            if info.key == key:
                return info
        return None

    @abc.abstractmethod
    def break_lock(self, key: str) -> bool:
        """Remove a lock whatever its holder; True if there was one."""


def make_owner() -> str:
    """A unique owner name that tells an operator where the holder runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def open_backend(url: str) -> LockBackend:
    """Open the lock backend a URL names; a bad URL is a one-line UserError."""
    scheme = urlsplit(url).scheme
    target = BACKENDS.get(scheme)
    if target is None:
        known = ", ".join(f"{s}://" for s in BACKENDS)
        raise UserError(f"lock URL {url!r}: unknown scheme {scheme!r}; use one of {known}")
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UserError(f"lock URL {url!r}: the {scheme} backend is not available here ({exc})") from None
    return getattr(module, cls_name).from_url(url)
