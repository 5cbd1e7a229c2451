"""Run-date binding: which Luigi parameters follow the Airflow run's date, and how.

``--bind date=ds`` (or ``date=ds-1`` for "yesterday", as ``$(date -d yesterday +%F)``)
makes the DAG run for logical date D run the graph of ``Root(date=D)``. The
root may hold a ``DateParameter``, ``DateHourParameter``, ``DateMinuteParameter``,
``MonthParameter``, ``YearParameter`` or ``DateIntervalParameter``; the offset
in a binding counts in the root parameter's own unit (days, hours, minutes,
months, years, intervals).

Every date-like parameter in the graph is expressed relative to the run's
anchor (the run date): "the anchor truncated to this parameter's resolution,
shifted by k of its units". That expression is a hypothesis learned from the
export date; :mod:`luigi_fargate.introspect.anchors` checks it against the
graphs Luigi builds for other run dates before it is trusted.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    import luigi

#: Binding source -> Jinja expression giving the run date as YYYY-MM-DD.
SOURCES: dict[str, str] = {
    # The logical date in UTC (what ``{{ ds }}`` is).
    "ds": "ds",
    # The logical date in the DAG's time zone: for schedules in a local zone.
    "ds_local": "(dag_run.logical_date or dag_run.run_after).astimezone(dag.timezone).strftime('%Y-%m-%d')",
    # The start of the data interval (for DAGs with data-interval timetables).
    "data_interval_start": "data_interval_start.strftime('%Y-%m-%d')",
    "data_interval_end": "data_interval_end.strftime('%Y-%m-%d')",
    # Aliases that read better for hourly and minutely roots.
    "logical_date": "ds",
    "logical_date_local": "(dag_run.logical_date or dag_run.run_after).astimezone(dag.timezone).strftime('%Y-%m-%d')",
}

#: Binding source -> Jinja expression giving the run's anchor as a datetime.
DATETIME_SOURCES: dict[str, str] = {
    "ds": "(dag_run.logical_date or dag_run.run_after)",
    "ds_local": "(dag_run.logical_date or dag_run.run_after).astimezone(dag.timezone)",
    "data_interval_start": "data_interval_start",
    "data_interval_end": "data_interval_end",
    "logical_date": "(dag_run.logical_date or dag_run.run_after)",
    "logical_date_local": "(dag_run.logical_date or dag_run.run_after).astimezone(dag.timezone)",
}

_BINDING = re.compile(r"^(?P<source>[a-z_]+)(?P<offset>[+-]\d+)?$")

#: Units, finest first; "week" only for Week intervals.
UNITS = ("second", "minute", "hour", "day", "week", "month", "year")
_FIXED_UNITS = {"second": dt.timedelta(seconds=1), "minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1),
                "day": dt.timedelta(days=1), "week": dt.timedelta(days=7)}
#: Suffix of a unit in Airflow task id labels (days keep the historical bare form: ds-1).
_LABEL = {"second": "s", "minute": "min", "hour": "h", "day": "", "week": "w", "month": "mo", "year": "y"}


def split_binding(binding: str) -> tuple[str, int]:
    """``ds`` -> (ds, 0); ``ds_local-1`` -> (ds_local, -1): a source and an offset in the root's unit."""
    m = _BINDING.match(binding)
    if not m or m["source"] not in SOURCES:
        raise UserError(
            f"binding {binding!r}: expected SOURCE or SOURCE+N / SOURCE-N days, SOURCE one of {', '.join(SOURCES)} "
            "(e.g. --bind date=ds or --bind date=ds-1 for yesterday)"
        )
    return m["source"], int(m["offset"] or 0)


def parse_bindings(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, binding = item.partition("=")
        if not sep or not name:
            raise UserError(f"--bind {item!r}: expected PARAM=SOURCE (e.g. --bind date=ds)")
        split_binding(binding)
        out[name.replace("-", "_")] = binding
    return out


# --- time arithmetic -----------------------------------------------------


def truncate(moment: dt.datetime, unit: str) -> dt.datetime:
    """``moment`` floored to ``unit`` (weeks start on Monday, as ISO weeks do)."""
    if unit == "second":
        return moment.replace(microsecond=0)
    if unit == "minute":
        return moment.replace(second=0, microsecond=0)
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def shift(moment: dt.datetime, units: int, unit: str) -> dt.datetime:
    if unit in _FIXED_UNITS:
        return moment + units * _FIXED_UNITS[unit]
    if unit == "month":
        index = moment.month - 1 + units
        return moment.replace(year=moment.year + index // 12, month=index % 12 + 1, day=1)
    return moment.replace(year=moment.year + units, day=1 if moment.month == 2 and moment.day == 29 else moment.day)


def distance(start: dt.datetime, end: dt.datetime, unit: str) -> int | None:
    """Whole ``unit`` steps from ``start`` to ``end`` (both truncated), or None if not whole."""
    if unit in _FIXED_UNITS:
        q, r = divmod(end - start, _FIXED_UNITS[unit])
        return q if not r else None
    if unit == "month":
        return (end.year - start.year) * 12 + end.month - start.month
    return end.year - start.year


def as_datetime(value: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime(value.year, value.month, value.day)


# --- date-like parameters ------------------------------------------------


def param_unit(param: luigi.Parameter) -> str | None:
    """The resolution of a Luigi date-like parameter, or None for other parameters."""
    import luigi

    for cls, unit in (
        (luigi.MonthParameter, "month"),
        (luigi.YearParameter, "year"),
        (luigi.DateSecondParameter, "second"),
        (luigi.DateMinuteParameter, "minute"),
        (luigi.DateHourParameter, "hour"),
        (luigi.DateParameter, "day"),
    ):
        if isinstance(param, cls):
            return unit
    return None


def interval_unit(value: object) -> str | None:
    """The step of a ``luigi.date_interval`` value, or None if it isn't one (Custom has none)."""
    from luigi import date_interval as di

    return {di.Date: "day", di.Week: "week", di.Month: "month", di.Year: "year"}.get(type(value))


@dataclass(frozen=True)
class RelativeDate:
    """A parameter value as "anchor truncated to ``unit``, shifted by ``offset`` units" (Custom: two ends)."""

    kind: str  # "point" (Date*/Month/Year parameter) or "interval" (DateIntervalParameter)
    unit: str
    offset: int
    fmt: str = "%Y-%m-%d"
    end_offset: int | None = None  # Custom intervals: the exclusive end, in days
    interval_class: str | None = None  # luigi.date_interval class name

    def value_at(self, anchor: dt.datetime, sample: object) -> object:
        """The Python value this expression gives for ``anchor`` (``sample``: the export-time value, for its type)."""
        from luigi import date_interval as di

        start = shift(truncate(anchor, self.unit), self.offset, self.unit)
        if self.kind == "interval":
            if self.interval_class == "Custom":
                end = shift(truncate(anchor, "day"), self.end_offset or 0, "day")
                return di.Custom(start.date(), end.date())
            return getattr(di, self.interval_class or "Date").from_date(start.date())
        if isinstance(sample, dt.datetime):
            return start.replace(tzinfo=sample.tzinfo)
        return start.date()

    def template(self, source: str, root_unit: str = "day") -> str:
        """The Jinja template giving this value's Luigi string for the run.

        ``source`` is the binding's source; ``root_unit`` the root parameter's
        unit, to which the run's anchor is truncated first (a month root run
        on the 15th still means "the month", so its month-end child stays put).
        """
        if self.kind == "interval" and self.interval_class == "Custom":
            return _point_template(source, "day", self.offset, "%Y-%m-%d", root_unit) + "-" + _point_template(
                source, "day", self.end_offset or 0, "%Y-%m-%d", root_unit
            )
        fmt = {"week": "%G-W%V", "month": "%Y-%m", "year": "%Y"}.get(self.unit, self.fmt) if self.kind == "interval" else self.fmt
        return _point_template(source, self.unit, self.offset, fmt, root_unit)

    def label(self, source: str) -> str:
        """Short stable text for Airflow task ids (``ds-1``, ``ds+3h``)."""
        if self.kind == "interval" and self.interval_class == "Custom":
            return f"{source}{self.offset:+d}_{self.end_offset:+d}"
        return source + (f"{self.offset:+d}{_LABEL[self.unit]}" if self.offset else "")


_TRUNCATE = {
    "second": ".replace(microsecond=0)",
    "minute": ".replace(second=0, microsecond=0)",
    "hour": ".replace(minute=0, second=0, microsecond=0)",
    "day": ".replace(hour=0, minute=0, second=0, microsecond=0)",
    "month": ".replace(day=1, hour=0, minute=0, second=0, microsecond=0)",
    "year": ".replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)",
}


def _truncated_anchor(source: str, root_unit: str) -> str:
    anchor = DATETIME_SOURCES[source]
    if root_unit == "week":
        return f"({anchor} - macros.timedelta(days={anchor}.weekday())){_TRUNCATE['day']}"
    return anchor + _TRUNCATE[root_unit]


def _point_template(source: str, unit: str, offset: int, fmt: str, root_unit: str = "day") -> str:
    coarser_root = UNITS.index(root_unit) > UNITS.index(unit)
    if unit == "day" and fmt == "%Y-%m-%d" and not coarser_root:
        # The historical form: {{ ds }} / {{ macros.ds_add(ds, -1) }}.
        base = SOURCES[source]
        return "{{ " + base + " }}" if offset == 0 else "{{ macros.ds_add(" + base + ", " + str(offset) + ") }}"
    # Finer than the root: start from the anchor truncated to the root's unit.
    anchor = _truncated_anchor(source, root_unit) if coarser_root else DATETIME_SOURCES[source]
    if unit in _FIXED_UNITS:
        seconds = int((offset * _FIXED_UNITS[unit]).total_seconds())
        moment = anchor if offset == 0 else f"({anchor} + macros.timedelta(seconds={seconds}))"
        return "{{ " + moment + ".strftime('" + fmt + "') }}"
    if unit == "month":
        suffix = "-01" if fmt != "%Y-%m" else ""
        if offset == 0:
            return "{{ " + anchor + ".strftime('%Y-%m" + suffix + "') }}"
        # Plain Jinja arithmetic: no date library needed in the template.
        index = f"({anchor}.month {'+' if offset - 1 >= 0 else '-'} {abs(offset - 1)})"
        return "{{ '%04d-%02d" + suffix + "' | format(" + f"{anchor}.year + {index} // 12, {index} % 12 + 1) }}}}"
    if offset == 0:
        return "{{ " + anchor + ".strftime('%Y" + ("-01-01" if fmt != "%Y" else "") + "') }}"
    return "{{ '%04d" + ("-01-01" if fmt != "%Y" else "") + "' | format(" + f"{anchor}.year + {offset}) }}}}"


def relative_date(param: luigi.Parameter, value: Any, anchor: dt.datetime) -> RelativeDate | None:
    """``value`` of ``param`` expressed relative to ``anchor``, or None if it isn't date-like."""
    from luigi import date_interval as di

    unit = param_unit(param)
    if unit is not None and isinstance(value, dt.date):
        start = truncate(anchor, unit)
        offset = distance(start, truncate(as_datetime(value), unit), unit)
        if offset is None:
            return None
        fmt = getattr(param, "date_format", None) or "%Y-%m-%d"
        return RelativeDate("point", unit, offset, fmt=fmt)
    if isinstance(value, di.DateInterval):
        if isinstance(value, di.Custom):
            day = truncate(anchor, "day")
            return RelativeDate(
                "interval", "day", distance(day, as_datetime(value.date_a), "day") or 0,
                end_offset=distance(day, as_datetime(value.date_b), "day") or 0, interval_class="Custom",
            )  # fmt: skip
        iunit = interval_unit(value)
        if iunit is None:
            return None
        offset = distance(truncate(anchor, iunit), as_datetime(value.date_a), iunit)
        return None if offset is None else RelativeDate("interval", iunit, offset, interval_class=type(value).__name__)
    return None


# --- the root's binding --------------------------------------------------


def _is_bindable(param: luigi.Parameter) -> bool:
    import luigi

    return param_unit(param) is not None or isinstance(param, luigi.DateIntervalParameter)


def default_bindings(root: luigi.Task) -> dict[str, str]:
    """A root with exactly one date-like parameter binds it to ``ds`` (documented default)."""
    dates = [name for name, p in root.get_params() if _is_bindable(p) and root.param_kwargs.get(name) is not None]
    return {dates[0]: "ds"} if len(dates) == 1 else {}


@dataclass(frozen=True)
class RootBinding:
    """The root parameter that follows the run date, and the run's anchor at export time."""

    name: str
    source: str
    anchor: dt.datetime  # the run date the exported root corresponds to
    step_unit: str  # one run period: the root parameter's unit
    step_size: int  # units per run period (Custom intervals: their length in days)

    def anchor_at(self, steps: int) -> dt.datetime:
        """The anchor ``steps`` run periods after the export's."""
        return shift(self.anchor, steps * self.step_size, self.step_unit)


def root_binding(root: luigi.Task, bindings: dict[str, str]) -> RootBinding | None:
    """Validate ``bindings`` against the root; None when nothing is bound."""
    if not bindings:
        return None
    if len(bindings) > 1:
        raise UserError(
            f"--bind {' '.join(f'{k}={v}' for k, v in bindings.items())}: bind one root parameter; "
            "derive the others from it in the task (e.g. a property), so every run has one date"
        )
    params = dict(root.get_params())
    ((name, binding),) = bindings.items()
    source, offset = split_binding(binding)
    if name not in params:
        raise UserError(
            f"--bind {name}={binding}: {root.get_task_family()} has no parameter {name!r}; "
            f"its parameters are {', '.join(params) or 'none'}"
        )
    value = root.param_kwargs[name]
    if not _is_bindable(params[name]) or value is None:
        raise UserError(
            f"--bind {name}={binding}: parameter {name!r} is not a date, hour, minute, month, year or "
            "date-interval parameter with a value; only those can follow the run date"
        )
    # The root's value is the anchor shifted by ``offset`` root units: undo that.
    here = relative_date(params[name], value, as_datetime(getattr(value, "date_a", value)))
    assert here is not None
    if here.kind == "interval" and here.interval_class == "Custom":
        size = here.end_offset or 1
        return RootBinding(name, source, shift(as_datetime(value.date_a), -offset * size, "day"), "day", size)
    start = as_datetime(value.date_a) if here.kind == "interval" else as_datetime(value)
    return RootBinding(name, source, shift(truncate(start, here.unit), -offset, here.unit), here.unit, 1)
