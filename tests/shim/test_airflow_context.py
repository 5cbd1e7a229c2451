"""Runner events joined with Airflow's records: a real ``airflow dags test`` run, each task a real ``luigi-fargate run``.

Airflow's task runner puts AIRFLOW_CTX_* into its own environment before
``execute()`` (task-sdk ``execution_time/task_runner.py``); the local runner
inherits them, and every event names the DAG run, the try and the process.
"""

from __future__ import annotations

import json
from pathlib import Path

from luigi_fargate.spec.runner_log import TASK_EVENT, USAGE_EVENT
from tests.conftest import base_env, luigi_fargate


def test_events_of_a_dag_run_carry_its_dag_run_try_and_pid_and_this_dates_task_id(airflow_home, tmp_path: Path) -> None:
    proc = luigi_fargate("export", "tests.shim.runner_tasks.Dated", "--date", "2026-11-01", "--out", str(airflow_home.dags),
                         "--dag-id", "ctx_dated", env=base_env())  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "data").mkdir()
    events = tmp_path / "events.jsonl"
    run = airflow_home.dags_test("ctx_dated", "2026-11-05", RUNNER_TASKS_DATA=str(tmp_path / "data"),
                                 LUIGI_FARGATE_EVENTS_FILE=str(events), LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}")  # fmt: skip
    assert (tmp_path / "data" / "dated-2026-11-05.txt").exists(), run.stdout[-3000:] + run.stderr[-3000:]
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert [r["event"] for r in records] == [TASK_EVENT, "start", "done", USAGE_EVENT]
    # The run's own Luigi task id (the spec only knows the export date's).
    assert records[0]["task_id"].startswith("Dated_2026_11_05_"), records[0]
    assert len({(r["pid"], r["run_id"], r["airflow_task_id"]) for r in records}) == 1, records
    for record in records:
        assert record["dag_id"] == "ctx_dated"
        assert record["run_id"].startswith("manual__"), record  # `dags test` names its run after the wall clock
        assert record["try_number"] == 1
        assert record["airflow_task_id"] == "Dated" and isinstance(record["pid"], int)
