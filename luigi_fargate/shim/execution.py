"""Steps 6 to 8 of the runner: take the lock, run through Luigi's worker, verify the outputs.

With the lock held and before the task runs, Luigi's temporary files left by
an interrupted run of this task are removed (see shim.temp_outputs).

Signal handlers (SIGTERM, lease lost) are installed for these steps only and
put back afterwards; the lock is released whatever happens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.locks.base import Lease, LockBackend, make_owner, open_backend
from luigi_fargate.shim import completeness
from luigi_fargate.shim.events import EventLog
from luigi_fargate.shim.locking import LeaseKeeper, LockUnavailable, acquire
from luigi_fargate.shim.signals import LeaseLostInterrupt, StopSignals, Terminated
from luigi_fargate.shim.temp_outputs import remove_interrupted_temp_files
from luigi_fargate.shim.usage import RunRecord
from luigi_fargate.shim.user_code import user_code

if TYPE_CHECKING:
    import luigi

    from luigi_fargate.shim.request import RunRequest


def run_locked(task: luigi.Task, req: RunRequest, log: EventLog, assumed_done: list[str], record: RunRecord | None = None) -> int:
    """Steps 6-8 with the lock held and SIGTERM / lease loss turned into exit codes.

    ``assumed_done``: dependencies without outputs that count as done (see shim.completeness).
    ``record`` learns whether run() was reached (for the usage event).
    """
    from luigi_fargate.config import lock_url_from

    backend = open_backend(lock_url_from(req.lock_url))
    return LockedRun(task, req, log, assumed_done, backend, record=record or RunRecord.now()).run()


@dataclass
class LockedRun:
    task: luigi.Task
    req: RunRequest
    log: EventLog
    assumed_done: list[str]
    backend: LockBackend
    record: RunRecord = field(default_factory=RunRecord.now)
    lease: Lease | None = None
    keeper: LeaseKeeper | None = None
    signals: StopSignals = field(init=False)

    def __post_init__(self) -> None:
        self.signals = StopSignals(on_hard_exit=self._release_quietly, watch_blocked=True)

    def run(self) -> int:
        started = time.monotonic()
        with self.signals:
            try:
                return self._take_lock_and_run()
            except Terminated:
                self.log.emit("terminated", "stopped by SIGTERM", duration=round(time.monotonic() - started, 3))
                return ExitCode.TERMINATED
            except LeaseLostInterrupt:
                why = self.keeper.reason if self.keeper is not None else ""
                self.log.emit("lease_lost", "lost the lock's lease; stopped so that two runners never overlap", reason=why or None)
                return ExitCode.LOCK_NOT_ACQUIRED
            finally:
                self._release()

    def _is_complete(self) -> bool:
        """Done already (after a wait for the lock)? Never for a wrapper with run(): see runner.already_done."""
        if completeness.is_wrapper_with_run(self.task):
            return False
        with user_code(f"{self.task.task_id}: complete()"):
            return bool(self.task.complete())

    def _take_lock_and_run(self) -> int:
        """Step 6: the same task never runs twice at once; a waiter that finds it done runs nothing."""
        try:
            self.lease = acquire(
                self.backend,
                self.task.task_id,
                make_owner(),
                on_locked=self.req.on_locked,
                timeout=self.req.lock_timeout,
                poll=self.req.lock_poll,
                is_complete=self._is_complete,
                on_wait=lambda: self.log.emit("lock_wait", "held by another runner; waiting"),
            )
        except LockUnavailable as exc:
            self.log.emit("lock_unavailable", str(exc))
            return ExitCode.LOCK_NOT_ACQUIRED
        if self.lease is None or self._is_complete():
            self.log.emit("already_complete", "completed by another runner, nothing run")
            return ExitCode.DONE
        self._remove_interrupted_writes()
        return self._run_and_verify()

    def _remove_interrupted_writes(self) -> None:
        """Luigi's temporaries of this task's outputs, left by a killed run (the lock is ours: no one writes them now)."""
        removed = remove_interrupted_temp_files(self.task)
        if removed:
            self.log.emit("temp_removed", "removed temporary outputs of an interrupted run", paths=", ".join(removed))

    def _run_and_verify(self) -> int:
        """Steps 7 and 8: run through Luigi's worker holding the lease; trust outputs, not run()'s return."""
        from luigi_fargate.shim.luigi_worker import run_one_task

        assert self.lease is not None
        started = time.monotonic()
        self.log.emit("start", "running", lock=self.backend.url)
        self.keeper = LeaseKeeper(self.lease)
        with self.keeper, user_code(f"{self.task.task_id}: running it"):
            ok, unexpected = run_one_task(self.task, assume_done=self.assumed_done, before_run=self._mark_ran)
        duration = round(time.monotonic() - started, 3)
        if unexpected:
            self.log.emit("upstream_incomplete", "dependencies became incomplete: " + ", ".join(unexpected))
            return ExitCode.UPSTREAM_INCOMPLETE
        if self.signals.terminated:
            raise Terminated()
        if self.signals.lease_lost:
            raise LeaseLostInterrupt()
        if not ok:
            self.log.emit("failed", "task failed", duration=duration)
            return ExitCode.TASK_FAILED
        return self._verify(duration)

    def _mark_ran(self) -> None:
        self.record.ran = True

    def _verify(self, duration: float) -> int:
        if completeness.has_no_outputs(self.task):
            self.log.emit("done", "succeeded (no outputs: done once run() returned, as in Luigi)", duration=duration)
            return ExitCode.DONE
        if not self._is_complete() and not completeness.is_wrapper_with_run(self.task):
            missing = ", ".join(completeness.missing_outputs(self.task))
            self.log.emit("output_incomplete", f"run() finished but outputs are missing: {missing}", duration=duration)
            return ExitCode.OUTPUT_INCOMPLETE
        self.log.emit("done", "succeeded", duration=duration)
        return ExitCode.DONE

    def _release(self) -> None:
        if self.lease is None:
            return
        try:
            self.lease.release()
        except Exception as exc:  # noqa: BLE001 - releasing must not hide the outcome
            self.log.emit("lock_release_failed", str(exc))

    def _release_quietly(self) -> None:
        """The SIGTERM watchdog's last act before it ends the process."""
        if self.lease is not None:
            self.lease.release()
