"""The run-date binding grammar (issue #13, item 5): every form against real GNU ``date`` and against Luigi.

A crontab line's ``$(TZ=... date -d yesterday +%Y-%m)`` is a date expression;
``binding_for`` (what crontab migration calls) turns it into a binding. For
each form (another zone, a calendar shift before truncation, an elapsed
shift, ISO weeks, strftime formats) the value the DAG computes, rendered by
Airflow's Jinja and evaluated in Python, must equal what ``/bin/sh`` with
GNU ``date`` prints at the same instant, DST changes and month ends
included; and ``verify`` must find Luigi's graph for the value on every run.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from luigi_fargate.introspect import date_formats
from luigi_fargate.introspect.bindings import (
    BindingRefused,
    DateExpression,
    binding_for,
    expression_template,
    parse_binding,
    resolve,
)
from luigi_fargate.introspect.rules import param_template, rule_value, run_anchor
from luigi_fargate.spec.dates import DateUnit, Shift
from tests.conftest import luigi_fargate
from tests.semantics.test_rule_templates import render

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))

UTC = dt.UTC
#: Instants around what breaks date code: DST changes (Berlin, New York), month ends, a leap day, a year end.
INSTANTS = [
    dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    dt.datetime(2026, 3, 8, 6, 30, tzinfo=UTC), dt.datetime(2026, 10, 25, 0, 15, tzinfo=UTC),
    dt.datetime(2026, 10, 25, 1, 45, tzinfo=UTC), dt.datetime(2026, 3, 31, 22, 0, tzinfo=UTC),
    dt.datetime(2026, 5, 31, 23, 30, tzinfo=UTC), dt.datetime(2028, 2, 29, 23, 0, tzinfo=UTC),
    dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC), dt.datetime(2027, 1, 1, 0, 30, tzinfo=UTC),
    dt.datetime(2027, 1, 3, 23, 59, tzinfo=UTC), dt.datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
    dt.datetime(2026, 3, 31, 10, 0, tzinfo=UTC), dt.datetime(2026, 7, 31, 10, 0, tzinfo=UTC),  # "1 month ago" overflows
]  # fmt: skip
GNU_UNIT = {DateUnit.DAY: "day", DateUnit.WEEK: "week", DateUnit.MONTH: "month", DateUnit.YEAR: "year",
            DateUnit.HOUR: "hour", DateUnit.MINUTE: "minute", DateUnit.SECOND: "second"}  # fmt: skip


def gnu_date(expr: DateExpression, instant: dt.datetime) -> str:
    """What ``TZ=zone date -d '<instant> <shifts>' +FORMAT`` prints in /bin/sh (real GNU coreutils)."""
    rel = " ".join(f"{s.amount} {GNU_UNIT[s.unit]}" for s in expr.shift)
    script = f'date -d "$(date -d @{int(instant.timestamp())} "+%Y-%m-%d %H:%M:%S %z") {rel}" "+{expr.format}"'
    env = {"TZ": expr.zone, "PATH": "/usr/bin:/bin"}
    return subprocess.run(["/bin/sh", "-c", script], env=env, text=True, capture_output=True, check=True).stdout.strip()


class _StringParam:
    """A Luigi string parameter, as binding_for sees one."""

    def parse(self, value: str) -> str:
        return value


EXPRESSIONS = [
    pytest.param(DateExpression("UTC", "%F"), "UTC", "ds:%Y-%m-%d", id="date-u"),
    pytest.param(DateExpression("Europe/Berlin", "%Y%m%d", (Shift(-1, DateUnit.DAY),)), "Europe/Berlin", "ds_local-1d:%Y%m%d",
                 id="yesterday-in-the-dag-zone"),
    pytest.param(DateExpression("America/New_York", "%Y-%m", (Shift(-1, DateUnit.DAY),)), "Europe/Berlin",
                 "ds-1d@America/New_York:%Y-%m", id="month-containing-yesterday-other-zone"),
    pytest.param(DateExpression("Europe/Berlin", "%G-W%V", (Shift(-1, DateUnit.WEEK),)), "Europe/Berlin",
                 "ds_local-1w:%G-W%V", id="iso-week-of-last-week"),
    pytest.param(DateExpression("Europe/Berlin", "%Y-%m-%dT%H", (Shift(-2, DateUnit.HOUR),)), "UTC",
                 "ds-2h@Europe/Berlin:%Y-%m-%dT%H", id="two-hours-ago-across-dst"),
    pytest.param(DateExpression("Asia/Kolkata", "%Y-%m", (Shift(-1, DateUnit.MONTH),)), "UTC",
                 "ds-1mo@Asia/Kolkata:%Y-%m", id="one-month-ago-gnu-style"),
    pytest.param(DateExpression("UTC", "%m/%d/%Y %H:%M", (Shift(90, DateUnit.MINUTE),)), "UTC", "ds+90min:%m/%d/%Y %H:%M",
                 id="minutes-ahead"),
    pytest.param(DateExpression("Europe/Berlin", "month-end-%F"), "Europe/Berlin", "ds_local:month-end-%Y-%m-%d",
                 id="literal-text-around-the-date"),
]  # fmt: skip


@pytest.mark.parametrize(("expr", "dag_zone", "binding"), EXPRESSIONS)
def test_each_form_computes_what_gnu_date_prints(expr: DateExpression, dag_zone: str, binding: str) -> None:
    assert binding_for(_StringParam(), expr, dag_zone) == binding  # type: ignore[arg-type]
    b = parse_binding(binding)
    fmt, unit = date_formats.check(expr.format)
    run, rule = resolve(b, unit, fmt, dag_zone)
    template = param_template(rule, run, dag_zone)
    raw = expression_template(expr, dag_zone)  # what crontab migration writes for pieces that can't be bindings
    for instant in INSTANTS:
        expected = gnu_date(expr, instant)
        assert rule_value(rule, run_anchor(run, instant)) == expected, instant
        assert render(template, instant, dag_zone) == expected, instant
        assert render(raw, instant, dag_zone) == expected, instant


def test_luigi_date_parameters_bind_without_a_format() -> None:
    import luigi

    yesterday = (Shift(-1, DateUnit.DAY),)
    assert binding_for(luigi.DateParameter(), DateExpression("UTC", "%F", yesterday), "UTC") == "ds-1d"
    assert binding_for(luigi.MonthParameter(), DateExpression("Europe/Berlin", "%Y-%m", yesterday), "Europe/Berlin") == "ds_local-1d"
    assert binding_for(luigi.DateIntervalParameter(), DateExpression("UTC", "%G-W%V"), "Europe/Berlin") == "ds"
    assert binding_for(luigi.DateHourParameter(), DateExpression("UTC", "%Y-%m-%dT%H", (Shift(-2, DateUnit.HOUR),)), "UTC") == "ds-2h"


@pytest.mark.parametrize(
    ("param", "expr", "reason"),
    [
        ("date", DateExpression("UTC", "%Y%m%d"), "DateParameter reads %Y-%m-%d, the value is written as %Y%m%d"),
        ("string", DateExpression("UTC", "%a %d"), "%a is not supported"),
        ("string", DateExpression("UTC", "%m-%d"), "can't be read back"),
        ("string", DateExpression("UTC", "%F", (Shift(-1, DateUnit.DAY), Shift(2, DateUnit.HOUR))), "mixes elapsed"),
        ("int", DateExpression("UTC", "%Y-%m"), "IntParameter rejects values written as %Y-%m"),
    ],
)
def test_what_no_binding_reproduces_is_refused_with_the_reason(param: str, expr: DateExpression, reason: str) -> None:
    import luigi

    p = {"date": luigi.DateParameter(), "string": luigi.Parameter(), "int": luigi.IntParameter()}[param]
    with pytest.raises(BindingRefused, match=reason.replace("(", r"\(")):
        binding_for(p, expr, "UTC")


ROOTS = [
    pytest.param("sem_monthly", "MonthReport", ["--month", "2026-11"], "month=ds_local-1d", "Europe/Berlin", "0 2 * * *",
                 DateExpression("Europe/Berlin", "%Y-%m", (Shift(-1, DateUnit.DAY),)), id="month-containing-yesterday"),
    pytest.param("sem_interval", "WeekReport", ["--week", "2026-W45"], "week=ds@America/New_York", "UTC", "0 3 * * *",
                 DateExpression("America/New_York", "%G-W%V"), id="iso-week-in-new-york"),
    pytest.param("sem_strings", "StrReport", ["--report-date", "10/31/2026"], "report_date=ds-1d:%m/%d/%Y", "UTC", "30 0 * * *",
                 DateExpression("UTC", "%m/%d/%Y", (Shift(-1, DateUnit.DAY),)), id="string-of-yesterday"),
]  # fmt: skip


@pytest.mark.parametrize(("module", "family", "args", "bind", "zone", "cron", "expr"), ROOTS)
def test_bound_roots_run_luigis_graph_for_the_value_gnu_date_gives(module, family, args, bind, zone, cron, expr) -> None:
    from luigi_fargate.export.api import plan_export
    from luigi_fargate.export.builder import ExportOptions
    from luigi_fargate.introspect.bindings import parse_bindings
    from luigi_fargate.introspect.verify import run_instants, verify_dates

    options = ExportOptions(bindings=parse_bindings([bind]), schedule=cron, timezone=zone)
    spec = plan_export(module, family, args, options).spec
    runs = run_instants(spec, dt.date(2026, 12, 20), dt.date(2027, 4, 10))
    assert verify_dates(spec, runs) == []  # Luigi's graph for each run's value is what the DAG runs
    root = next(p for p in spec.graph.root_params if p.rule is not None)
    for instant in runs[::9]:
        assert rule_value(root.rule, run_anchor(spec.graph.run_date, instant)) == gnu_date(expr, instant), instant


@pytest.mark.parametrize(
    ("bind", "message"),
    [
        ("date=dx", "unknown source 'dx'; sources are ds, logical_date, ds_local"),
        ("date=ds-1x", "unknown unit 'x' in -1x; units are s, min, h, d, w, mo, y"),
        ("date=ds-1d+2h", "don't mix elapsed (s, min, h) and calendar (d, w, mo, y) shifts"),
        ("date=ds@Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("date=ds_local@Europe/Berlin", "a *_local source already means the DAG's time zone"),
        ("date=ds-1-2", "give at most one shift without a unit"),
        ("date=ds:%Y", "'date' is a Luigi date parameter written the way Luigi writes it; drop :%Y"),
        ("date=ds+99999d", "out of range"),
        ("date", "expected PARAM=SOURCE"),
    ],
)
def test_bad_bindings_are_one_line_errors(tmp_path: Path, bind: str, message: str) -> None:
    proc = luigi_fargate("export", "sem_daily.Daily", "--date", "2026-11-01", "--bind", bind, "--out", str(tmp_path))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr
    assert not list(tmp_path.iterdir())
