"""The runner's usage events (luigi_fargate/spec/runner_log.py) as measured runs.

Only runs that ran the task's body count (``ran: true``): a run that found
its task complete measured nothing but the runner's own start.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luigi_fargate.errors import UserError
from luigi_fargate.spec.runner_log import USAGE_EVENT, parse_event


@dataclass(frozen=True)
class MeasuredRun:
    """What one run of a task used, and the size it was given (None: not known, e.g. a local run)."""

    family: str
    params: dict[str, str] = field(default_factory=dict)
    max_rss_mb: float = 0.0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    ts: float = 0.0
    cpu: int | None = None
    memory: int | None = None

    @property
    def vcpus_used(self) -> float:
        """CPU seconds per wall second: the vCPUs the run kept busy on average."""
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def _number(record: dict[str, Any], name: str) -> float | None:
    value = record.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def measured_run(record: dict[str, Any]) -> MeasuredRun | None:
    """A usage event of a run that ran, as a MeasuredRun; anything else (other events, no body run) is None."""
    if record.get("event") != USAGE_EVENT or record.get("ran") is not True or not isinstance(record.get("family"), str):
        return None
    rss, cpu_s, wall_s = (_number(record, name) for name in ("max_rss_mb", "cpu_s", "wall_s"))
    if rss is None or cpu_s is None or wall_s is None:
        return None
    params = record.get("params") if isinstance(record.get("params"), dict) else {}
    cpu, memory = _number(record, "cpu"), _number(record, "memory")
    return MeasuredRun(
        record["family"], {str(k): str(v) for k, v in params.items()}, rss, cpu_s, wall_s, _number(record, "ts") or 0.0,
        int(cpu) if cpu else None, int(memory) if memory else None,
    )  # fmt: skip


def runs_from_lines(lines: Iterable[str]) -> Iterator[MeasuredRun]:
    """Measured runs among log lines: lines that aren't usage events (text output, other events) are skipped."""
    for line in lines:
        record = parse_event(line)
        run = measured_run(record) if record is not None else None
        if run is not None:
            yield run


def runs_from_files(paths: Iterable[str]) -> list[MeasuredRun]:
    out: list[MeasuredRun] = []
    for path in paths:
        try:
            with open(Path(path), encoding="utf-8", errors="replace") as fh:
                out.extend(runs_from_lines(fh))
        except OSError as exc:
            raise UserError(f"--events {path}: can't read it ({exc.strerror}); pass the runner's events file (LUIGI_FARGATE_EVENTS_FILE)") from None
    return out
