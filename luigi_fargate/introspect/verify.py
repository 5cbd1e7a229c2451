"""Prove a migration before cutover: for every run of a date range, the DAG runs exactly Luigi's graph.

For each run, Luigi's graph of the root for that run's date is built
(``deps()`` only: no ``complete()``, no ``run()``, no I/O) and compared with
what the DAG will run then (:mod:`luigi_fargate.introspect.run_plan`, the
comparison the runner makes at each task start). ``luigi-fargate verify``
and ``crontab plan`` call :func:`verify_dates`.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError
from luigi_fargate.introspect import date_math
from luigi_fargate.introspect.graph import walk_deps
from luigi_fargate.introspect.param_cache import fast_walks
from luigi_fargate.introspect.rules import rule_value, run_anchor
from luigi_fargate.introspect.run_plan import LuigiIds, compare_run, plan_nodes
from luigi_fargate.spec.dates import DateUnit, RunDate
from luigi_fargate.spec.params import TaskParam

if TYPE_CHECKING:
    import luigi

    from luigi_fargate.spec import PipelineSpec


@dataclass(frozen=True)
class DateDifference:
    """A run on which the DAG would not run what Luigi runs."""

    run: dt.datetime  # the run's instant (its logical date, aware)
    label: str  # the run's date as the root sees it (2027-02-28, 2026-11-02 00:00)
    differences: list[str] = field(default_factory=list)

    def line(self) -> str:
        shown = "; ".join(self.differences[:3])
        more = len(self.differences) - 3
        return f"{self.label}: {shown}" + (f"; and {more} more" if more > 0 else "")


def _run_date(spec: PipelineSpec, source: str) -> RunDate:
    if spec.graph is None or spec.graph.run_date is None:
        raise UserError(
            f"{source}: DAG {spec.dag_id} has no run-date binding (exported with --no-bind, or by an older "
            "luigi-fargate): every run runs the same graph; re-export with --bind PARAM=ds to verify per date"
        )
    return spec.graph.run_date


def unchecked_tasks(spec: PipelineSpec) -> list[str]:
    """Airflow ids of tasks with hand-written templates, which Python can't evaluate (crontab raw templates)."""
    return [t.id for t in spec.tasks if any(p.template is not None and p.rule is None for p in t.params)]


def run_instants(spec: PipelineSpec, start: dt.date, end: dt.date) -> list[dt.datetime]:
    """The runs of ``spec`` from ``start`` to ``end`` (both included), as instants.

    With a schedule, its fire times (a CronTriggerTimetable run's logical date
    is its fire time) in the schedule's zone; without one, one run per period
    of the bound parameter (every day for a custom interval), at its start
    in the run date's zone.
    """
    if spec.schedule is not None:
        return _fire_times(spec.schedule.cron, spec.schedule.timezone, start, end)
    run = _run_date(spec, "spec")
    zone = zoneinfo.ZoneInfo(run.zone)
    unit = run.unit if run.step == 1 else DateUnit.DAY
    moment = date_math.truncate(dt.datetime(start.year, start.month, start.day), unit)
    stop = dt.datetime(end.year, end.month, end.day) + dt.timedelta(days=1)
    out = []
    while moment < stop:
        if moment.date() >= start or unit.rank > DateUnit.DAY.rank:
            out.append(moment.replace(tzinfo=zone).astimezone(dt.UTC))
        moment = date_math.add(moment, 1, unit)
    return out


def _fire_times(cron: str, zone_name: str, start: dt.date, end: dt.date) -> list[dt.datetime]:
    from croniter import croniter

    zone = zoneinfo.ZoneInfo(zone_name)
    first = dt.datetime(start.year, start.month, start.day, tzinfo=zone) - dt.timedelta(seconds=1)
    stop = dt.datetime(end.year, end.month, end.day, tzinfo=zone) + dt.timedelta(days=1)
    it = croniter(cron, first)
    out = []
    while (t := it.get_next(dt.datetime)) < stop:
        out.append(t.astimezone(dt.UTC))
    return out


def _root_values(params: list[TaskParam], anchor: dt.datetime) -> tuple[tuple[str, str], ...]:
    """The root's parameters for the run, as Luigi strings (what the rendered command line holds)."""
    return tuple((p.name, rule_value(p.rule, anchor) if p.rule is not None else p.value) for p in params)


def _build_root(module: str, family: str, values: tuple[tuple[str, str], ...]) -> luigi.Task:
    """The root from its string parameters: Luigi's ``from_str_params``, what its command-line parser does per value."""
    from luigi_fargate.introspect.loader import import_module, task_class

    import_module(module)
    try:
        return task_class(family, module).from_str_params(dict(values))
    except (ValueError, TypeError) as exc:
        raise UserError(f"parameters for {family}: {exc}; re-export the pipeline") from None


#: Distinct run dates from which verify walks in several processes (forked: the pipeline's code is imported once).
PARALLEL_FROM = 16
_SHARED: tuple[PipelineSpec, LuigiIds] | None = None  # what forked workers inherit


def _differences(spec: PipelineSpec, ids: LuigiIds, values: tuple[tuple[str, str], ...], anchor: dt.datetime) -> list[str]:
    """Luigi's graph for one run (its root's values) against what the DAG runs then."""
    from luigi.task_register import Register

    graph = spec.graph
    assert graph is not None
    with fast_walks():
        luigi_graph = walk_deps(_build_root(graph.root_module, graph.root_family, values))
        out = compare_run(plan_nodes(spec.tasks, anchor, ids), luigi_graph).differences
    Register.clear_instance_cache()  # a year of graphs would otherwise stay in memory
    return out


def _in_worker(item: tuple[tuple[tuple[str, str], ...], dt.datetime]) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    assert _SHARED is not None
    return item[0], _differences(*_SHARED, *item)


def _check_all(spec: PipelineSpec, todo: dict[tuple[tuple[str, str], ...], dt.datetime]) -> Iterator[tuple[tuple[tuple[str, str], ...], list[str]]]:
    """(root values, differences) per distinct run, in this process or in forked workers."""
    global _SHARED
    ids = LuigiIds()
    workers = min(os.cpu_count() or 1, 4)
    if len(todo) < PARALLEL_FROM or workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for values, anchor in todo.items():
            yield values, _differences(spec, ids, values, anchor)
        return
    _SHARED = (spec, ids)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            yield from pool.imap_unordered(_in_worker, todo.items(), chunksize=4)
    finally:
        _SHARED = None


def verify_dates(
    spec: PipelineSpec, runs: Iterable[dt.datetime | dt.date], on_run: Callable[[], None] | None = None
) -> list[DateDifference]:
    """One DateDifference per run of ``runs`` on which the DAG would not run Luigi's graph for that run.

    ``runs`` are run instants (a date means its midnight in the run date's
    zone). Runs with the same date for the root are checked once. Imports the
    pipeline's code (the spec's root module), like export. ``on_run`` is
    called after each run is checked (progress bars). Pure library: no
    printing, UserError for a spec that can't be verified.
    """
    run_date = _run_date(spec, spec.dag_id)
    assert spec.graph is not None
    by_values: dict[tuple[tuple[str, str], ...], list[dt.datetime]] = {}
    todo: dict[tuple[tuple[str, str], ...], dt.datetime] = {}
    for run in runs:
        instant = _instant(run, run_date)
        anchor = run_anchor(run_date, instant)
        values = _root_values(spec.graph.root_params, anchor)
        by_values.setdefault(values, []).append(instant)
        todo.setdefault(values, anchor)
    found: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for values, differences in _check_all(spec, todo):
        found[values] = differences
        for _ in by_values[values] if on_run is not None else ():
            on_run()  # type: ignore[misc]
    out = [DateDifference(i, _run_label(i, run_date), found[v]) for v, instants in by_values.items() if found[v] for i in instants]
    return sorted(out, key=lambda d: d.run)


def _run_label(instant: dt.datetime, run_date: RunDate) -> str:
    """The run as its zone's wall clock: ``2027-04-15``, or ``2027-04-15 06:00`` for a run not at midnight."""
    shown = instant.astimezone(zoneinfo.ZoneInfo(run_date.zone)).replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
    return shown.removesuffix(" 00:00")


def _instant(run: dt.datetime | dt.date, run_date: RunDate) -> dt.datetime:
    if isinstance(run, dt.datetime):
        return run if run.tzinfo is not None else run.replace(tzinfo=dt.UTC)
    return dt.datetime(run.year, run.month, run.day, tzinfo=zoneinfo.ZoneInfo(run_date.zone))
