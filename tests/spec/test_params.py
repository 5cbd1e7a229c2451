"""Parameter values are data in Airflow: only the exporter's run-date templates are live Jinja.

Airflow renders every string of a templated field as Jinja, literal values
included. A value holding ``{{ ... }}`` would be evaluated in the task's
context (connections and variables are reachable there), and ``{%`` or
``{#`` would break every run.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_bridge.operators.task_arguments import runner_arguments, runner_env
from luigi_fargate.spec import PipelineSpec, TaskNode, TaskParam
from luigi_fargate.spec.params import jinja_literal
from tests.conftest import TESTS, luigi_fargate

#: Text rich in what Jinja reacts to.
JINJA_TEXT = st.text(alphabet=st.sampled_from("{}%#-'\"\\ raw endraw7*x\n|"), max_size=40) | st.text(max_size=40)
HOSTILE = "{{ 7*7 }} {% raw %}{{ conn }}{% endraw %} {# unclosed {{ var.value.secret }} {%"


@functools.cache
def _template_env():
    """The Jinja environment of a DAG built from a spec, as Airflow renders its tasks' fields."""
    import tempfile

    from airflow_bridge.dag_builder import build_dag

    node = TaskNode(id="A", task_id="A_1", module="m", family="A")
    path = Path(tempfile.mkdtemp(prefix="lf-jinja-")) / "jinja.json"
    path.write_text(PipelineSpec(dag_id="jinja", root="A", tasks=[node]).to_json())
    return build_dag(path).get_template_env()


def _render(template: str) -> str:
    return _template_env().from_string(template).render(ds="2026-11-02", var={"value": {"secret": "LEAKED"}}, conn="LEAKED")


@settings(max_examples=300, deadline=None)
@given(JINJA_TEXT)
def test_a_literal_renders_back_to_itself(text: str) -> None:
    assert _render(jinja_literal(text)) == text


@settings(max_examples=100, deadline=None)
@given(JINJA_TEXT, JINJA_TEXT)
def test_literals_stay_literal_and_templates_stay_live_in_the_runner_command_and_environment(value: str, env_value: str) -> None:
    node = TaskNode(
        id="Echo", task_id="Echo_x", module="literal_values", family="Echo",
        params=[TaskParam("date", "2026-11-01", "{{ ds }}"), TaskParam("text", value)],
    )  # fmt: skip
    spec = PipelineSpec(dag_id="d", root="Echo", tasks=[node], env={"NOTE": env_value})
    rendered = [_render(a) for a in runner_arguments(node, ["--log-format", "json"])]
    assert rendered == ["--log-format", "json", "literal_values", "Echo", "--date=2026-11-02", f"--text={value}"]
    assert _render(runner_env(node, spec)["NOTE"]) == env_value


def test_hostile_values_reach_run_unchanged_through_a_real_airflow_run(airflow_home, tmp_path: Path) -> None:
    proc = luigi_fargate(
        "export", "--module", "literal_values", "Echo", "--date", "2026-11-01", "--text", HOSTILE,
        "--option-like=--module", "--out", str(airflow_home.dags),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    run = airflow_home.dags_test("literal_values_echo", "2026-11-03", LITERAL_DATA=str(tmp_path), LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    written = json.loads((tmp_path / "echo-2026-11-03.json").read_text())
    # the date followed the run; the text and an option-like value arrived exactly as exported
    assert written == {"date": "2026-11-03", "text": HOSTILE, "option_like": "--module"}
    assert "LEAKED" not in run.stdout + run.stderr and "49" not in written["text"]


def test_export_refuses_nothing_it_can_pass_safely(monkeypatch) -> None:
    """The same hostile values, in process: the exported tokens carry them one token each."""
    from luigi_fargate.export.api import plan_export
    from luigi_fargate.export.builder import ExportOptions

    monkeypatch.syspath_prepend(str(TESTS / "fixtures"))
    plan = plan_export("literal_values", "Echo", ["--date", "2026-11-01", "--text", HOSTILE, "--option-like=-h"], ExportOptions())
    (node,) = plan.spec.tasks
    assert [p.token() for p in node.params] == ["--date=2026-11-01", f"--text={HOSTILE}", "--option-like=-h"]
    assert plan.spec.start_date is None  # unscheduled: any date may be triggered (docs/concepts.md, Start date)
