"""Calendar arithmetic on naive wall-clock datetimes, in the units of Luigi's date-like parameters.

The same steps are written as Jinja in :mod:`luigi_fargate.introspect.rules`;
a hypothesis test renders those templates with Airflow's own Jinja and
compares them with these functions.
"""

from __future__ import annotations

import datetime as dt

from luigi_fargate.spec.dates import DateUnit

_FIXED: dict[DateUnit, dt.timedelta] = {
    DateUnit.SECOND: dt.timedelta(seconds=1),
    DateUnit.MINUTE: dt.timedelta(minutes=1),
    DateUnit.HOUR: dt.timedelta(hours=1),
    DateUnit.DAY: dt.timedelta(days=1),
    DateUnit.WEEK: dt.timedelta(days=7),
}


def fixed_length(unit: DateUnit) -> dt.timedelta | None:
    """The length of ``unit`` when it has one (not months and years)."""
    return _FIXED.get(unit)


def truncate(moment: dt.datetime, unit: DateUnit) -> dt.datetime:
    """``moment`` floored to ``unit`` (weeks start on Monday, as ISO weeks do)."""
    if unit == DateUnit.SECOND:
        return moment.replace(microsecond=0)
    if unit == DateUnit.MINUTE:
        return moment.replace(second=0, microsecond=0)
    if unit == DateUnit.HOUR:
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == DateUnit.DAY:
        return day
    if unit == DateUnit.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if unit == DateUnit.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def add(moment: dt.datetime, amount: int, unit: DateUnit) -> dt.datetime:
    """``moment`` plus ``amount`` units.

    Months and years keep the time of day and count the day of the month on
    from the first, as GNU ``date`` does (March 31 minus one month is March 3,
    not February 28): what a crontab's ``date -d '1 month ago'`` printed.
    On a truncated moment (the first of a month) that is plain month arithmetic.
    """
    step = _FIXED.get(unit)
    if step is not None:
        return moment + amount * step
    months = amount * (12 if unit == DateUnit.YEAR else 1)
    index = moment.month - 1 + months
    first = moment.replace(year=moment.year + index // 12, month=index % 12 + 1, day=1)
    return first + dt.timedelta(days=moment.day - 1)


def distance(start: dt.datetime, end: dt.datetime, unit: DateUnit) -> int | None:
    """Whole ``unit`` steps from ``start`` to ``end`` (both truncated to ``unit``), or None if not whole."""
    step = _FIXED.get(unit)
    if step is not None:
        q, r = divmod(end - start, step)
        return q if not r else None
    if unit == DateUnit.MONTH:
        return (end.year - start.year) * 12 + end.month - start.month
    return end.year - start.year


def as_datetime(value: dt.date) -> dt.datetime:
    """A date or datetime as a naive datetime (a date: its midnight)."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime(value.year, value.month, value.day)


def coarser(a: DateUnit, b: DateUnit) -> bool:
    return a.rank > b.rank
