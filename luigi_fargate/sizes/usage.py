"""The runner's usage events (luigi_fargate/spec/runner_log.py) as measured runs.

Only runs that ran the task's body count (``ran: true``): a run that found
its task complete measured nothing but the runner's own start.
"""

from __future__ import annotations

import re
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


#: Largest value a measurement can hold (more is a corrupt or forged line): MiB, seconds, CPU units, epoch seconds.
_LIMITS = {"max_rss_mb": 1e9, "cpu_s": 1e9, "wall_s": 1e9, "cpu": 1e6, "memory": 1e9, "ts": 1e11}

#: A family as a section name (``[luigi_fargate.family.X]``): no brackets, spaces or control characters.
_FAMILY = re.compile(r"[^\[\]\s]+")


class BadEvent(ValueError):
    """A usage event that can't be a runner's measurement; the message names the field."""


def _number(record: dict[str, Any], name: str) -> float | None:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise BadEvent(f"{name} is {value!r}, not a number")
    number = float(value)
    if not 0 <= number <= _LIMITS[name]:  # NaN fails this too
        raise BadEvent(f"{name} is {value!r}; a run measures a number from 0 to {_LIMITS[name]:g}")
    return number


def measured_run(record: dict[str, Any]) -> MeasuredRun | None:
    """A usage event of a run that ran, as a MeasuredRun; anything else (other events, no body run) is None.

    A usage event whose numbers no run can have (NaN, infinite, negative,
    absurdly large) or whose family can't be a section name raises BadEvent.
    """
    if record.get("event") != USAGE_EVENT or record.get("ran") is not True or not isinstance(record.get("family"), str):
        return None
    if not _FAMILY.fullmatch(record["family"]) or not record["family"].isprintable():
        raise BadEvent(f"family {record['family']!r} is not a Luigi task family (no brackets, spaces or control characters)")
    rss, cpu_s, wall_s = (_number(record, name) for name in ("max_rss_mb", "cpu_s", "wall_s"))
    if rss is None or cpu_s is None or wall_s is None:
        return None
    params = record.get("params") if isinstance(record.get("params"), dict) else {}
    cpu, memory = _number(record, "cpu"), _number(record, "memory")
    return MeasuredRun(
        record["family"], {str(k): str(v) for k, v in params.items()}, rss, cpu_s, wall_s, _number(record, "ts") or 0.0,
        int(cpu) if cpu else None, int(memory) if memory else None,
    )  # fmt: skip


def _identity(record: dict[str, Any]) -> tuple[Any, ...] | None:
    """What tells one run's usage event from another's (the same event read from two files counts once)."""
    if record.get("pid") is None or record.get("ts") is None:
        return None
    return tuple(repr(record.get(name)) for name in ("task_id", "family", "pid", "ts", "run_id", "try_number", "map_index"))


def runs_from_lines(lines: Iterable[str], source: str = "usage events", fix: str = "remove that line",
                    seen: set[tuple[Any, ...]] | None = None) -> Iterator[MeasuredRun]:  # fmt: skip
    """Measured runs among log lines: lines that aren't usage events (text output, other events) are skipped.

    A usage event no runner could have written is a UserError naming ``source`` and the line. An event
    already in ``seen`` (by its run's ids, pid and time) is skipped.
    """
    seen = set() if seen is None else seen
    for number, line in enumerate(lines, 1):
        record = parse_event(line)
        try:
            run = measured_run(record) if record is not None else None
        except BadEvent as exc:
            raise UserError(f"{source} line {number}: {exc}; {fix}") from None
        if run is None:
            continue
        identity = _identity(record)  # type: ignore[arg-type]
        if identity is not None:
            if identity in seen:
                continue
            seen.add(identity)
        yield run


def runs_from_files(paths: Iterable[str]) -> list[MeasuredRun]:
    out: list[MeasuredRun] = []
    seen: set[tuple[Any, ...]] = set()
    for path in paths:
        try:
            with open(Path(path), encoding="utf-8", errors="replace") as fh:
                out.extend(runs_from_lines(fh, path, "remove that line or fix what wrote it", seen))
        except OSError as exc:
            raise UserError(f"--events {path}: can't read it ({exc.strerror}); pass the runner's events file (LUIGI_FARGATE_EVENTS_FILE)") from None
    return out
