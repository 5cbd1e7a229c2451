"""The runner's exit codes: the contract between the container and the operators.

Standard library only: the Airflow side imports this to tell users, in words,
what a container's exit code means.
"""

from __future__ import annotations

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
    137: "killed by SIGKILL (out of memory, or not stopped within the stop timeout)",
    1: "crashed: unexpected error in the runner (see the log)",
}


def describe(code: int | None) -> str:
    """Human words for an exit code, for Airflow task logs and failure messages."""
    if code is None:
        return "no exit code (the container did not run or was lost)"
    if code in MEANINGS:
        return f"exit {code}: {MEANINGS[code]}"
    if code > 128:
        return f"exit {code}: killed by signal {code - 128}"
    return f"exit {code}: unexpected exit code"
