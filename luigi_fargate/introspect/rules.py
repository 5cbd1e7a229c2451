"""Run-date rules (luigi_fargate/spec/dates.py), evaluated in Python and written as Jinja.

The two are written side by side, step for step, so they can't drift apart:

1. the run's instant: ``instant`` / ``(dag_run.logical_date or dag_run.run_after)``
   (``spec.dates.INSTANT_JINJA``, the one place that expression is written);
2. elapsed shift (h, min, s): ``+ timedelta`` / ``+ macros.timedelta(seconds=N)``;
3. wall clock in the zone: ``astimezone(ZoneInfo(zone))`` / ``.astimezone(dag.timezone)``
   or ``macros.dateutil.tz.gettz(zone)``;
4. calendar shift: days and weeks ``+ timedelta(days=N)``; months and years
   :func:`date_math.add` (GNU ``date``'s rule) / ``macros.datetime(...) + macros.timedelta(...)``;
5. truncation to a unit: :func:`date_math.truncate` / ``.replace(...)``;
6. the rule's offset in its unit, then ``strftime`` of the rule's format.

tests/semantics/test_rule_templates.py renders every kind of template with
Airflow's own Jinja environment and compares it with :func:`rule_value`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from luigi_fargate.introspect import date_math
from luigi_fargate.spec.dates import DS_JINJA, INSTANT_JINJA, DateRule, DateUnit, RunDate, RunSource, Shift

#: Suffix of a unit in Airflow task id labels (days keep the historical bare form: ds-1).
_LABEL = {
    DateUnit.SECOND: "s", DateUnit.MINUTE: "min", DateUnit.HOUR: "h", DateUnit.DAY: "",
    DateUnit.WEEK: "w", DateUnit.MONTH: "mo", DateUnit.YEAR: "y",
}  # fmt: skip

_TRUNCATE_JINJA = {
    DateUnit.SECOND: ".replace(microsecond=0)",
    DateUnit.MINUTE: ".replace(second=0, microsecond=0)",
    DateUnit.HOUR: ".replace(minute=0, second=0, microsecond=0)",
    DateUnit.DAY: ".replace(hour=0, minute=0, second=0, microsecond=0)",
    DateUnit.MONTH: ".replace(day=1, hour=0, minute=0, second=0, microsecond=0)",
    DateUnit.YEAR: ".replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)",
}


# --- Python -----------------------------------------------------------------


def _elapsed_seconds(shifts: Iterable[Shift]) -> int:
    return sum(int(s.amount * date_math.fixed_length(s.unit).total_seconds()) for s in shifts if s.unit.elapsed)  # type: ignore[union-attr]


def _calendar_parts(shifts: Iterable[Shift]) -> tuple[int, int]:
    """(months, days) of the calendar shifts: years count 12 months, weeks 7 days."""
    months = days = 0
    for s in shifts:
        if s.unit == DateUnit.YEAR:
            months += 12 * s.amount
        elif s.unit == DateUnit.MONTH:
            months += s.amount
        elif s.unit == DateUnit.WEEK:
            days += 7 * s.amount
        elif s.unit == DateUnit.DAY:
            days += s.amount
    return months, days


def wall_clock(run: RunDate, instant: dt.datetime) -> dt.datetime:
    """The run's wall clock in its zone, shifted: the anchor before truncation (naive)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.UTC)
    moment = instant.astimezone(dt.UTC) + dt.timedelta(seconds=_elapsed_seconds(run.shift))
    wall = moment.astimezone(zoneinfo.ZoneInfo(run.zone)).replace(tzinfo=None)
    months, days = _calendar_parts(run.shift)
    if months:
        wall = date_math.add(wall, months, DateUnit.MONTH)
    return wall + dt.timedelta(days=days)


def run_anchor(run: RunDate, instant: dt.datetime) -> dt.datetime:
    """The anchor of the run at ``instant`` (aware; naive means UTC): what every rule counts from."""
    return date_math.truncate(wall_clock(run, instant), run.unit)


def rule_moment(rule: DateRule, anchor: dt.datetime) -> dt.datetime:
    """The moment a rule gives for ``anchor`` (a custom interval: its start)."""
    return date_math.add(date_math.truncate(anchor, rule.unit), rule.offset, rule.unit)


def rule_value(rule: DateRule, anchor: dt.datetime) -> str:
    """The parameter's value (Luigi's string) for the run whose anchor is ``anchor``."""
    start = rule_moment(rule, anchor).strftime(rule.format)
    if rule.end_offset is None:
        return start
    end = date_math.add(date_math.truncate(anchor, DateUnit.DAY), rule.end_offset, DateUnit.DAY)
    return f"{start}-{end.strftime(rule.format)}"


# --- Jinja ------------------------------------------------------------------


def truncate_jinja(expr: str, unit: DateUnit) -> str:
    """``expr`` (a datetime expression) floored to ``unit`` (weeks start on Monday)."""
    if unit == DateUnit.WEEK:
        return f"({expr} - macros.timedelta(days={expr}.weekday())){_TRUNCATE_JINJA[DateUnit.DAY]}"
    return expr + _TRUNCATE_JINJA[unit]


def zoned_jinja(expr: str, zone: str, dag_zone: str) -> str:
    """The naive wall clock of the instant ``expr`` in ``zone`` (``dag.timezone`` when it is the DAG's)."""
    if zone == "UTC":
        tz = "macros.dateutil.tz.UTC"
    elif zone == dag_zone:
        tz = "dag.timezone"
    else:
        tz = f"macros.dateutil.tz.gettz('{zone}')"
    return f"{expr}.astimezone({tz}).replace(tzinfo=None)"


def _months_jinja(expr: str, months: int) -> str:
    """``expr`` moved by ``months``, GNU style (the day counts on from the shifted month's first)."""
    i = f"({expr}.month - 1 + {months})" if months >= 0 else f"({expr}.month - 1 - {-months})"
    first = f"macros.datetime({expr}.year + {i} // 12, {i} % 12 + 1, 1, {expr}.hour, {expr}.minute, {expr}.second)"
    return f"({first} + macros.timedelta(days={expr}.day - 1))"


def _add_jinja(expr: str, amount: int, unit: DateUnit) -> str:
    """``expr`` plus ``amount`` units; ``expr`` is truncated to ``unit`` (months: the 1st at midnight)."""
    if amount == 0:
        return expr
    step = date_math.fixed_length(unit)
    if step is not None:
        days, seconds = divmod(int((amount * step).total_seconds()), 86400)
        delta = f"days={days}" if not seconds else f"seconds={days * 86400 + seconds}"
        return f"({expr} + macros.timedelta({delta}))"
    months = amount * (12 if unit == DateUnit.YEAR else 1)
    return _months_jinja(expr, months)


def anchor_statements(run: RunDate, dag_zone: str, name: str = "lf_anchor") -> str:
    """Jinja ``{% set %}`` statements binding ``name`` to :func:`run_anchor` of the run being rendered."""
    expr = INSTANT_JINJA[run.source]
    seconds = _elapsed_seconds(run.shift)
    if seconds:
        expr = f"({expr} + macros.timedelta(seconds={seconds}))"
    out = "{% set lf_wall = " + zoned_jinja(expr, run.zone, dag_zone) + " %}"
    expr = "lf_wall"
    months, days = _calendar_parts(run.shift)
    if months:
        expr = _months_jinja(expr, months)
    if days:
        expr = f"({expr} + macros.timedelta(days={days}))"
    if expr != "lf_wall" and run.unit == DateUnit.WEEK:  # the week's start needs the shifted moment twice
        out += "{% set lf_wall = " + expr + " %}"
        expr = "lf_wall"
    return out + "{% set " + name + " = " + truncate_jinja(expr, run.unit) + " %}"


def _truncation_is_noop(rule_unit: DateUnit, anchor_unit: DateUnit) -> bool:
    """An anchor already truncated to ``anchor_unit`` is also truncated to ``rule_unit``."""
    if rule_unit == DateUnit.WEEK:
        return anchor_unit == DateUnit.WEEK
    return rule_unit.rank <= anchor_unit.rank


def _moment_jinja(anchor: str, rule_unit: DateUnit, offset: int, anchor_unit: DateUnit) -> str:
    base = anchor if _truncation_is_noop(rule_unit, anchor_unit) else truncate_jinja(anchor, rule_unit)
    return _add_jinja(base, offset, rule_unit)


def _is_plain_ds(rule: DateRule, run: RunDate) -> bool:
    """The common case with Airflow's own ``ds``: a day, in UTC, from the logical date."""
    return (
        run.unit == DateUnit.DAY and run.source == RunSource.LOGICAL_DATE and run.zone == "UTC" and not run.shift
        and rule.unit == DateUnit.DAY and rule.format == "%Y-%m-%d" and rule.end_offset is None
    )  # fmt: skip


def param_template(rule: DateRule, run: RunDate, dag_zone: str) -> str:
    """The Jinja template giving :func:`rule_value` for the run being rendered.

    The common daily case keeps Airflow's idiom (``ds`` and ``macros.ds_add``),
    spelled so that a run without a logical date renders too (``spec.dates.DS_JINJA``:
    the bare ``{{ ds }}`` is undefined there); everything else computes the anchor with
    :func:`anchor_statements`, bound once with ``{% set %}``.
    """
    if _is_plain_ds(rule, run):
        if rule.offset == 0:
            return "{{ " + DS_JINJA + " }}"
        return "{{ macros.ds_add(" + DS_JINJA + ", " + str(rule.offset) + ") }}"
    start = _moment_jinja("lf_anchor", rule.unit, rule.offset, run.unit)
    out = anchor_statements(run, dag_zone) + "{{ " + start + f".strftime('{rule.format}') }}}}"
    if rule.end_offset is not None:
        end = _moment_jinja("lf_anchor", DateUnit.DAY, rule.end_offset, run.unit)
        out += "-{{ " + end + f".strftime('{rule.format}') }}}}"
    return out


# --- names ------------------------------------------------------------------


def _signed(amount: int, unit: DateUnit) -> str:
    """``-1``, ``_plus3h``: an offset in an Airflow id (``+`` is not allowed there, ``_3`` reads as a suffix)."""
    if amount == 0:
        return ""
    return (f"-{-amount}" if amount < 0 else f"_plus{amount}") + _LABEL[unit]


def rule_label(rule: DateRule, source_label: str) -> str:
    """Short stable text naming a rule in Airflow task ids: ``ds``, ``ds-1``, ``ds_plus28``, ``ds-1mo``."""
    label = source_label + _signed(rule.offset, rule.unit)
    if rule.end_offset is not None:
        label += "_to_" + source_label + _signed(rule.end_offset, DateUnit.DAY)
    return label
