"""The runner's exit codes: the contract between the container and the operators.

Standard library only: the Airflow side imports this to tell users, in words,
what a container's exit code means.
"""

from __future__ import annotations

import signal
from enum import IntEnum


class ExitCode(IntEnum):
    DONE = 0  # ran, or was already complete
    BAD_INVOCATION = 2  # bad arguments or parameter values
    NOT_ALLOWED = 3  # task not allowlisted for this image, or not found
    UPSTREAM_INCOMPLETE = 4  # a direct dependency is not complete
    TASK_FAILED = 5  # the task's code raised (run(), requires(), complete(), output())
    OUTPUT_INCOMPLETE = 6  # run() returned but complete() is still False
    LOCK_NOT_ACQUIRED = 7  # lock held elsewhere (with --on-locked fail / timeout) or lease lost
    GRAPH_MISMATCH = 8  # this date's graph no longer matches the exported spec
    NOT_IN_THIS_RUN = 9  # the exported task is not in this run date's Luigi graph: skipped, nothing run
    TERMINATED = 143  # SIGTERM (Fargate stop, Spot interruption, Airflow kill)


MEANINGS: dict[int, str] = {
    ExitCode.DONE: "done (ran, or was already complete)",
    ExitCode.BAD_INVOCATION: "bad invocation: the arguments or parameter values were rejected; nothing was run",
    ExitCode.NOT_ALLOWED: "task not allowed or not found in this image; nothing was run",
    ExitCode.UPSTREAM_INCOMPLETE: "upstream incomplete: a dependency's output is missing; nothing was run",
    ExitCode.TASK_FAILED: "task failed: the Luigi task's run() raised (or its requires(), complete() or output())",
    ExitCode.OUTPUT_INCOMPLETE: "task finished but its outputs are incomplete (complete() is False after run())",
    ExitCode.LOCK_NOT_ACQUIRED: "lock not acquired or lost: the same task is running elsewhere",
    ExitCode.GRAPH_MISMATCH: "graph no longer matches the exported spec: re-export the pipeline",
    ExitCode.NOT_IN_THIS_RUN: "skipped: Luigi's graph for this run date does not contain this task; nothing was run",
    ExitCode.TERMINATED: "terminated by SIGTERM (stopped, Spot interruption or timeout)",
    1: "crashed: unexpected error in the runner (see the log)",
}

#: Exit codes above this are a shell's or a container runtime's "killed by signal (code - 128)".
SIGNAL_EXIT_BASE = 128

#: What a signal usually means for a runner, in the words a person on call needs.
SIGNAL_MEANINGS: dict[int, str] = {
    signal.SIGKILL: "likely out of memory or stopped by Airflow",
    signal.SIGTERM: "stopped (by Airflow, ECS or a person) before the runner could exit on its own",
    signal.SIGINT: "interrupted (Ctrl-C)",
    signal.SIGHUP: "its terminal or parent session went away",
    signal.SIGSEGV: "crashed in native code (a C extension or the interpreter)",
    signal.SIGBUS: "crashed in native code (bad memory access)",
    signal.SIGABRT: "aborted (a native library called abort())",
    signal.SIGPIPE: "wrote to a closed pipe (its reader went away)",
    signal.SIGXCPU: "over its CPU-time limit",
}


def killed_by(signum: int) -> str:
    """``killed by signal N (SIGNAME: what it usually means)`` for any signal number."""
    try:
        name = signal.Signals(signum).name
    except ValueError:
        return f"killed by signal {signum}"
    meaning = SIGNAL_MEANINGS.get(signum, "sent by another process or the kernel")
    return f"killed by signal {signum} ({name}: {meaning})"


def describe(code: int | None) -> str:
    """Human words for an exit code, for Airflow task logs and failure messages.

    143 keeps the runner's own meaning (it exits 143 after its SIGTERM
    handling); ECS's 137 gets stronger words only from ``ecs_outcome``, where
    ECS's OutOfMemoryError says whether it really was memory.
    """
    if code is None:
        return "no exit code (the container did not run or was lost)"
    if code in MEANINGS:
        return f"exit {code}: {MEANINGS[code]}"
    if code < 0:  # subprocess's way of saying "killed by signal -code"
        return f"exit {code}: {killed_by(-code)}"
    if code > SIGNAL_EXIT_BASE:  # a shell's or a container runtime's way of saying the same
        return f"exit {code}: {killed_by(code - SIGNAL_EXIT_BASE)}"
    return f"exit {code}: unexpected exit code"
