"""Taking a task's lock the way the runner needs it: wait, re-check completeness, heartbeat.

The policy lives here, the storage in ``luigi_fargate.locks``: every backend
gets the same waiting, jitter, timeout and lease-keeping behaviour.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.locks.base import Lease, LeaseLost, LockBackend


class LockUnavailable(Exception):
    """The lock is held elsewhere and the policy says not to wait (longer)."""


#: How long a contender keeps retrying a lock backend that errors (unreachable,
#: overloaded, throttled) before it gives up with exit 7.
UNREACHABLE_GRACE = 60.0


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
    failing_since: float | None = None
    while True:
        lease, failing_since = _try_once(backend, key, owner, failing_since)
        if lease is not None:
            # Backends that report an outcome on release (luigid: DONE/FAILED) ask how it went.
            report = getattr(lease, "set_completion_check", None)
            if report is not None:
                report(is_complete)
            return lease
        if on_locked == "fail" and failing_since is None:
            raise LockUnavailable(f"lock for {key} is held elsewhere")
        if not waited and failing_since is None:
            on_wait()
            waited = True
        if deadline is not None and time.monotonic() >= deadline:
            raise LockUnavailable(f"lock for {key} still held after {timeout:g}s")
        # Jitter keeps contenders from polling in lockstep.
        time.sleep(poll * random.uniform(0.5, 1.5))
        if is_complete():
            return None


def _try_once(backend: LockBackend, key: str, owner: str, failing_since: float | None) -> tuple[Lease | None, float | None]:
    """One attempt: (the lease or None, since when the backend has been failing, or None if it answered)."""
    try:
        lease = backend.try_acquire(key, owner)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - a busy or briefly unreachable backend: try again
        now = time.monotonic()
        failing_since = failing_since or now
        if now - failing_since >= UNREACHABLE_GRACE:
            raise UserError(
                f"lock {backend.url}: unreachable for {UNREACHABLE_GRACE:g}s "
                f"({type(exc).__name__}: {exc}); check that it runs and that --lock points at it",
                ExitCode.LOCK_NOT_ACQUIRED,
            ) from None
        return None, failing_since
    if lease is not None and _nearly_expired(lease):
        # The request sat in a queue for most of the lease: it may already be
        # someone else's. Give it back and try again.
        lease.release()
        lease = None
    return lease, None


def _nearly_expired(lease: Lease) -> bool:
    """True when the grant arrived with less than half its lease left (an overloaded store or network)."""
    valid_until = getattr(lease, "valid_until", None)
    ttl = getattr(lease, "ttl", None)
    if valid_until is None or ttl is None or not lease.renew_interval:
        return False
    return valid_until - time.monotonic() < max(lease.renew_interval, ttl / 2)


class LeaseKeeper:
    """Renews a lease in the background; on loss, interrupts the main thread once.

    A renewal that fails with an error (network, throttling, a scheduler
    restart) is retried until the lease would expire: one dropped request
    must not kill an hour-long task. ``LeaseLost`` (someone else holds it
    now) or reaching the expiry counts as lost at once. A watchdog thread
    enforces the expiry even while a renewal hangs, and fires as soon as a
    container paused past its lease resumes, so it stops instead of
    finishing a task someone else has taken over.
    """

    def __init__(self, lease: Lease, on_lost: Callable[[], None] | None = None) -> None:
        self.lease = lease
        self.lost = threading.Event()
        self.reason = ""
        self._stop = threading.Event()
        self._lose_once = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._on_lost = on_lost or _interrupt_main_thread

    def __enter__(self) -> LeaseKeeper:
        interval = float(self.lease.renew_interval or 0)
        if interval:
            self._ttl = float(getattr(self.lease, "ttl", None) or interval * 3)
            # Stop a little before the lease can expire elsewhere.
            self._margin = min(interval / 2, self._ttl / 10)
            self._own_valid_until = time.monotonic() + self._ttl
            self._threads = [
                threading.Thread(target=self._renew_loop, name="lease-keeper", daemon=True),
                threading.Thread(target=self._watch_expiry, name="lease-watchdog", daemon=True),
            ]
            for thread in self._threads:
                thread.start()
        return self

    def _deadline(self) -> float:
        """Monotonic time at which the lease must count as lost (leases may track their own validity)."""
        return float(getattr(self.lease, "valid_until", self._own_valid_until)) - self._margin

    def _watch_expiry(self) -> None:
        # Separate from the renewals so that a request hanging on a dead
        # network can't delay the stop past the lease.
        while not self._stop.wait(max(0.0, self._deadline() - time.monotonic())):
            if time.monotonic() >= self._deadline():
                self._lose(f"no successful renewal within the {self._ttl:g}s lease (paused or partitioned?)")
                return

    def _renew_loop(self) -> None:
        interval = float(self.lease.renew_interval or 0)
        wait = interval
        while not self._stop.wait(wait):
            attempt = time.monotonic()
            try:
                self.lease.renew()
            except LeaseLost as exc:
                self._lose(str(exc) or "lease taken")
                return
            except Exception as exc:  # noqa: BLE001 - transient: retry while the lease is still ours
                self.reason = f"renewal failed: {type(exc).__name__}: {exc}"
                wait = max(0.05, min(interval, (self._deadline() - time.monotonic()) / 2))
                continue
            self._own_valid_until = attempt + self._ttl
            wait = interval

    def _lose(self, reason: str) -> None:
        with self._lose_once:
            if self._stop.is_set() or self.lost.is_set():
                return
            self.reason = reason
            self.lost.set()
        self._on_lost()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def _interrupt_main_thread() -> None:
    """Deliver LEASE_LOST_SIGNAL to the main thread.

    A real signal (not ``_thread.interrupt_main``) so that a task blocked in
    ``time.sleep`` or a socket read wakes up now, not when the call returns.
    """
    signal.pthread_kill(threading.main_thread().ident or 0, LEASE_LOST_SIGNAL)
