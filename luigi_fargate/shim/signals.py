"""SIGTERM and lease loss turn into exceptions in the main thread, where the task runs.

Raising in the main thread unwinds the task's own ``finally`` blocks and
context managers (its cleanup), lets Luigi fire the FAILURE event, and
reaches the runner, which releases the lock and exits 143 (or 7). A watchdog
makes sure the process is gone before Fargate's 30 s stop timeout even if the
task's cleanup hangs.

The handlers are installed for one run and put back afterwards (the runner
is also called in-process, by tests and tools): use :class:`StopSignals` as a
context manager.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from luigi_fargate.shim.locking import LEASE_LOST_SIGNAL

#: Seconds after SIGTERM before the watchdog ends the process (Fargate sends SIGKILL at 30).
GRACE_SECONDS = 25.0


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException, so a task's ``except Exception`` can't swallow it."""


class LeaseLostInterrupt(BaseException):
    """The lock's lease was lost while the task ran: stop before two runners overlap."""


class StopSignals:
    """SIGTERM and the lease-lost signal as exceptions, for the duration of a ``with`` block."""

    def __init__(self, on_hard_exit: Callable[[], None], grace: float = GRACE_SECONDS) -> None:
        self.on_hard_exit = on_hard_exit
        self.grace = grace
        self.terminated = False
        self.lease_lost = False
        self._previous: dict[int, Any] = {}
        self._watchdog: threading.Timer | None = None

    def __enter__(self) -> StopSignals:
        for signum, handler in ((signal.SIGTERM, self._on_term), (LEASE_LOST_SIGNAL, self._on_lease_lost)):
            self._previous[signum] = signal.signal(signum, handler)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        # The run is over (its cleanup ran): the hard-exit watchdog has nothing left to guard.
        if self._watchdog is not None:
            self._watchdog.cancel()
        for signum, previous in self._previous.items():
            # None: the previous handler was not set from Python; the default is what was there.
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        self._previous.clear()

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        if self.terminated:
            return
        self.terminated = True
        self._watchdog = threading.Timer(self.grace, self._hard_exit)
        self._watchdog.daemon = True
        self._watchdog.start()
        raise Terminated()

    def _on_lease_lost(self, signum: int, frame: FrameType | None) -> None:
        if self.lease_lost or self.terminated:
            return
        self.lease_lost = True
        raise LeaseLostInterrupt()

    def _hard_exit(self) -> None:
        try:
            self.on_hard_exit()
        finally:
            os._exit(143)
