"""Taking a task's lock the way the runner needs it: wait, re-check completeness, heartbeat.

The policy lives here, the storage in ``luigi_fargate.locks``: every backend
gets the same waiting, jitter, timeout and lease-keeping behaviour.
"""

from __future__ import annotations

import _thread
import random
import signal
import threading
import time
from collections.abc import Callable

from luigi_fargate.locks.base import Lease, LeaseLost, LockBackend


class LockUnavailable(Exception):
    """The lock is held elsewhere and the policy says not to wait (longer)."""


#: Signal the lease keeper uses to interrupt the main thread (handled in shim.signals).
LEASE_LOST_SIGNAL = signal.SIGUSR2


def acquire(
    backend: LockBackend,
    key: str,
    owner: str,
    *,
    on_locked: str = "wait",
    timeout: float | None = None,
    poll: float = 1.0,
    is_complete: Callable[[], bool] = lambda: False,
    on_wait: Callable[[], None] = lambda: None,
) -> Lease | None:
    """Take the lock for ``key``.

    Returns the lease, or ``None`` when the task became complete while this
    contender waited (another holder finished it). Raises LockUnavailable
    when ``on_locked == "fail"`` or ``timeout`` seconds pass.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    waited = False
    while True:
        lease = backend.try_acquire(key, owner)
        if lease is not None:
            return lease
        if on_locked == "fail":
            raise LockUnavailable(f"lock for {key} is held elsewhere")
        if not waited:
            on_wait()
            waited = True
        if deadline is not None and time.monotonic() >= deadline:
            raise LockUnavailable(f"lock for {key} still held after {timeout:g}s")
        # Jitter keeps contenders from polling in lockstep.
        time.sleep(poll * random.uniform(0.5, 1.5))
        if is_complete():
            return None


class LeaseKeeper:
    """Renews a lease in the background; on loss, interrupts the main thread once."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LeaseKeeper:
        if self.lease.renew_interval:
            self._thread = threading.Thread(target=self._loop, name="lease-keeper", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        interval = float(self.lease.renew_interval or 0)
        while not self._stop.wait(interval):
            try:
                self.lease.renew()
            except LeaseLost:
                self.lost.set()
            except Exception:  # noqa: BLE001 - a failed renewal is a lost lease
                self.lost.set()
            if self.lost.is_set():
                _thread.interrupt_main(LEASE_LOST_SIGNAL)
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
