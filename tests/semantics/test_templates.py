"""Run-date templates for interval and minute roots, rendered by Airflow's own Jinja environment.

For each run date, the Luigi task ids the rendered command lines rebuild must
be exactly the graph Luigi builds for that date's root (no Airflow run needed:
the templates are what changes per run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pendulum
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))


def _rendered_ids(spec, logical: pendulum.DateTime) -> set[str]:
    from airflow.sdk import DAG
    from airflow.sdk.execution_time import macros

    from luigi_fargate.introspect.loader import build_task
    from luigi_fargate.spec.params import templated_tokens

    env = DAG(dag_id="render", schedule=None).get_template_env()
    context = {"ds": logical.strftime("%Y-%m-%d"), "dag_run": type("R", (), {"logical_date": logical, "run_after": logical})(),
               "macros": macros, "data_interval_start": logical, "data_interval_end": logical}  # fmt: skip
    ids = set()
    for node in spec.tasks:
        args = [env.from_string(a).render(**context) for a in templated_tokens(node.params)]
        ids.add(build_task(node.module, node.family, args).task_id)
    return ids


@pytest.mark.parametrize(
    ("ref", "flag", "exported", "runs"),
    [
        ("sem_interval.WeekReport", "--week", "2026-W44",
         [("2026-W45", pendulum.datetime(2026, 11, 2)), ("2027-W01", pendulum.datetime(2027, 1, 4))]),
        ("sem_interval.SpanReport", "--span", "2026-10-26-2026-11-02",
         [("2026-11-02-2026-11-09", pendulum.datetime(2026, 11, 2)), ("2026-12-28-2027-01-04", pendulum.datetime(2026, 12, 28))]),
        ("sem_interval.MinuteReport", "--minute", "2026-11-01T0510",
         [("2026-11-01T0515", pendulum.datetime(2026, 11, 1, 5, 15)), ("2026-11-02T0003", pendulum.datetime(2026, 11, 2, 0, 3))]),
    ],
    ids=["week", "custom-interval", "minute"],
)  # fmt: skip
def test_rendered_graph_is_lugis_graph(ref: str, flag: str, exported: str, runs) -> None:
    from luigi_fargate.export.api import plan_export
    from luigi_fargate.export.builder import ExportOptions
    from luigi_fargate.introspect.graph import walk
    from luigi_fargate.introspect.loader import build_task

    module, family = ref.rsplit(".", 1)
    plan = plan_export(module, family, [flag, exported], ExportOptions())
    assert not [f for f in plan.findings if "shape" in f.message or "follow the run date" in f.message]
    for value, logical in runs:
        expected = set(walk(build_task(module, family, [flag, value])).nodes)
        assert _rendered_ids(plan.spec, logical) == expected, value


def test_fixed_dates_stay_fixed() -> None:
    from luigi_fargate.export.api import plan_export
    from luigi_fargate.export.builder import ExportOptions
    from luigi_fargate.spec.params import templated_tokens

    spec = plan_export("sem_daily", "Daily", ["--date", "2026-11-01"], ExportOptions()).spec
    baseline = next(t for t in spec.tasks if t.family == "Baseline")
    assert templated_tokens(baseline.params) == ["--since=2026-01-01"] and baseline.id == "Baseline"
    clean = {t.id: templated_tokens(t.params) for t in spec.tasks if t.family == "Clean"}
    assert clean == {"Clean.date-ds": ["--date={{ (dag_run.logical_date or dag_run.run_after) | ds }}"], "Clean.date-ds-1": ["--date={{ macros.ds_add((dag_run.logical_date or dag_run.run_after) | ds, -1) }}"]}
    assert spec.start_date is None  # unscheduled: any date may be triggered (docs/concepts.md, Start date)
