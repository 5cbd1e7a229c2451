"""What people see of an exported DAG, and which runs it accepts (issue 18).

- names for people: the readable Airflow id is the display name, the Luigi
  class's docstring and parameters are the task's doc_md, the DAG's tags name
  the module, the root's family and the configured team;
- failure mail only where it can be delivered, else one warning at parse;
- priority from the graph: sensors first, then Luigi's priority, then the
  tasks nearest the inputs;
- start_date: chosen deliberately, and a run dated before it fails with a
  message (real ``airflow dags test``), while a backfill over that range
  still creates its runs.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import BIN, base_env, luigi_fargate

MODULE = "tests.export.ingest_tasks"
DAG_ID = "ingest_tasks_report"
EXPORT_DATE = "2026-11-01"


def _export(out: Path, *extra: str, config: str = "") -> Path:
    env = base_env()
    if config:
        cfg = out.parent / "luigi.cfg"
        cfg.write_text(config)
        env["LUIGI_CONFIG_PATH"] = str(cfg)
    proc = luigi_fargate("export", f"{MODULE}.Report", "--date", EXPORT_DATE, "--out", str(out), *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    return out / f"{DAG_ID}.json"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("presentation") / "dags"
    return _export(out, "--schedule", "@daily", config="[luigi_fargate]\ntags = team=finance, cost-center=42\n")


def _serialized(spec_path: Path) -> Any:
    """The DAG as the scheduler sees it: built from the spec, serialized and read back."""
    from airflow.serialization.serialized_objects import DagSerialization

    from airflow_bridge.dag_builder import build_dag

    return DagSerialization.from_dict(DagSerialization.to_dict(build_dag(spec_path)))


def test_tasks_are_named_by_their_readable_id_documented_by_their_class_and_tagged(exported: Path) -> None:
    dag = _serialized(exported)
    for task in dag.tasks:
        assert task.task_display_name == task.task_id  # not the export date's Luigi id
    assert {t.task_id for t in dag.tasks} == {"Landed", "Ingest", "Reference", "Enrich", "Report"}

    ingest = dag.get_task("Ingest").doc_md
    assert "Load the partner's drop into the ledger | one row per line." in ingest  # the class docstring
    assert "| date | `2026-11-01` at export; follows the run date | business day |" in ingest
    assert "the drop's business day" in dag.get_task("Landed").doc_md  # a sensor's too
    assert "Luigi" not in dag.get_task("Enrich").doc_md.split("\n", 1)[1]  # no docstring: not luigi.Task's own
    assert set(dag.tags) >= {"luigi-fargate", f"module:{MODULE}", "family:Report", "team:finance"}


def test_sensors_run_first_then_luigis_priority_then_the_tasks_nearest_the_inputs(exported: Path) -> None:
    dag = _serialized(exported)
    # The task instance's priority_weight, as Airflow computes it (models/taskinstance.py): the scheduler's order.
    weight = {t.task_id: t.weight_rule.get_weight(SimpleNamespace(task=t)) for t in dag.tasks}
    assert weight["Landed"] > weight["Reference"] > weight["Ingest"] == weight["Enrich"] > weight["Report"], weight


def _build_logging(spec_path: Path, caplog: pytest.LogCaptureFixture) -> tuple[Any, list[str]]:
    from airflow_bridge.dag_builder import build_dag

    with caplog.at_level(logging.WARNING, logger="airflow_bridge.notifiers"):
        dag = build_dag(spec_path)
    return dag, [r.getMessage() for r in caplog.records if r.name == "airflow_bridge.notifiers"]


def _callbacks(task: Any) -> list[Any]:
    return list(task.on_failure_callback or [])


def test_without_an_smtp_connection_no_notifier_and_one_warning(exported: Path, caplog, monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setattr("airflow_bridge.notifiers._known_connections", {})
    monkeypatch.setattr("airflow_bridge.notifiers._warned", set())
    spec = json.loads(exported.read_text())
    spec["defaults"] = {"email": ["ops@example.com"]}
    path = exported.parent / "mailed" / f"{DAG_ID}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(spec))

    dag, warnings = _build_logging(path, caplog)
    assert [cb for t in dag.tasks for cb in _callbacks(t)] == []
    (warning,) = warnings  # one for the DAG, not one per task
    assert "ops@example.com, owner@example.com" in warning and "'smtp_default'" in warning
    assert "AIRFLOW_CONN_SMTP_DEFAULT" in warning
    caplog.clear()
    assert _build_logging(path, caplog)[1] == []  # the same process parsing it again says nothing new

    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    caplog.clear()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", "smtp://mail.example.com:25")
    monkeypatch.setattr("airflow_bridge.notifiers._known_connections", {})
    dag, warnings = _build_logging(path, caplog)
    assert warnings == []
    task = dag.get_task("Ingest")  # owner_email, and the DAG's MAILTO
    assert sorted(tuple(cb.to) for cb in _callbacks(task) if isinstance(cb, SmtpNotifier)) == [("ops@example.com",), ("owner@example.com",)]
    assert [cb.to for cb in _callbacks(dag.get_task("Report"))] == [["ops@example.com"]]


def recording_notifier(to: list[str], subject: str) -> Any:
    """A configured ``[luigi_fargate] failure_notifier`` (used below)."""
    return ("recorded", tuple(to), subject)


def test_a_configured_notifier_needs_no_smtp_connection(exported: Path, caplog, monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    monkeypatch.setattr("airflow_bridge.notifiers._known_connections", {})
    monkeypatch.setenv("AIRFLOW__LUIGI_FARGATE__FAILURE_NOTIFIER", f"{__name__}:recording_notifier")
    spec = json.loads(exported.read_text())
    spec["defaults"] = {"email": ["ops@example.com"]}
    path = exported.parent / "configured" / f"{DAG_ID}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(spec))
    dag, warnings = _build_logging(path, caplog)
    assert warnings == []
    assert _callbacks(dag.get_task("Report")) == [("recorded", ("ops@example.com",), f"Airflow DAG {DAG_ID}: a task failed")]


def test_start_date_default_and_option(tmp_path: Path) -> None:
    """Scheduled: the export's run date, unless --start-date; unscheduled: none (every date may be triggered)."""
    scheduled = json.loads(_export(tmp_path / "a", "--schedule", "@daily").read_text())
    unscheduled = json.loads(_export(tmp_path / "b").read_text())
    chosen = json.loads(_export(tmp_path / "c", "--start-date", "2026-01-01").read_text())
    assert (scheduled.get("start_date"), unscheduled.get("start_date"), chosen.get("start_date")) == (EXPORT_DATE, None, "2026-01-01")


def _airflow(home: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "airflow"), *args], env=home.env(), text=True, capture_output=True, timeout=300)


def test_a_run_dated_before_start_date_fails_with_the_fix_instead_of_an_empty_success(airflow_home) -> None:
    _export(airflow_home.dags, "--start-date", EXPORT_DATE)  # unscheduled, with a deliberate start_date

    proc = airflow_home.dags_test(DAG_ID, "2026-10-01")
    out = proc.stdout + proc.stderr
    assert "state=failed" in out, out[-3000:]
    assert f"is dated 2026-10-01T00:00:00+00:00, before the DAG's start_date {EXPORT_DATE}T00:00:00+00:00" in out, out[-3000:]
    assert "re-export with --start-date 2026-10-01 or earlier" in out

    with sqlite3.connect(airflow_home.home / "airflow.db") as db:  # the run's task instances, as the UI lists them
        states = dict(db.execute("SELECT task_id, state FROM task_instance WHERE dag_id = ?", (DAG_ID,)).fetchall())
    assert set(states) == {"Landed", "Ingest", "Reference", "Enrich", "Report"}, states  # not zero tasks
    assert "success" not in states.values() and "failed" in states.values(), states


def test_a_backfill_over_the_range_before_a_scheduled_dags_start_date_creates_its_runs(airflow_home) -> None:
    """Airflow's start_date stays where a schedule starts; ``airflow backfill create`` runs earlier dates."""
    _export(airflow_home.dags, "--schedule", "@daily")
    assert _airflow(airflow_home, "dags", "reserialize").returncode == 0
    backfill = _airflow(airflow_home, "backfill", "create", "--dag-id", DAG_ID, "--from-date", "2026-10-01",
                        "--to-date", "2026-10-03", "--dry-run")  # fmt: skip
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    for day in ("2026-10-01", "2026-10-02", "2026-10-03"):
        assert day in backfill.stdout, backfill.stdout
