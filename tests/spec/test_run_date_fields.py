"""The run-date fields of the spec (graph.run_date, params[].rule, optional, trigger_rule): typed, read back, checked."""

from __future__ import annotations

import json

import pytest

from luigi_fargate.spec import GraphShape, PipelineSpec, SpecError, TaskNode, TaskParam, TaskSettings
from luigi_fargate.spec.dates import DateRule, DateUnit, RunDate, RunSource, Shift
from luigi_fargate.spec.kinds import TriggerRule
from luigi_fargate.spec.versions import upgrade


def _spec() -> PipelineSpec:
    rule = DateRule(DateUnit.DAY, 28)
    day = TaskNode("DayLoad.date-ds_plus28", "DayLoad_2026_11_29_x", "m", "DayLoad",
                   [TaskParam("date", "2026-11-29", "{{ ... }}", rule=rule)], optional=True)  # fmt: skip
    root = TaskNode("MonthClose", "MonthClose_2026_11_x", "m", "MonthClose", [], upstream=[day.id],
                    settings=TaskSettings(trigger_rule=TriggerRule.NONE_FAILED))  # fmt: skip
    run = RunDate(DateUnit.MONTH, RunSource.LOGICAL_DATE, "Europe/Berlin", [Shift(-1, DateUnit.DAY)])
    return PipelineSpec("month_close", root.id, [day, root], graph=GraphShape("m", "MonthClose", [], run))


def test_rules_read_back_as_written() -> None:
    spec = _spec()
    again = PipelineSpec.from_json(spec.to_json())
    assert again == spec
    data = json.loads(spec.to_json())
    assert data["graph"]["run_date"] == {"unit": "month", "zone": "Europe/Berlin", "shift": [{"amount": -1, "unit": "day"}]}
    assert data["tasks"][0]["params"][0]["rule"] == {"unit": "day", "offset": 28} and data["tasks"][0]["optional"] is True
    assert data["tasks"][1]["settings"] == {"trigger_rule": "none_failed"}


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("graph", "run_date", "unit"), "fortnight", "graph.run_date.unit: expected one of 'second', 'minute'"),
        (("tasks", 0, "params", 0, "rule", "offset"), "28", "tasks[0].params[0].rule.offset: expected a whole number"),
        (("tasks", 1, "settings", "trigger_rule"), "always", "tasks[1].settings.trigger_rule: expected one of 'all_success'"),
    ],
)
def test_a_wrong_value_names_its_path(path: tuple, value: object, message: str) -> None:
    data = json.loads(_spec().to_json())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        PipelineSpec.from_dict(data, "x.json")


def test_version_1_keeps_templates_it_cant_read_as_rules() -> None:
    hourly = "{{ (dag_run.logical_date or dag_run.run_after).strftime('%Y-%m-%dT%H') }}"
    check = {"root": ["m", "H", "--date-hour", hourly], "graph_size": 1, "deps": 0}
    v1 = {"schema_version": 1, "dag_id": "h", "root": "H", "bindings": {"date_hour": "ds"}, "tasks": [
        {"id": "H", "task_id": "H_x", "module": "m", "family": "H", "params": {"date_hour": "2026-11-01T05"},
         "args": ["--date-hour", hourly], "param_templates": {"date_hour": hourly}, "settings": {"graph_check": check}},
    ]}  # fmt: skip
    spec = PipelineSpec.from_dict(upgrade(v1, "h.json"), "h.json")
    (param,) = spec.tasks[0].params
    assert (param.template, param.rule) == (hourly, None)  # Airflow renders it; verify and the runner can't evaluate it
    assert spec.graph is not None and spec.graph.run_date is None
