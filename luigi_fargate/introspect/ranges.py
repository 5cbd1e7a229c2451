"""Luigi's RangeDaily / RangeHourly, exported as what they really are: a schedule.

A range task is Luigi's way to say "run ``of`` for every day (hour) since
``start``". Exporting a snapshot of the range would freeze today's list of
dates into the DAG; instead the underlying task becomes the DAG's root, bound
to the run date, with the DAG scheduled daily (hourly) and catching up from
the range's start.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    import luigi


@dataclass(frozen=True)
class RangeSchedule:
    """What the range meant: the schedule and catchup the DAG takes over."""

    range_family: str
    param_name: str  # the underlying task's date parameter
    schedule: str  # @daily / @hourly
    start_date: str | None  # the range's start (ISO date, or date and time for hourly ranges), if it had one
    stop: str | None


def unwrap_range(root: luigi.Task) -> tuple[luigi.Task, RangeSchedule | None]:
    """(the task to export, the range's schedule) for a range root; (root, None) otherwise."""
    from luigi.tools.range import RangeDailyBase, RangeHourlyBase

    if not isinstance(root, RangeDailyBase | RangeHourlyBase):
        return root, None
    hourly = isinstance(root, RangeHourlyBase)
    name = root._param_name  # noqa: SLF001 - Luigi's own rule for which parameter the range fills
    start: dt.datetime | dt.date | None = root.start
    stop = root.stop
    if start is None and stop is None:
        raise UserError(f"{root.get_task_family()}: give --start (the first date the DAG runs for); a range without one can't be scheduled")
    period = dt.timedelta(hours=1) if hourly else dt.timedelta(days=1)
    first = start if start is not None else stop - period
    task = root.of(**{**dict(root.of_params), name: first})
    schedule = RangeSchedule(
        range_family=root.get_task_family(),
        param_name=name,
        schedule="@hourly" if hourly else "@daily",
        start_date=start.isoformat() if start is not None else None,  # hourly: the hour, so catchup starts there
        stop=str(stop) if stop is not None else None,
    )
    return task, schedule
