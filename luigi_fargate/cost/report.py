"""Cost per try, then per task, DAG, family or team over a period, and per team per day for the chart.

Sums are exact (dollar-seconds per hour, see :mod:`pricing`); each figure is
rounded to the cent once, when shown, so a table's rows may differ from its
total by a cent or so of rounding.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from luigi_fargate.cost.catalog import PricedTask
from luigi_fargate.cost.history import TaskTry
from luigi_fargate.cost.pricing import billed_seconds, dollars

GROUPINGS = ("team", "dag", "family", "task")


@dataclass
class CostLine:
    """One group's tries, billed seconds and exact cost (dollar-seconds per hour)."""

    key: str
    tries: int = 0
    billed_seconds: int = 0
    dollar_seconds: Decimal = Decimal(0)

    @property
    def cost(self) -> Decimal:
        return dollars(self.dollar_seconds)


@dataclass
class CostReport:
    """The period's costs by the chosen grouping, per team per day, and what could not be priced."""

    grouping: str
    lines: dict[str, CostLine] = field(default_factory=dict)
    team_days: dict[tuple[str, dt.date], Decimal] = field(default_factory=dict)
    total: CostLine = field(default_factory=lambda: CostLine("total"))
    #: Tries left out, by reason (not a Fargate task of the specs, still running, outside the period).
    skipped: dict[str, int] = field(default_factory=dict)

    def sorted_lines(self) -> list[CostLine]:
        return sorted(self.lines.values(), key=lambda line: (-line.dollar_seconds, line.key))


def _group_key(task: PricedTask, grouping: str, team_tag: str) -> str:
    if grouping == "team":
        return task.team(team_tag)
    if grouping == "dag":
        return task.dag_id
    if grouping == "family":
        return task.family
    return f"{task.dag_id}.{task.task_id}"


def cost_report(
    tries: Iterable[TaskTry],
    tasks: dict[tuple[str, str], PricedTask],
    *,
    grouping: str = "team",
    team_tag: str = "team",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> CostReport:
    """Price every finished try of a known Fargate task that started in [since, until)."""
    report = CostReport(grouping)
    skipped: dict[str, int] = defaultdict(int)
    team_days: dict[tuple[str, dt.date], Decimal] = defaultdict(Decimal)
    for t in tries:
        task = tasks.get((t.dag_id, t.task_id))
        duration = t.duration_us
        if task is None:
            skipped["not a Fargate task in the specs"] += 1
            continue
        if duration is None or t.start is None:
            skipped["not started or not finished"] += 1
            continue
        if (since is not None and t.start < since) or (until is not None and t.start >= until):
            skipped["outside the period"] += 1
            continue
        seconds = billed_seconds(duration)
        amount = seconds * task.hourly_rate
        key = _group_key(task, grouping, team_tag)
        line = report.lines.get(key) or report.lines.setdefault(key, CostLine(key))
        for target in (line, report.total):
            target.tries += 1
            target.billed_seconds += seconds
            target.dollar_seconds += amount
        team_days[(task.team(team_tag), t.start.astimezone(dt.UTC).date())] += amount
    report.skipped = dict(skipped)
    report.team_days = dict(team_days)
    return report
