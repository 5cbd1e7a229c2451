"""Luigi attributes -> Airflow task settings, asserted on the DAG objects Airflow builds.

Export runs through the real CLI (with a Luigi config that sets retry timing
and [resources]); the DAG is built in-process from the spec, the way the
dag-processor builds it. docs/concepts.md has the same table.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.conftest import base_env, luigi_fargate

CONFIG = """\
[luigi_fargate]
retry_delay = 60
max_retry_delay = 3600

[resources]
db = 3
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("mapping")
    cfg = root / "luigi.cfg"
    cfg.write_text(CONFIG)
    env = base_env(LUIGI_CONFIG_PATH=str(cfg))
    proc = luigi_fargate("export", "sem_attrs.All", "--date", "2026-11-01", "--group-by", "namespace",
                         "--out", str(root / "dags"), env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return root, env


@pytest.fixture(scope="module")
def dag(exported):
    from airflow_bridge.dag_builder import build_dag

    with pytest.MonkeyPatch.context() as mp:  # failure mail is attached only where it can be delivered
        mp.setenv("AIRFLOW_CONN_SMTP_DEFAULT", "smtp://mail.example.com:25")
        mp.setattr("airflow_bridge.notifiers._known_connections", {})
        return build_dag(exported[0] / "dags" / "sem_attrs_all.json")


def test_retry_timeout_priority_owner_pool(dag) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    loader = dag.get_task("Loader")
    assert loader.retries == 2  # retry_count = 3: three attempts in all
    assert loader.retry_delay == dt.timedelta(seconds=60)  # [luigi_fargate] retry_delay
    assert loader.retry_exponential_backoff == 2.0
    assert loader.max_retry_delay == dt.timedelta(seconds=3600)
    assert loader.execution_timeout == dt.timedelta(seconds=600)  # worker_timeout
    # priority 50 ranks above every task without one (airflow_bridge/priorities.py: Luigi's priority, then the graph)
    others = [t.priority_weight for t in dag.tasks if t.task_id != "Loader" and t.task_type != "LuigiCompletenessSensor"]
    assert loader.priority_weight > max(others) and loader.weight_rule == "absolute"
    assert loader.owner == "data@example.com"  # owner_email
    (notifier,) = [cb for cb in loader.on_failure_callback if isinstance(cb, SmtpNotifier)]
    assert notifier.to == ["data@example.com", "oncall@example.com"]
    assert (loader.pool, loader.pool_slots) == ("db", 2)  # the resource held most

    plain = dag.get_task("Expand")
    assert plain.retries == 0 and plain.on_failure_callback in (None, [])
    assert plain.pool == "default_pool"


def test_node_kinds(dag) -> None:
    from airflow.providers.standard.operators.empty import EmptyOperator

    from airflow_bridge.operators.local import LuigiLocalOperator
    from airflow_bridge.operators.sensors import LuigiCompletenessSensor

    source = dag.get_task("Source")  # ExternalTask
    assert isinstance(source, LuigiCompletenessSensor)
    assert source.mode == "reschedule" and source.timeout > 0
    assert "--check-complete" in source.command()  # pokes check, never run
    assert isinstance(dag.get_task("Switched"), LuigiCompletenessSensor)  # disabled = True
    assert isinstance(dag.get_task("All"), EmptyOperator)  # WrapperTask
    assert isinstance(dag.get_task("Expand"), LuigiLocalOperator)  # dynamic deps: one container
    assert "GRAPH_CHECK" in "".join(dag.get_task("Expand").env_vars)


def test_groups_keep_task_ids(dag) -> None:
    summary = dag.get_task("sales.Summary.region-eu")
    assert summary.task_group.group_id == "sales"
    assert dag.get_task("Loader").task_group.is_root


def test_dynamic_and_multi_resource_are_explained(exported) -> None:
    spec = json.loads((exported[0] / "dags" / "sem_attrs_all.json").read_text())
    notes = {t["id"]: " ".join(t.get("notes", [])) for t in spec["tasks"]}
    assert "dynamic dependencies" in notes["Expand"]
    assert "api" in notes["Loader"] and "pool" in notes["Loader"]


def test_pools_from_resources_config(exported) -> None:
    root, env = exported
    proc = luigi_fargate("pools", str(root / "dags"), env=env)
    assert proc.returncode == 0, proc.stderr
    pools = json.loads(proc.stdout)
    assert pools["db"]["slots"] == 3  # [resources] db = 3
    assert pools["api"]["slots"] == 1  # used, not configured: 1 slot, as in Luigi


def test_select_exclude_turn_upstream_into_sensors(tmp_path: Path) -> None:
    proc = luigi_fargate("export", "sem_attrs.All", "--date", "2026-11-01", "--select", "sales.*+",
                         "--exclude", "All", "--out", str(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((tmp_path / "sem_attrs_all.json").read_text())
    kinds = {t["id"]: t["kind"] for t in spec["tasks"]}
    assert kinds == {
        "sales.Summary.region-eu": "task", "sales.Summary.region-us": "task",
        "Loader": "external", "Switched": "external",  # left in cron: waited for, never run
    }  # fmt: skip
    bad = luigi_fargate("export", "sem_attrs.All", "--date", "2026-11-01", "--select", "Nope*", "--out", str(tmp_path))
    assert bad.returncode == 2 and "no task family in the graph matches" in bad.stderr


def test_range_daily_becomes_schedule(tmp_path: Path) -> None:
    proc = luigi_fargate("export", "--module", "sem_attrs", "RangeDaily", "--of", "Loader",
                         "--start", "2026-10-01", "--out", str(tmp_path), "--dag-id", "loader_daily")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((tmp_path / "loader_daily.json").read_text())
    assert spec["schedule"]["cron"] == "@daily" and spec["catchup"] is True and spec["start_date"] == "2026-10-01"
    assert {t["family"] for t in spec["tasks"]} == {"Loader", "Source"}
    assert spec["tasks"][-1]["params"][0] == {"name": "date", "value": "2026-10-01", "template": "{{ (dag_run.logical_date or dag_run.run_after) | ds }}", "rule": {"unit": "day"}}


def test_range_hourly_becomes_hourly_schedule_from_its_start_hour(tmp_path: Path) -> None:
    proc = luigi_fargate("export", "--module", "sem_attrs", "RangeHourly", "--of", "Hourly",
                         "--start", "2026-11-01T05", "--out", str(tmp_path))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((tmp_path / "sem_attrs_hourly.json").read_text())
    assert (spec["schedule"]["cron"], spec["catchup"], spec["start_date"]) == ("@hourly", True, "2026-11-01T05:00:00")
    assert "strftime('%Y-%m-%dT%H')" in spec["tasks"][0]["params"][0]["template"]
