"""The runner's first line names this run's Luigi task id; JSON lines carry where the run sits in Airflow."""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from luigi_fargate.spec.runner_log import AIRFLOW_CONTEXT_ENV, MAP_INDEX_ENV, TASK_EVENT, task_id_from_line

MODULE = "tests.shim.runner_tasks"


def _data(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RUNNER_TASKS_DATA", str(tmp_path))
    monkeypatch.setenv("LUIGI_FARGATE_LOCK", f"file://{tmp_path / 'locks'}")


def test_the_first_line_names_the_task_id_of_this_runs_date(cli, tmp_path: Path, monkeypatch) -> None:
    from tests.shim.runner_tasks import Dated

    _data(tmp_path, monkeypatch)
    expected = Dated(date=datetime.date(2026, 11, 5)).task_id
    for fmt in ("text", "json"):
        result = cli("run", "--allow-any", "--log-format", fmt, MODULE, "Dated", "--date", "2026-11-05")
        assert result.returncode == 0, result.stderr
        first = result.stderr.splitlines()[0]
        assert task_id_from_line(first) == expected, first


def test_json_lines_carry_the_airflow_context_and_the_pid(cli, tmp_path: Path, monkeypatch) -> None:
    _data(tmp_path, monkeypatch)
    context = {"dag_id": "daily", "run_id": "scheduled__2026-11-05T18:15:00+00:00", "airflow_task_id": "Dated.date-ds"}
    for field, variable in AIRFLOW_CONTEXT_ENV.items():
        monkeypatch.setenv(variable, context.get(field, "3"))
    monkeypatch.setenv(MAP_INDEX_ENV, "7")
    result = cli("run", "--allow-any", "--log-format", "json", MODULE, "Dated", "--date", "2026-11-06")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [r["event"] for r in records] == [TASK_EVENT, "start", "done", "usage"]
    for record in records:
        assert {k: record[k] for k in context} == context
        assert (record["try_number"], record["map_index"], record["pid"]) == (3, 7, os.getpid())
    # Text lines stay short: the context is in the JSON only.
    text = cli("run", "--allow-any", MODULE, "Dated", "--date", "2026-11-07")
    assert "daily" not in text.stderr and "scheduled__" not in text.stderr
