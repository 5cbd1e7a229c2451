"""Run-date bindings: which root parameter follows the Airflow run's date, and how (``--bind``).

The grammar, one definition for export and crontab migration::

    BINDING  = SOURCE { SHIFT } [ "@" ZONE ] [ ":" FORMAT ]
    SOURCE   = ds | logical_date            the run's logical date (in UTC)
             | ds_local | logical_date_local   ... in the DAG's time zone
             | data_interval_start | data_interval_end
    SHIFT    = ("+" | "-") N [ UNIT ]
    UNIT     = s | min | h                  elapsed time, added to the instant
             | d | w | mo | y               calendar time, added to the wall-clock date
    ZONE     = an IANA time zone (Europe/Berlin): whose wall clock gives the date (cron's TZ=)
    FORMAT   = strftime directives (%Y %m %d %H %M %S %j %G %V %u %F ...), for string parameters

A shift with a unit moves the moment *before* it is truncated to the
parameter's resolution (``month=ds-1d``: the month containing yesterday, as
``$(date -d yesterday +%Y-%m)``); a shift without a unit counts whole
periods of the parameter *after* truncation (``month=ds-1``: the previous
month). Elapsed and calendar shifts can't be mixed in one binding. Months
and years count as GNU ``date`` does (March 31 minus ``1mo`` is March 3).

The parsed binding becomes data in the spec (a :class:`~luigi_fargate.spec.dates.RunDate`
and the root parameter's :class:`~luigi_fargate.spec.dates.DateRule`).
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from luigi_fargate.errors import UserError
from luigi_fargate.introspect import date_formats, date_math
from luigi_fargate.introspect.rules import rule_value
from luigi_fargate.spec.dates import DateRule, DateUnit, RunDate, RunSource, Shift

if TYPE_CHECKING:
    import luigi

#: Source word -> (instant, in the DAG's zone?).
SOURCES: dict[str, tuple[RunSource, bool]] = {
    "ds": (RunSource.LOGICAL_DATE, False),
    "logical_date": (RunSource.LOGICAL_DATE, False),
    "ds_local": (RunSource.LOGICAL_DATE, True),
    "logical_date_local": (RunSource.LOGICAL_DATE, True),
    "data_interval_start": (RunSource.DATA_INTERVAL_START, False),
    "data_interval_end": (RunSource.DATA_INTERVAL_END, False),
}
#: Unit word in a shift -> unit.
UNITS: dict[str, DateUnit] = {
    "s": DateUnit.SECOND, "min": DateUnit.MINUTE, "h": DateUnit.HOUR, "d": DateUnit.DAY,
    "w": DateUnit.WEEK, "mo": DateUnit.MONTH, "y": DateUnit.YEAR,
}  # fmt: skip
UNIT_WORDS = {u: w for w, u in UNITS.items()}
#: Bounds on shift amounts: beyond them a binding is a typo, and datetime would overflow.
MAX_AMOUNT = 9999

_SYNTAX = re.compile(r"^(?P<source>[a-z_]+)(?P<terms>(?:[+-]\d+[a-z]*)*)(?:@(?P<zone>[^:]+))?(?::(?P<format>.*))?$", re.S)
_TERM = re.compile(r"([+-]\d+)([a-z]*)")
EXAMPLES = "e.g. --bind date=ds, date=ds-1 (yesterday), month=ds-1d (the month containing yesterday), report=ds:%m/%d/%Y"


@dataclass(frozen=True)
class Binding:
    """A parsed binding (see the module docstring)."""

    text: str
    source: RunSource
    local: bool  # the DAG's zone (ds_local)
    zone: str | None  # an explicit @ZONE
    shift: tuple[Shift, ...]
    offset: int  # whole periods of the parameter, after truncation
    format: str | None
    label: str  # the source word, for Airflow task ids (ds, ds_local, ...)

    def resolved_zone(self, dag_zone: str) -> str:
        return dag_zone if self.local else (self.zone or "UTC")


def _fail(text: str, why: str) -> UserError:
    return UserError(f"binding {text!r}: {why}")


def _terms(text: str, terms: str) -> tuple[tuple[Shift, ...], int]:
    shifts: list[Shift] = []
    offsets = []
    for amount, word in _TERM.findall(terms):
        n = int(amount)
        if abs(n) > MAX_AMOUNT:
            raise _fail(text, f"shift {amount}{word} is out of range (at most {MAX_AMOUNT})")
        if not word:
            offsets.append(n)
        elif word in UNITS:
            shifts.append(Shift(n, UNITS[word]))
        else:
            raise _fail(text, f"unknown unit {word!r} in {amount}{word}; units are {', '.join(UNITS)} (none: the parameter's own period)")
    if len(offsets) > 1:
        raise _fail(text, "give at most one shift without a unit (whole periods of the parameter)")
    if {s.unit.elapsed for s in shifts} == {True, False}:
        raise _fail(text, "don't mix elapsed (s, min, h) and calendar (d, w, mo, y) shifts in one binding")
    return tuple(shifts), offsets[0] if offsets else 0


def _zone(text: str, zone: str | None, local: bool) -> str | None:
    if zone is None:
        return None
    if local:
        raise _fail(text, "a *_local source already means the DAG's time zone; use ds@ZONE for another zone")
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _fail(text, f"unknown time zone {zone!r}; use an IANA name such as Europe/Berlin") from None
    return zone


def parse_binding(text: str) -> Binding:
    """``ds-1d@Europe/Berlin:%Y-%m`` -> Binding; UserError (one line, exit 2) names what is wrong."""
    m = _SYNTAX.match(text)
    if not m:
        raise _fail(text, f"expected SOURCE[+N|-N[UNIT]...][@ZONE][:FORMAT] ({EXAMPLES})")
    if m["source"] not in SOURCES:
        raise _fail(text, f"unknown source {m['source']!r}; sources are {', '.join(SOURCES)}")
    source, local = SOURCES[m["source"]]
    shifts, offset = _terms(text, m["terms"])
    fmt = m["format"]
    if fmt is not None:
        try:
            fmt, _ = date_formats.check(fmt)
        except date_formats.FormatError as exc:
            raise _fail(text, str(exc)) from None
    return Binding(text, source, local, _zone(text, m["zone"], local), shifts, offset, fmt, m["source"])


def binding_text(source: str, shift: tuple[Shift, ...] = (), offset: int = 0, zone: str | None = None, fmt: str | None = None) -> str:
    """The binding string for these parts (the inverse of :func:`parse_binding`)."""
    out = source + "".join(f"{s.amount:+d}{UNIT_WORDS[s.unit]}" for s in shift)
    if offset:
        out += f"{offset:+d}"
    if zone:
        out += "@" + zone
    if fmt is not None:
        out += ":" + fmt
    return out


def parse_bindings(values: list[str]) -> dict[str, str]:
    """``--bind`` values (``PARAM=BINDING``) -> {param: binding}, each binding checked."""
    out: dict[str, str] = {}
    for item in values:
        name, sep, binding = item.partition("=")
        if not sep or not name:
            raise UserError(f"--bind {item!r}: expected PARAM=SOURCE ({EXAMPLES})")
        try:
            parse_binding(binding)
        except UserError as exc:
            raise UserError(f"--bind {item}: {exc.message.split(': ', 1)[1]}") from None
        out[name.replace("-", "_")] = binding
    return out


# --- date-like parameters ------------------------------------------------------


def param_unit(param: luigi.Parameter) -> DateUnit | None:
    """The resolution of a Luigi date-like parameter, or None for other parameters."""
    import luigi

    for cls, unit in (
        (luigi.MonthParameter, DateUnit.MONTH),
        (luigi.YearParameter, DateUnit.YEAR),
        (luigi.DateSecondParameter, DateUnit.SECOND),
        (luigi.DateMinuteParameter, DateUnit.MINUTE),
        (luigi.DateHourParameter, DateUnit.HOUR),
        (luigi.DateParameter, DateUnit.DAY),
    ):
        if isinstance(param, cls):
            return unit
    return None


#: luigi.date_interval class name -> (unit, how Luigi writes it).
INTERVALS: dict[str, tuple[DateUnit, str]] = {
    "Date": (DateUnit.DAY, "%Y-%m-%d"),
    "Week": (DateUnit.WEEK, "%G-W%V"),
    "Month": (DateUnit.MONTH, "%Y-%m"),
    "Year": (DateUnit.YEAR, "%Y"),
}


def is_date_interval(param: luigi.Parameter) -> bool:
    import luigi

    return isinstance(param, luigi.DateIntervalParameter)


def is_bindable(param: luigi.Parameter) -> bool:
    """Date-like parameters follow the run date with a bare ``--bind name=ds``."""
    return param_unit(param) is not None or is_date_interval(param)


def default_bindings(root: luigi.Task) -> dict[str, str]:
    """A root with exactly one date-like parameter binds it to ``ds`` (documented default)."""
    dates = [name for name, p in root.get_params() if is_bindable(p) and root.param_kwargs.get(name) is not None]
    return {dates[0]: "ds"} if len(dates) == 1 else {}


# --- the root's binding --------------------------------------------------------


@dataclass(frozen=True)
class RootBinding:
    """The root parameter that follows the run date, its rule, and the anchor of the export's root."""

    name: str
    binding: Binding
    run: RunDate
    rule: DateRule  # the root parameter's own rule
    anchor: dt.datetime  # the run anchor the exported root corresponds to

    @property
    def label(self) -> str:
        return self.binding.label

    def anchor_at(self, periods: int) -> dt.datetime:
        """The anchor ``periods`` run periods after the export's."""
        return date_math.add(self.anchor, periods * self.run.step, self.run.unit)

    def root_value(self, anchor: dt.datetime) -> str:
        return rule_value(self.rule, anchor)


@dataclass(frozen=True)
class _Resolved:
    unit: DateUnit
    fmt: str
    start: dt.datetime  # the export value's moment (an interval's start)
    step: int = 1
    length: int | None = None  # a custom interval's length in days


def _string_format_hint(name: str, serialized: str) -> str:
    guesses = date_formats.matching_formats(serialized)
    if guesses:
        shown = " or ".join(f"--bind {name}=ds:{g}" for g in guesses)
        return f"{shown} (its value {serialized!r} reads that way)"
    return f"--bind {name}=ds:FORMAT with the strftime format of its value {serialized!r} (e.g. %Y-%m-%d)"


def _resolve_param(text: str, name: str, param: luigi.Parameter, value: Any, b: Binding) -> _Resolved:
    from luigi import date_interval as di

    unit = param_unit(param)
    if unit is not None or is_date_interval(param):
        if b.format is not None:
            raise _fail(text, f"{name!r} is a Luigi date parameter written the way Luigi writes it; drop :{b.format}")
    if unit is not None:
        return _Resolved(unit, getattr(param, "date_format", None) or "%Y-%m-%d", date_math.as_datetime(value))
    if isinstance(value, di.Custom):
        days = (value.date_b - value.date_a).days
        return _Resolved(DateUnit.DAY, "%Y-%m-%d", date_math.as_datetime(value.date_a), step=days, length=days)
    if isinstance(value, di.DateInterval):
        unit_fmt = INTERVALS.get(type(value).__name__)
        if unit_fmt is None:
            raise _fail(text, f"{name!r} holds a {type(value).__name__} interval, which can't follow a run date")
        return _Resolved(unit_fmt[0], unit_fmt[1], date_math.as_datetime(value.date_a))
    serialized = param.serialize(value)
    if b.format is None:
        raise UserError(
            f"--bind {name}={text}: parameter {name!r} is not a Luigi date parameter; say how its value is written: "
            + _string_format_hint(name, serialized)
        )
    try:
        start = date_formats.parse(serialized, b.format)
        if start.strftime(b.format) != serialized:
            raise ValueError
    except ValueError:
        raise UserError(
            f"--bind {name}={text}: the root's value {serialized!r} is not written as {b.format}; "
            f"give the root's value in that format, or use " + _string_format_hint(name, serialized)
        ) from None
    return _Resolved(date_formats.resolution(b.format), b.format, start)


def resolve(b: Binding, unit: DateUnit, fmt: str, dag_zone: str, step: int = 1, length: int | None = None) -> tuple[RunDate, DateRule]:
    """The spec's data for binding ``b`` of a parameter of resolution ``unit`` written as ``fmt``: (run date, its rule)."""
    offset = b.offset * step
    run = RunDate(unit, b.source, b.resolved_zone(dag_zone), list(b.shift), step)
    return run, DateRule(unit, offset, fmt, None if length is None else offset + length)


def root_binding(root: luigi.Task, bindings: dict[str, str], dag_zone: str = "UTC") -> RootBinding | None:
    """Check ``bindings`` against the root and resolve them; None when nothing is bound."""
    if not bindings:
        return None
    if len(bindings) > 1:
        raise UserError(
            f"--bind {' '.join(f'{k}={v}' for k, v in bindings.items())}: bind one root parameter; "
            "derive the others from it in the task (e.g. a property), so every run has one date"
        )
    ((name, text),) = bindings.items()
    b = parse_binding(text)
    params = dict(root.get_params())
    if name not in params:
        raise UserError(f"--bind {name}={text}: {root.get_task_family()} has no parameter {name!r}; its parameters are {', '.join(params) or 'none'}")
    value = root.param_kwargs[name]
    if value is None:
        raise UserError(f"--bind {name}={text}: parameter {name!r} has no value; give the root's value for the export date")
    r = _resolve_param(text, name, params[name], value, b)
    run, rule = resolve(b, r.unit, r.fmt, dag_zone, r.step, r.length)
    anchor = date_math.add(date_math.truncate(r.start, r.unit), -rule.offset, r.unit)
    return RootBinding(name, b, run, rule, anchor)


# --- for crontab migration ------------------------------------------------------


class BindingRefused(ValueError):
    """A date expression no binding reproduces; the message says why."""


@dataclass(frozen=True)
class DateExpression:
    """What a shell ``date`` call in a crontab line computes, as data.

    ``date -d yesterday +%Y-%m`` run with ``TZ=Europe/Berlin`` is
    ``DateExpression("Europe/Berlin", "%Y-%m", (Shift(-1, DateUnit.DAY),))``;
    ``-u`` is zone ``UTC``; ``-d '2 hours ago'`` is ``Shift(-2, DateUnit.HOUR)``.
    """

    zone: str
    format: str
    shift: tuple[Shift, ...] = ()
    #: The instant cron fired at: a CronTriggerTimetable run's logical date.
    source: RunSource = RunSource.LOGICAL_DATE


_SOURCE_WORD = {RunSource.LOGICAL_DATE: "ds", RunSource.DATA_INTERVAL_START: "data_interval_start",
                RunSource.DATA_INTERVAL_END: "data_interval_end"}  # fmt: skip


def _luigi_reads(param: luigi.Parameter, fmt: str) -> str | None:
    """Why Luigi can't take ``fmt``'s text for ``param`` without a format in the binding, or None."""
    unit = param_unit(param)
    if unit is not None:
        own = getattr(param, "date_format", None) or "%Y-%m-%d"
        return None if fmt == own else f"{type(param).__name__} reads {own}, the value is written as {fmt}"
    if is_date_interval(param):
        if fmt in {f for _, f in INTERVALS.values()}:
            return None
        return f"a DateIntervalParameter reads %Y-%m-%d, %G-W%V, %Y-%m or %Y, the value is written as {fmt}"
    return None


def expression_rule(expr: DateExpression, read_back: bool = True) -> tuple[RunDate, DateRule]:
    """The run date and rule computing ``expr``'s text (BindingRefused if no rule does).

    ``rules.rule_value(rule, rules.run_anchor(run, instant))`` is what the
    shell printed at ``instant``; ``rules.param_template(rule, run, dag_zone)``
    the Jinja template Airflow renders to it: for a value that can't be a
    binding (two date expressions in one argument), as one template per piece.
    ``read_back=False``: the text is only written (a template), so the format
    needn't name a whole date (``%j``, ``%d-%H``).
    """
    try:
        fmt, unit = date_formats.check(expr.format, read_back)
    except date_formats.FormatError as exc:
        raise BindingRefused(str(exc)) from None
    if {s.unit.elapsed for s in expr.shift} == {True, False}:
        raise BindingRefused("it mixes elapsed (hours) and calendar (days) shifts")
    if not read_back:  # text only written: strftime of the shifted wall clock as is, as `date` prints it
        unit = DateUnit.SECOND  # (truncating %Y-W%V to its week's Monday could change its %Y)
    return RunDate(unit, expr.source, expr.zone, list(expr.shift)), DateRule(unit, 0, fmt)


def expression_template(expr: DateExpression, dag_zone: str) -> str:
    """The Jinja template giving ``expr``'s text for the run being rendered (see :func:`expression_rule`)."""
    from luigi_fargate.introspect.rules import param_template

    run, rule = expression_rule(expr, read_back=False)
    return param_template(rule, run, dag_zone)


def expression_value(expr: DateExpression, instant: dt.datetime) -> str:
    """What ``expr`` prints at ``instant``: the value :func:`expression_template` renders for that run."""
    from luigi_fargate.introspect.rules import rule_value, run_anchor

    run, rule = expression_rule(expr, read_back=False)
    return rule_value(rule, run_anchor(run, instant))


def expression_binding(expr: DateExpression, dag_zone: str, with_format: bool = False) -> str:
    """The binding text computing ``expr`` in a DAG scheduled in ``dag_zone`` (BindingRefused if none does).

    Without the format it is what a Luigi date or interval parameter takes
    (Luigi writes the value); :func:`binding_for` decides which one a parameter gets.
    """
    fmt = expression_rule(expr)[1].format
    word = _SOURCE_WORD[expr.source]
    zone: str | None = None
    if expr.zone == dag_zone and expr.source == RunSource.LOGICAL_DATE and expr.zone != "UTC":
        word = "ds_local"
    elif expr.zone != "UTC":
        zone = expr.zone
    return binding_text(word, expr.shift, 0, zone, fmt if with_format else None)


def binding_for(param: luigi.Parameter, expr: DateExpression, dag_zone: str) -> str:
    """The ``--bind`` value making ``param`` follow the run as ``expr`` did, or BindingRefused with the reason.

    ``dag_zone`` is the DAG's schedule zone (cron's CRON_TZ): an expression in
    that zone binds to ``ds_local``, one in UTC to ``ds``, others to ``ds@ZONE``.
    Literal text around the date belongs in the format
    (``--stamp month-end-$(date +%F)`` is format ``month-end-%F``).
    """
    fmt = expression_rule(expr)[1].format
    reason = _luigi_reads(param, fmt)
    if reason:
        raise BindingRefused(reason)
    typed = is_bindable(param)
    text = expression_binding(expr, dag_zone, with_format=not typed)
    if not typed:
        probe = date_formats.parse(dt.datetime(2026, 12, 31).strftime(fmt), fmt).strftime(fmt)
        try:
            param.parse(probe)
        except Exception as exc:  # noqa: BLE001 - the parameter rejects such values
            raise BindingRefused(f"{type(param).__name__} rejects values written as {fmt} ({exc})") from None
    try:
        parse_binding(text)
    except UserError as exc:
        raise BindingRefused(exc.message) from None
    return text
