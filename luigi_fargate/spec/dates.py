"""Run-date rules as data: how each run's date is found, and how a parameter's value follows it.

A DAG exported with a run-date binding (``--bind date=ds-1``) runs, for each
Airflow run, the Luigi graph of "the root with this run's date". Two pieces of
data say what that means, so that Airflow (through the Jinja templates
generated from them), ``luigi-fargate verify`` and the runner's graph check
(both in Python) compute the same values:

- :class:`RunDate` (one per spec): the run's *anchor*. Take the run's
  instant (its logical date, or a data-interval end), shift it by the elapsed
  ``shift`` terms (hours, minutes, seconds), read the wall clock in ``zone``,
  shift that by the calendar terms (days, weeks, months, years), and truncate
  it to ``unit``.
- :class:`DateRule` (per parameter): the value on a run is the anchor
  truncated to the rule's ``unit``, moved by ``offset`` of those units,
  written with ``format`` (for a custom date interval: ``start-end``).

The arithmetic lives in :mod:`luigi_fargate.introspect.rules`. Standard
library only (read while Airflow parses DAG files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class DateUnit(StrEnum):
    """Resolutions of Luigi's date-like parameters, finest first (weeks are ISO weeks, Monday first)."""

    SECOND = "second"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def elapsed(self) -> bool:
        """Seconds, minutes and hours shift the instant; days and coarser shift the calendar date."""
        return self.rank <= _RANK[DateUnit.HOUR]


_RANK = {u: i for i, u in enumerate(DateUnit)}


class RunSource(StrEnum):
    """Which instant of the Airflow run a run date starts from."""

    LOGICAL_DATE = "logical_date"  # the run's logical date (its run_after when it has none)
    DATA_INTERVAL_START = "data_interval_start"
    DATA_INTERVAL_END = "data_interval_end"


#: The run's instant in Jinja, per source: the one place this expression is written (the
#: exporter's templates and the runner's graph check both use it). Airflow 3 creates runs
#: without a logical date (``airflow dags trigger``, the REST API with ``logical_date: null``);
#: their task context has no ``ds``, ``logical_date`` or ``data_interval_*`` at all (rendering
#: one is an UndefinedError), so every source reads the run through ``dag_run`` and falls
#: back to the run's ``run_after``: such a run is dated when it was asked to run.
INSTANT_JINJA: dict[RunSource, str] = {
    RunSource.LOGICAL_DATE: "(dag_run.logical_date or dag_run.run_after)",
    RunSource.DATA_INTERVAL_START: "(dag_run.data_interval_start or dag_run.run_after)",
    RunSource.DATA_INTERVAL_END: "(dag_run.data_interval_end or dag_run.run_after)",
}

#: Airflow's ``ds`` for every run: the instant's UTC date through Airflow's ``ds`` filter.
DS_JINJA = INSTANT_JINJA[RunSource.LOGICAL_DATE] + " | ds"


@dataclass(frozen=True)
class Shift:
    """``amount`` units added before truncation (``-1 day``: cron's ``date -d yesterday``)."""

    amount: int
    unit: DateUnit


@dataclass(frozen=True)
class RunDate:
    """How a run's anchor is found (see the module docstring); the bound root parameter's binding, resolved."""

    #: The anchor is truncated to this: the bound parameter's resolution.
    unit: DateUnit
    source: RunSource = RunSource.LOGICAL_DATE
    #: IANA zone whose wall clock gives the date (cron's TZ=): "UTC" for ``ds``, the DAG's zone for ``ds_local``.
    zone: str = "UTC"
    shift: list[Shift] = field(default_factory=list)
    #: Units per run period: 1, or a custom date interval's length in days.
    step: int = 1


@dataclass(frozen=True)
class DateRule:
    """A parameter's value on each run, relative to the run's anchor (see the module docstring)."""

    unit: DateUnit
    offset: int = 0
    #: strftime format of the value: the parameter's own (Luigi's date_format, ``%G-W%V`` for weeks...)
    #: or, for a string parameter bound with ``:FORMAT``, that format.
    format: str = "%Y-%m-%d"
    #: A custom date interval (``start-end``): the end, in days from the anchor.
    end_offset: int | None = None
