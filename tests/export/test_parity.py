"""Done-when of the walking skeleton: Airflow runs exactly what Luigi runs, for two dates."""

from __future__ import annotations

import json
import subprocess
import sys

from luigi_fargate.spec import PipelineSpec
from tests.conftest import base_env, luigi_fargate

LUIGI_REFERENCE = """
import datetime as dt, json, sys
import luigi
from examples.pipeline import Report
ran = []
luigi.Task.event_handler(luigi.Event.SUCCESS)(lambda task: ran.append(task.task_id))
ok = luigi.build([Report(date=dt.date.fromisoformat(sys.argv[1]))], local_scheduler=True, log_level="WARNING")
print(json.dumps({"ok": ok, "ran": ran}))
"""


def luigi_reference(date: str, data_dir) -> list[str]:
    """What ``luigi.build([Report(date=D)], local_scheduler=True)`` runs from scratch."""
    proc = subprocess.run(
        [sys.executable, "-c", LUIGI_REFERENCE, date], env=base_env(EXAMPLE_DATA_DIR=str(data_dir)),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ok"]
    return result["ran"]


def test_airflow_runs_the_same_luigi_tasks_as_luigi_in_dependency_order(airflow_home, tmp_path):
    proc = luigi_fargate("export", "examples.pipeline.Report", "--date", "2026-11-01", "--out", str(airflow_home.dags))
    assert proc.returncode == 0, proc.stderr
    spec = PipelineSpec.load(airflow_home.dags / "pipeline_report.json")
    upstream = {t.id: t.upstream for t in spec.tasks}

    for date in ("2026-11-01", "2027-03-31"):
        events_file = tmp_path / f"events-{date}.jsonl"
        run = airflow_home.dags_test(
            "pipeline_report", date,
            EXAMPLE_DATA_DIR=str(tmp_path / "airflow-data"),
            LUIGI_FARGATE_EVENTS_FILE=str(events_file),
            LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}",
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        events = [json.loads(line) for line in events_file.read_text().splitlines()]
        started = {e["task_id"]: e["ts"] for e in events if e["event"] == "start"}
        done = {e["task_id"]: e["ts"] for e in events if e["event"] == "done"}

        expected = luigi_reference(date, tmp_path / "luigi-data")
        assert sorted(done) == sorted(expected)
        assert len(expected) == 7 and all(date.replace("-", "_") in t for t in expected)

        # Every dependency finished before its dependent started.
        luigi_id = {}
        for t in spec.tasks:
            family = t.family
            region = t.param("region").value if t.param("region") else None
            luigi_id[t.id] = next(
                x for x in done if x.startswith(family + "_") and (region is None or f"_{region}_" in x)
            )
        for task, ups in upstream.items():
            for up in ups:
                assert done[luigi_id[up]] <= started[luigi_id[task]], (up, task)

        # Same outputs, byte for byte.
        ours = sorted((tmp_path / "airflow-data" / date).iterdir())
        theirs = sorted((tmp_path / "luigi-data" / date).iterdir())
        assert [p.name for p in ours] == [p.name for p in theirs]
        assert all(a.read_bytes() == b.read_bytes() for a, b in zip(ours, theirs, strict=True))


def test_a_failing_luigi_task_fails_its_airflow_task_in_words(airflow_home, tmp_path):
    proc = luigi_fargate("export", "shim_tasks.Fails", "--out", str(airflow_home.dags))
    assert proc.returncode == 0, proc.stderr
    run = airflow_home.dags_test("shim_tasks_fails", "2026-11-01", SHIM_DATA=str(tmp_path / "data"))
    output = run.stdout + run.stderr
    assert "task failed: the Luigi task's run() raised" in output
    assert "the ledger does not balance" in output
    assert "state=failed" in output or "failed" in output.lower()
