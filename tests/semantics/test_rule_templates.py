"""Every run-date template export generates renders, in Airflow's own Jinja, to what Python computes from the rule.

Airflow renders the templates; ``verify`` and the runner's graph check
evaluate the same rules in Python (luigi_fargate/introspect/rules.py). For
random instants, zones (with DST, half-hour and 45-minute offsets), shifts,
units, offsets and formats, the two must agree exactly.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from luigi_fargate.introspect import date_formats
from luigi_fargate.introspect.bindings import binding_text, parse_binding
from luigi_fargate.introspect.rules import param_template, rule_value, run_anchor
from luigi_fargate.spec.dates import DS_JINJA, INSTANT_JINJA, DateRule, DateUnit, RunDate, RunSource, Shift
from luigi_fargate.spec.versions import null_safe_template

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago"]
FORMATS = ["%Y-%m-%d", "%Y%m%d", "%m/%d/%Y", "%Y-%m-%dT%H", "%Y-%m-%dT%H%M%S", "%Y-%m", "%G-W%V", "%Y", "%Y-%j %H:%M", "%y%m%d"]
CALENDAR = [DateUnit.DAY, DateUnit.WEEK, DateUnit.MONTH, DateUnit.YEAR]
ELAPSED = [DateUnit.SECOND, DateUnit.MINUTE, DateUnit.HOUR]


@cache
def _dag(zone: str):
    from airflow.sdk import DAG

    return DAG(dag_id="render", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz=zone))


def render(template: str, instant: dt.datetime, dag_zone: str, logical: bool = True) -> str:
    """``template`` rendered the way a task instance renders its templated fields.

    ``logical=False``: a run without a logical date (``airflow dags trigger``, REST
    ``logical_date: null``), dated by its run_after: Airflow's task context then has no
    ``ds``, ``logical_date`` or ``data_interval_*`` (airflow/sdk/execution_time/task_runner.py),
    and the DAG's StrictUndefined makes any use of them an error.
    """
    from airflow.sdk.execution_time import macros

    dag = _dag(dag_zone)
    at = pendulum.instance(instant)
    dated = at if logical else None
    run = type("DagRun", (), {"logical_date": dated, "run_after": at, "data_interval_start": dated, "data_interval_end": dated})()
    context = {"dag": dag, "dag_run": run, "macros": macros}
    if logical:
        context.update(ds=instant.strftime("%Y-%m-%d"), logical_date=at, data_interval_start=at, data_interval_end=at)
    return dag.get_template_env().from_string(template).render(**context)


shifts = st.one_of(
    st.lists(st.builds(Shift, st.integers(-400, 400), st.sampled_from(CALENDAR)), max_size=2),
    st.lists(st.builds(Shift, st.integers(-100_000, 100_000), st.sampled_from(ELAPSED)), max_size=2),
)
run_dates = st.builds(
    RunDate,
    unit=st.sampled_from(list(DateUnit)),
    source=st.sampled_from(list(RunSource)),
    zone=st.sampled_from(ZONES),
    shift=shifts,
)
#: dateutil's zone files (``macros.dateutil.tz.gettz``, for zones other than UTC and the DAG's)
#: know no DST rule after their last listed transition (2037): the test stays before it.
instants = st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2036, 12, 31), timezones=st.just(dt.UTC))


@st.composite
def rules(draw: st.DrawFn) -> DateRule:
    fmt = draw(st.sampled_from(FORMATS))
    unit = draw(st.sampled_from([u for u in DateUnit if u.rank >= date_formats.resolution(fmt).rank]))
    custom = unit == DateUnit.DAY and draw(st.booleans())
    offset = draw(st.integers(-60, 60))
    return DateRule(unit, offset, fmt, end_offset=offset + draw(st.integers(1, 40)) if custom else None)


@settings(max_examples=400, deadline=None)
@given(run=run_dates, rule=rules(), instant=instants, dag_zone=st.sampled_from(ZONES), logical=st.booleans())
def test_airflow_renders_what_python_computes(run: RunDate, rule: DateRule, instant: dt.datetime, dag_zone: str, logical: bool) -> None:
    """Also for runs without a logical date: those are computed from their run_after."""
    expected = rule_value(rule, run_anchor(run, instant))
    assert render(param_template(rule, run, dag_zone), instant, dag_zone, logical) == expected


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(-400, 400), instant=instants, logical=st.booleans())
def test_the_daily_idiom_is_airflows_ds(offset: int, instant: dt.datetime, logical: bool) -> None:
    rule, run = DateRule(DateUnit.DAY, offset), RunDate(DateUnit.DAY)
    template = param_template(rule, run, "UTC")
    assert ("macros.ds_add(" if offset else "{{ ") + DS_JINJA in template
    assert render(template, instant, "UTC", logical) == rule_value(rule, run_anchor(run, instant))


@settings(max_examples=200, deadline=None)
@given(run=run_dates, rule=rules(), instant=instants, dag_zone=st.sampled_from(ZONES), logical=st.booleans())
def test_a_version_2_template_respelled_on_load_renders_what_python_computes(
    run: RunDate, rule: DateRule, instant: dt.datetime, dag_zone: str, logical: bool
) -> None:
    """Specs exported before version 3 spelled dates ``{{ ds }}`` / ``data_interval_start``; loading respells them."""
    v2 = param_template(rule, run, dag_zone).replace("{{ " + DS_JINJA + " }}", "{{ ds }}").replace(DS_JINJA, "ds")
    for source in (RunSource.DATA_INTERVAL_START, RunSource.DATA_INTERVAL_END):
        v2 = v2.replace(INSTANT_JINJA[source], source.value)
    assert render(null_safe_template(v2), instant, dag_zone, logical) == rule_value(rule, run_anchor(run, instant))


words = st.sampled_from(["ds", "ds_local", "logical_date", "data_interval_start", "data_interval_end"])
binding_shifts = st.one_of(
    st.lists(st.builds(Shift, st.integers(-9999, 9999), st.sampled_from(CALENDAR)), max_size=2),
    st.lists(st.builds(Shift, st.integers(-9999, 9999), st.sampled_from(ELAPSED)), max_size=2),
)


@given(
    word=words, shift=binding_shifts, offset=st.integers(-50, 50),
    zone=st.sampled_from([None, "Europe/Berlin", "Etc/GMT+5"]), fmt=st.sampled_from([None, *FORMATS]),
)  # fmt: skip
def test_binding_text_reads_back(word: str, shift: list[Shift], offset: int, zone: str | None, fmt: str | None) -> None:
    if word == "ds_local":
        zone = None
    text = binding_text(word, tuple(shift), offset, zone, fmt)
    b = parse_binding(text)
    assert (b.label, b.shift, b.offset, b.zone, b.format) == (word, tuple(shift), offset, zone, fmt)
