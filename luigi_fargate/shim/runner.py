"""Run exactly one Luigi task and say truthfully how it went.

Order of checks, each cheaper than the next:

1. allowlist (before anything is imported)        -> exit 3
2. rebuild the task with Luigi's registry/parser  -> exit 2 / 3
3. already complete?                              -> exit 0, nothing run
4. every direct dependency complete?              -> exit 4, nothing run
5. take the task's lock (wait, then re-check 3)   -> exit 7 / 0
6. run it through Luigi's worker (events fire, dynamic deps run here)
7. complete() again                               -> exit 5 / 6 / 0
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.locks.base import Lease, make_owner, open_backend
from luigi_fargate.shim.allowlist import check_allowed
from luigi_fargate.shim.events import EventLog
from luigi_fargate.shim.locking import LeaseKeeper, LockUnavailable, acquire
from luigi_fargate.shim.signals import LeaseLostInterrupt, StopSignals, Terminated

if TYPE_CHECKING:
    import luigi


#: Luigi command-line options that don't set task parameters and must not pass the allowlist.
FORBIDDEN_LUIGI_OPTIONS = frozenset({"--module", "--core-module", "--help", "--help-all", "--core-help", "--core-help-all"})


@dataclass
class RunRequest:
    module: str
    family: str
    luigi_args: list[str]
    allow: str | None = None
    allow_any: bool = False
    lock_url: str | None = None
    on_locked: str = "wait"
    lock_timeout: float | None = None
    lock_poll: float = 1.0
    log_format: str = "text"
    verbose: bool = False
    graph_check: str | None = None  # JSON, see shim/graph_check.py (or $LUIGI_FARGATE_GRAPH_CHECK)
    check_complete: bool = False  # only report completeness (0 / 4): for sensors; no run, no lock
    extra_env: dict[str, str] = field(default_factory=dict)


def _missing_outputs(task: luigi.Task) -> list[str]:
    from luigi.task import flatten

    return [str(t) for t in flatten(task.output()) if not t.exists()]


def _already_complete(task: luigi.Task) -> bool:
    """complete() before running, except for a WrapperTask with its own run().

    A wrapper is complete once its dependencies are, which they always are
    when Airflow starts it; Luigi decided before running them, so it runs the
    wrapper's run() in that invocation. Runs it here too (issue #13, item 5).
    """
    if _is_wrapper_with_run(task):
        return False
    return task.complete()


def _is_wrapper_with_run(task: luigi.Task) -> bool:
    import luigi

    return isinstance(task, luigi.WrapperTask) and type(task).run is not luigi.Task.run


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    # Luigi's scheduler chatter is noise for a one-task run; its errors still show.
    logging.getLogger("luigi-interface").setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("luigi").setLevel(logging.DEBUG if verbose else logging.WARNING)


def _run_with_luigi_worker(task: luigi.Task, log: EventLog) -> tuple[bool, list[str]]:
    """Run ``task`` in this process through Luigi's worker; (succeeded, unexpected ids scheduled)."""
    from luigi.scheduler import Scheduler
    from luigi.worker import Worker

    # No in-process retries (Airflow retries), and the task's Luigi resources
    # never block it here (Airflow pools limit concurrency across runs).
    resources = {name: 10**9 for name in (getattr(task, "resources", None) or {})}
    scheduler = Scheduler(retry_delay=10**9, resources=resources)
    if _is_wrapper_with_run(task):
        task.complete = lambda: False  # type: ignore[method-assign] # Luigi's worker would skip a complete wrapper
    try:
        with Worker(scheduler=scheduler, worker_processes=1, no_install_shutdown_handler=True, wait_interval=0.1) as worker:
            worker.add(task)
            pending = set(scheduler.task_list("PENDING", "").keys())
            extra = sorted(pending - {task.task_id})
            if extra:
                # A dependency turned incomplete after we checked it: never run it implicitly.
                return False, extra
            ok = worker.run()
    finally:
        task.__dict__.pop("complete", None)
    return bool(ok), []


def run(req: RunRequest) -> int:
    """The whole runner; returns the exit code."""
    log = EventLog(req.log_format)
    _configure_logging(req.verbose)
    from luigi_fargate.introspect.loader import build_task, check_dotted_name

    # 1. Allowlist, before the module is imported.
    check_dotted_name(req.module, "module")
    check_dotted_name(req.family, "task family")
    check_allowed(req.module, req.family, req.allow, req.allow_any)
    for arg in req.luigi_args:
        if arg.split("=", 1)[0] in FORBIDDEN_LUIGI_OPTIONS:
            # Luigi's parser would import another module (or print help) on our behalf.
            raise UserError(f"option {arg.split('=', 1)[0]} is not allowed here; name the module before the family", ExitCode.NOT_ALLOWED)

    # 2. Rebuild the task exactly as Luigi would from this command line.
    task = build_task(req.module, req.family, req.luigi_args, not_found_code=ExitCode.NOT_ALLOWED)
    log.bind(task_id=task.task_id, family=task.get_task_family())
    started = time.monotonic()

    # 2b. This run's graph still has the exported shape (exit 8 otherwise).
    from luigi_fargate.shim.graph_check import check_graph_shape, load_check

    shape = load_check(req.graph_check)
    if shape is not None:
        check_graph_shape(task, shape, req.allow)
    if req.check_complete:
        complete = task.complete()
        log.emit("check_complete", "complete" if complete else "not complete yet", missing_outputs=None if complete else ", ".join(_missing_outputs(task)) or None)
        return ExitCode.DONE if complete else ExitCode.UPSTREAM_INCOMPLETE

    # 3. Already complete: nothing to do (a rerun of a finished task).
    if _already_complete(task):
        log.emit("already_complete", "already complete, nothing run")
        return ExitCode.DONE

    # 4. Dependencies: never run before they are complete, never run them here.
    missing = [(dep, _missing_outputs(dep)) for dep in task.deps() if not dep.complete()]
    if missing:
        for dep, outputs in missing:
            log.emit("upstream_incomplete", f"missing dependency {dep.task_id}", missing_outputs=", ".join(outputs) or None)
        return ExitCode.UPSTREAM_INCOMPLETE

    # 5. The lock: the same task never runs twice at once.
    from luigi_fargate.config import lock_url_from

    backend = open_backend(lock_url_from(req.lock_url))
    lease: Lease | None = None
    keeper: LeaseKeeper | None = None
    signals = StopSignals(on_hard_exit=lambda: lease and lease.release())
    signals.install()
    try:
        try:
            lease = acquire(
                backend,
                task.task_id,
                make_owner(),
                on_locked=req.on_locked,
                timeout=req.lock_timeout,
                poll=req.lock_poll,
                is_complete=lambda: _already_complete(task),
                on_wait=lambda: log.emit("lock_wait", "held by another runner; waiting"),
            )
        except LockUnavailable as exc:
            log.emit("lock_unavailable", str(exc))
            return ExitCode.LOCK_NOT_ACQUIRED
        if lease is None or _already_complete(task):
            log.emit("already_complete", "completed by another runner, nothing run")
            return ExitCode.DONE

        # 6. Run through Luigi's own worker, holding the lease.
        log.emit("start", "running", lock=backend.url)
        keeper = LeaseKeeper(lease)
        with keeper:
            ok, unexpected = _run_with_luigi_worker(task, log)
        duration = round(time.monotonic() - started, 3)
        if unexpected:
            log.emit("upstream_incomplete", "dependencies became incomplete: " + ", ".join(unexpected))
            return ExitCode.UPSTREAM_INCOMPLETE
        if signals.terminated:
            raise Terminated()
        if signals.lease_lost:
            raise LeaseLostInterrupt()
        if not ok:
            log.emit("failed", "task failed", duration=duration)
            return ExitCode.TASK_FAILED
        # 7. Trust outputs, not the return of run().
        if not task.complete():
            log.emit("output_incomplete", "run() finished but outputs are missing: " + ", ".join(_missing_outputs(task)), duration=duration)
            return ExitCode.OUTPUT_INCOMPLETE
        log.emit("done", "succeeded", duration=duration)
        return ExitCode.DONE
    except Terminated:
        log.emit("terminated", "stopped by SIGTERM", duration=round(time.monotonic() - started, 3))
        return ExitCode.TERMINATED
    except LeaseLostInterrupt:
        why = keeper.reason if keeper is not None else ""
        log.emit("lease_lost", "lost the lock's lease; stopped so that two runners never overlap", reason=why or None)
        return ExitCode.LOCK_NOT_ACQUIRED
    finally:
        if lease is not None:
            try:
                lease.release()
            except Exception as exc:  # noqa: BLE001 - releasing must not hide the outcome
                log.emit("lock_release_failed", str(exc))


def run_or_exit_code(req: RunRequest) -> int:
    """``run`` with user errors reported as one line and their exit code."""
    try:
        return run(req)
    except UserError as exc:
        EventLog(req.log_format).emit("rejected", exc.message, exit_code=exc.exit_code)
        return exc.exit_code
