"""A graph whose shape depends on the run date runs as Luigi's on every date; a changed graph stops with exit 8.

sem_shape.HourReport needs one DayDim at 05:00 but two at 00:00 (the
previous hour belongs to yesterday). Exported at 05:00, the DAG holds both
(export also walked the next midnight); the second is skipped (exit 9) on
every hour but midnight. A code change the export never saw (Audit,
switched on by $SEM_SHAPE_CHANGED) must refuse with exit 8 and run nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luigi_fargate.spec import PipelineSpec
from tests.conftest import base_env, luigi_fargate
from tests.semantics.parity import dag_run, export, log_of, luigi_command


@pytest.fixture
def exported(airflow_home) -> Path:
    proc = export("sem_shape.HourReport", "--date-hour", "2026-11-01T05", "--dag-id", "sem_shape", out=airflow_home.dags)
    assert "shape changes with the run date" in proc.stderr and "luigi-fargate verify" in proc.stderr
    return airflow_home.dags / "sem_shape.json"


def test_the_dag_runs_luigis_graph_at_midnight_and_after(airflow_home, exported: Path, tmp_path: Path) -> None:
    spec = PipelineSpec.load(exported)
    assert {t.id: t.optional for t in spec.tasks}["DayDim.date-ds-1"] is True
    assert spec.node("HourAgg.date_hour-ds-1h").settings.trigger_rule == "none_failed"
    for hour, logical in (("2026-11-02T00", "2026-11-02T00:00:00+00:00"), ("2026-11-02T05", "2026-11-02T05:00:00+00:00"),
                          ("2027-01-01T00", "2027-01-01T00:00:00+00:00")):  # fmt: skip
        expected = luigi_command("sem_shape", "HourReport", ["--date-hour", hour], tmp_path / f"luigi-{hour}")
        ran, proc = dag_run(airflow_home, "sem_shape", logical, tmp_path / f"dag-{hour}")
        assert proc.returncode == 0, log_of(proc)
        assert ran == expected and len(ran) == (5 if hour.endswith("T00") else 4), f"{hour}: {dict(ran)} vs {dict(expected)}"
        assert set(ran.values()) == {1}


def test_a_changed_graph_exits_8_and_runs_nothing(airflow_home, exported: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    proc = airflow_home.dags_test("sem_shape", "2026-11-02T05:00:00+00:00", SEM_DATA_DIR=str(tmp_path), SEM_LEDGER=str(ledger),
                                  SEM_SHAPE_CHANGED="1")  # fmt: skip
    log = log_of(proc)
    assert "exit 8" in log and "graph mismatch: in the graph Luigi builds for HourReport_2026_11_02T05" in log
    assert "HourReport (HourReport_2026_11_02T05_" in log and "needs Audit_2026_11_02T05_" in log
    assert "re-export the DAG" in log
    assert not ledger.exists()  # nothing ran on a graph the DAG doesn't describe


def _check(node: str, hour: str) -> str:
    run = f"{hour[:10]}T{hour[11:13]}:00:00+00:00"
    return json.dumps({"root": ["sem_shape", "HourReport", f"--date-hour={hour}"], "dag": "sem_shape", "node": node, "run": run})


def test_runner_decides_run_skip_or_changed_without_airflow(exported: Path, tmp_path: Path) -> None:
    env = base_env(SEM_DATA_DIR=str(tmp_path / "d"), SEM_LEDGER=str(tmp_path / "ledger.txt"))
    allow = ["--allow", str(exported)]
    # 05:00: yesterday's DayDim is not in this run's graph: skipped, nothing run.
    skip = luigi_fargate("run", *allow, "--graph-check", _check("DayDim.date-ds-1", "2026-11-02T05"), "sem_shape", "DayDim",
                         "--date=2026-11-01", env=env)  # fmt: skip
    assert skip.returncode == 9, skip.stderr
    assert "not in this run's graph, skipped" in skip.stderr
    # Midnight: it is, and it runs.
    run = luigi_fargate("run", *allow, "--graph-check", _check("DayDim.date-ds-1", "2026-11-02T00"), "sem_shape", "DayDim",
                        "--date=2026-11-01", env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "ledger.txt").read_text().split() == ["DayDim_2026_11_01_6468bfe8de"]
    # A task whose parameters are not what its rule gives for the run: refused.
    wrong = luigi_fargate("run", *allow, "--graph-check", _check("DayDim.date-ds", "2026-11-02T05"), "sem_shape", "DayDim",
                          "--date=2026-11-01", env=env)  # fmt: skip
    assert wrong.returncode == 8 and "its run-date rule gives DayDim_2026_11_02_" in wrong.stderr
    # The code changed: every task refuses.
    changed = luigi_fargate("run", *allow, "--graph-check", _check("DayDim.date-ds", "2026-11-02T05"), "sem_shape", "DayDim",
                            "--date=2026-11-02", env={**env, "SEM_SHAPE_CHANGED": "1"})  # fmt: skip
    assert changed.returncode == 8 and "needs Audit_2026_11_02T05_" in changed.stderr


def test_a_check_from_an_older_export_compares_sizes(tmp_path: Path) -> None:
    check = '{"root":["sem_shape","HourReport","--date-hour","2026-11-02T00"],"graph_size":4,"deps":0}'
    proc = luigi_fargate("run", "--allow-any", "--graph-check", check, "sem_shape", "DayDim", "--date", "2026-11-02")
    assert proc.returncode == 8, proc.stderr
    assert "differs from the exported DAG's (4 tasks)" in proc.stderr
    no_spec = luigi_fargate("run", "--allow-any", "--graph-check", _check("DayDim.date-ds", "2026-11-02T05"), "sem_shape",
                            "DayDim", "--date=2026-11-02")  # fmt: skip
    assert no_spec.returncode == 3 and "needs its spec: pass --allow" in no_spec.stderr
