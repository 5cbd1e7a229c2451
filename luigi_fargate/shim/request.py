"""What one ``luigi-fargate run`` asks for, as the command line gave it (read by luigi_fargate.cli.run)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RunRequest:
    """One ``luigi-fargate run``: the runner's options, MODULE, FAMILY and the words after FAMILY."""

    module: str
    family: str
    params: tuple[str, ...] = ()
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
    #: The runner's option names, so that one given after FAMILY is named as such in the error.
    runner_flags: frozenset[str] = field(default_factory=frozenset)
