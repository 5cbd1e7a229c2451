"""Run exactly one Luigi task and say truthfully how it went.

The steps, each cheaper than the next; nothing the allowlist doesn't name is
ever imported:

1. admit: names, allowlist, graph-check input (nothing imported yet)   -> exit 2 / 3
2. rebuild the task: import MODULE, read its parameters strictly         -> exit 2 / 3
3. graph check: this run's Luigi graph still has the exported shape      -> exit 8
4. already complete? (a task without outputs: does Luigi need it now?)   -> exit 0, nothing run
5. every direct dependency complete?                                     -> exit 4, nothing run
6. take the task's lock (wait, then re-check 4)                          -> exit 7 / 0
7. run it through Luigi's worker (events fire, dynamic deps run here)
8. complete() again                                                      -> exit 5 / 6 / 0

Whatever the task's code raises, ``SystemExit`` included, ends as a non-zero
exit code of the step that called it (see ``shim.user_code``).

Once the task is rebuilt, the first event (``task``) names this run's Luigi
task id; every run that got past step 1 ends with a ``usage`` event (what it
used and how it ended), whatever the outcome (``luigi_fargate.spec.runner_log``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.introspect.loader import check_dotted_name
from luigi_fargate.shim import completeness
from luigi_fargate.shim.allowlist import Allowlist, resolve
from luigi_fargate.shim.events import EventLog
from luigi_fargate.shim.graph_check import ShapeCheck, load_check
from luigi_fargate.shim.request import RunRequest
from luigi_fargate.shim.signals import StopSignals, Terminated
from luigi_fargate.shim.usage import RunRecord, emit_usage
from luigi_fargate.shim.user_code import user_code
from luigi_fargate.spec.runner_log import TASK_EVENT

if TYPE_CHECKING:
    import luigi

    from luigi_fargate.introspect.graph import LuigiGraph


@dataclass(frozen=True)
class Admission:
    """What step 1 decided: the allowlist, and the graph check (if any) it admitted."""

    allowlist: Allowlist
    shape: ShapeCheck | None


@contextlib.contextmanager
def _runner_logging(verbose: bool) -> Iterator[None]:
    """Log to stderr for this run; Luigi's scheduler chatter only with -v. Restores what it changed."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    quiet = logging.DEBUG if verbose else logging.WARNING
    loggers = [(root, logging.DEBUG if verbose else logging.INFO)]
    loggers += [(logging.getLogger(name), quiet) for name in ("luigi-interface", "luigi")]
    saved = [(lg, lg.level) for lg, _ in loggers]
    install = not root.handlers
    if install:
        root.addHandler(handler)
    for lg, level in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, level in saved:
            lg.setLevel(level)
        if install:
            root.removeHandler(handler)


def admit(req: RunRequest, environ: Mapping[str, str] | None = None) -> Admission:
    """Step 1: is this invocation allowed at all? Decided before any import."""
    check_dotted_name(req.module, "module")
    check_dotted_name(req.family, "task family")
    allowlist = resolve(req.allow, req.allow_any, environ)
    allowlist.check_task(req.module, req.family)
    shape = load_check(req.graph_check, environ)
    if shape is not None:
        allowlist.check_graph_root(req.module, req.family, (shape.root_module, shape.root_family))
    return Admission(allowlist, shape)


def check_shape(task: luigi.Task, admission: Admission, req: RunRequest) -> LuigiGraph:
    """Step 3: rebuild the admitted root with the same strict grammar, then compare (exit 8 / 9)."""
    from luigi_fargate.shim.graph_check import check_graph_shape
    from luigi_fargate.shim.rebuild import rebuild_task

    assert admission.shape is not None
    shape = admission.shape
    root = rebuild_task(shape.root_module, shape.root_family, shape.root_args, req.runner_flags)
    return check_graph_shape(task, shape, root, admission.allowlist)


def report_completeness(task: luigi.Task, log: EventLog) -> int:
    """``--check-complete`` (sensors): 0 if complete, else 4; runs and locks nothing."""
    with user_code(f"{task.task_id}: complete()"):
        complete = task.complete()
    if complete:
        log.emit("check_complete", "complete")
        return ExitCode.DONE
    if completeness.has_no_outputs(task):
        log.emit("check_complete", "has no outputs: Luigi never counts it complete, so it can't be sensed; "
                 "export it together with the tasks that need it, or give it an output()")
        return ExitCode.UPSTREAM_INCOMPLETE
    log.emit("check_complete", "not complete yet", missing_outputs=", ".join(completeness.missing_outputs(task)) or None)
    return ExitCode.UPSTREAM_INCOMPLETE


def already_done(task: luigi.Task, graph: LuigiGraph | None, log: EventLog) -> bool:
    """Step 4: complete already, or (no outputs) not reached by Luigi in this invocation.

    A WrapperTask with its own run() is never "already complete": it is
    complete once its dependencies are, which they always are when Airflow
    starts it, while Luigi decided before running them and so runs the
    wrapper's run() in that invocation.
    """
    from luigi_fargate.introspect.graph import to_networkx

    if completeness.is_wrapper_with_run(task):
        return False
    with user_code(f"{task.task_id}: complete()"):
        if task.complete():
            log.emit("already_complete", "already complete, nothing run")
            return True
    if graph is None or not completeness.has_no_outputs(task):
        return False
    if completeness.reached_by_luigi(to_networkx(graph), graph.root, task.task_id):
        return False
    log.emit("not_needed", "has no outputs and every task that needs it is complete: Luigi wouldn't run it "
             "in this invocation; nothing run")
    return True


def dependencies_ready(task: luigi.Task, log: EventLog) -> tuple[bool, list[str]]:
    """Step 5: (every direct dependency done?, ids of those without outputs that count as done)."""
    deps = completeness.incomplete_dependencies(task)
    for dep in deps.no_outputs:
        if deps.no_outputs_done:
            log.emit("upstream_assumed_done", f"dependency {dep.task_id} has no outputs: counted as done (Airflow "
                     "starts this task only after it succeeded in this DAG run)")
        else:
            log.emit("upstream_incomplete", f"dependency {dep.task_id} has no outputs, and with [worker] "
                     "check_unfulfilled_deps = true (Luigi's default) Luigi fails the tasks that need it; set it to "
                     "false in luigi.cfg, or give that task an output()")
    for dep, outputs in deps.missing:
        log.emit("upstream_incomplete", f"missing dependency {dep.task_id}", missing_outputs=", ".join(outputs) or None)
    return deps.ready, [dep.task_id for dep in deps.no_outputs] if deps.ready else []


def run(req: RunRequest, environ: Mapping[str, str] | None = None, log: EventLog | None = None,
        record: RunRecord | None = None) -> int:
    """The whole runner; returns the exit code.

    SIGTERM is handled from the first step: as PID 1 of a container the runner
    has no default action for it, so without a handler a stop during the
    checks would be ignored until SIGKILL, 30 s later.
    """
    log = log or EventLog(req.log_format)
    record = record or RunRecord.now()
    with _runner_logging(req.verbose), StopSignals(on_hard_exit=lambda: None):
        try:
            return _run_steps(req, environ, log, record)
        except Terminated:
            log.emit("terminated", "stopped by SIGTERM before the task ran; nothing run")
            return ExitCode.TERMINATED


def _run_steps(req: RunRequest, environ: Mapping[str, str] | None, log: EventLog, record: RunRecord) -> int:
    from luigi_fargate.shim.execution import run_locked
    from luigi_fargate.shim.rebuild import rebuild_task

    admission = admit(req, environ)
    record.admitted = True
    task = rebuild_task(req.module, req.family, req.params, req.runner_flags)
    record.task = task
    log.bind(task_id=task.task_id, family=task.get_task_family())
    log.emit(TASK_EVENT, "rebuilt", module=req.module)
    graph = check_shape(task, admission, req) if admission.shape is not None else None
    if req.check_complete:
        return report_completeness(task, log)
    if already_done(task, graph, log):
        return ExitCode.DONE
    ready, assumed_done = dependencies_ready(task, log)
    if not ready:
        return ExitCode.UPSTREAM_INCOMPLETE
    return run_locked(task, req, log, assumed_done, record)


def run_or_exit_code(req: RunRequest, environ: Mapping[str, str] | None = None) -> int:
    """``run`` with user errors reported as one line and their exit code, never a false exit 0.

    A run that got past admission ends with its usage event, failures included.
    """
    log = EventLog(req.log_format)
    record = RunRecord.now()
    code = _outcome(req, environ, log, record)
    if record.admitted:
        emit_usage(log, record, code)
    return code


def _outcome(req: RunRequest, environ: Mapping[str, str] | None, log: EventLog, record: RunRecord) -> int:
    try:
        return run(req, environ, log, record)
    except UserError as exc:
        if req.verbose and exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__, file=sys.stderr)
        event = "failed" if exc.exit_code == ExitCode.TASK_FAILED else "rejected"
        log.emit(event, exc.message, exit_code=exc.exit_code)
        return exc.exit_code
    except SystemExit as exc:
        # Every call into user code is guarded; an exit that still gets here must not read as success.
        log.emit("crashed", f"SystemExit({exc.code!r}) escaped the runner", exit_code=1)
        return 1

