"""SIGTERM and lease loss turn into exceptions in the main thread, where the task runs.

Raising in the main thread unwinds the task's own ``finally`` blocks and
context managers (its cleanup), lets Luigi fire the FAILURE event, and
reaches the runner, which releases the lock and exits 143 (or 7). A watchdog
makes sure the process is gone before Fargate's 30 s stop timeout even if the
task's cleanup hangs.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

from luigi_fargate.shim.locking import LEASE_LOST_SIGNAL

#: Seconds after SIGTERM before the watchdog ends the process (Fargate sends SIGKILL at 30).
GRACE_SECONDS = 25.0


class Terminated(BaseException):
    """SIGTERM arrived. A BaseException, so a task's ``except Exception`` can't swallow it."""


class LeaseLostInterrupt(BaseException):
    """The lock's lease was lost while the task ran: stop before two runners overlap."""


class StopSignals:
    def __init__(self, on_hard_exit: Callable[[], None], grace: float = GRACE_SECONDS) -> None:
        self.on_hard_exit = on_hard_exit
        self.grace = grace
        self.terminated = False
        self.lease_lost = False

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(LEASE_LOST_SIGNAL, self._on_lease_lost)

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        if self.terminated:
            return
        self.terminated = True
        timer = threading.Timer(self.grace, self._hard_exit)
        timer.daemon = True
        timer.start()
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
