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


def terminate_own_group() -> None:
    """SIGTERM to the other processes of the runner's group, when it leads its own session (Linux /proc).

    The local operator starts the runner so (``start_new_session``); the
    parent-death SIGTERM from the kernel reaches the runner alone, and a tool
    its task runs (``os.system``, a shell) would go on after Airflow marked
    the task failed. A runner in someone else's group (a shell pipeline,
    cron's ``sh -c``) or PID 1 of a container leaves the group alone.
    """
    try:
        me = os.getpid()
        group = os.getpgrp()
        if group <= 1 or group != me or os.getsid(0) != me:
            return
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit() and int(name) != me]
    except OSError:
        return
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == group:  # field 5, pgrp
                os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            continue


class StopSignals:
    """SIGTERM and the lease-lost signal as exceptions, for the duration of a ``with`` block.

    With ``watch_blocked``, a thread also learns of SIGTERM at once through
    the signal wakeup fd, while the main thread may be stuck in a C call
    (``os.system`` retries its wait and runs no Python signal handler until
    the command ends): it passes SIGTERM to the task's processes
    (:func:`terminate_own_group`) and starts the watchdog then.
    """

    def __init__(self, on_hard_exit: Callable[[], None], grace: float = GRACE_SECONDS, watch_blocked: bool = False) -> None:
        self.on_hard_exit = on_hard_exit
        self.grace = grace
        self.watch_blocked = watch_blocked
        self.terminated = False
        self.lease_lost = False
        self._previous: dict[int, Any] = {}
        self._watchdog: threading.Timer | None = None
        self._stopping_lock = threading.Lock()
        self._closed = False
        self._wakeup: tuple[int, Any] | None = None  # (write end, previous wakeup fd)

    def __enter__(self) -> StopSignals:
        for signum, handler in ((signal.SIGTERM, self._on_term), (LEASE_LOST_SIGNAL, self._on_lease_lost)):
            self._previous[signum] = signal.signal(signum, handler)
        if self.watch_blocked:
            self._watch_wakeups()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        # The run is over (its cleanup ran): the hard-exit watchdog has nothing left to guard.
        with self._stopping_lock:
            self._closed = True
            if self._watchdog is not None:
                self._watchdog.cancel()
        if self._wakeup is not None:
            write_end, previous_fd = self._wakeup
            signal.set_wakeup_fd(previous_fd)
            os.close(write_end)  # the reader sees the end and closes its side
            self._wakeup = None
        for signum, previous in self._previous.items():
            # None: the previous handler was not set from Python; the default is what was there.
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)
        self._previous.clear()

    def _watch_wakeups(self) -> None:
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        try:
            previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        except ValueError:  # not the main thread: the handler alone, as before
            os.close(read_end)
            os.close(write_end)
            return
        self._wakeup = (write_end, previous_fd)
        threading.Thread(target=self._read_wakeups, args=(read_end,), name="stop-signals", daemon=True).start()

    def _read_wakeups(self, read_end: int) -> None:
        try:
            while data := os.read(read_end, 64):
                if signal.SIGTERM in data:
                    self._stopping()
        except OSError:
            pass
        finally:
            os.close(read_end)

    def _stopping(self) -> None:
        """Once per run, from whichever sees SIGTERM first: start the watchdog and stop the task's processes."""
        with self._stopping_lock:
            if self._closed or self._watchdog is not None:
                return
            self._watchdog = threading.Timer(self.grace, self._hard_exit)
            self._watchdog.daemon = True
            self._watchdog.start()
        if self.watch_blocked:
            terminate_own_group()

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        if self.terminated:
            return
        self.terminated = True
        self._stopping()
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
