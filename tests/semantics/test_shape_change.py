"""A date whose Luigi graph differs from the exported one: exit 8, nothing run, and how to fix it.

sem_shape.HourReport needs one DayDim at 05:00 but two at 00:00 (the
previous hour belongs to yesterday). Exported at 05:00, the run for 00:00
must refuse instead of running a graph the DAG doesn't describe.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import luigi_fargate


def test_shape_change_exits_8_with_the_fix(airflow_home, tmp_path: Path) -> None:
    out = luigi_fargate("export", "sem_shape.HourReport", "--date-hour", "2026-11-01T05", "--dag-id", "sem_shape",
                        "--out", str(airflow_home.dags))  # fmt: skip
    assert out.returncode == 0, out.stderr
    # Export already saw it by rebuilding the graph for the next midnight.
    assert "shape changes with the run date (2026-11-02 00:00" in out.stderr

    ledger = tmp_path / "ledger.txt"
    proc = airflow_home.dags_test("sem_shape", "2026-11-02T00:00:00+00:00", SEM_DATA_DIR=str(tmp_path), SEM_LEDGER=str(ledger))
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "exit 8" in log
    assert "graph mismatch: the graph Luigi builds for HourReport_2026_11_02T00" in log
    assert "(5 tasks) differs from the exported DAG's (4 tasks)" in log
    assert "re-export the DAG" in log and "yields its dependencies in run()" in log
    assert not ledger.exists()  # nothing ran on a graph the DAG doesn't describe


def test_runner_checks_shape_without_airflow(tmp_path: Path) -> None:
    check = '{"root":["sem_shape","HourReport","--date-hour","2026-11-02T00"],"graph_size":4,"deps":0}'
    proc = luigi_fargate("run", "--allow-any", "--graph-check", check, "sem_shape", "DayDim", "--date", "2026-11-02")
    assert proc.returncode == 8, proc.stderr
    assert "differs from the exported DAG's (4 tasks)" in proc.stderr
    # The same check passes where the shape holds (05:00 has 4 tasks), and --check-complete runs nothing.
    ok = '{"root":["sem_shape","HourReport","--date-hour","2026-11-02T05"],"graph_size":4,"deps":0}'
    env_dir = tmp_path / "d"
    from tests.conftest import base_env

    env = base_env(SEM_DATA_DIR=str(env_dir), SEM_LEDGER=str(tmp_path / "ledger.txt"))
    proc = luigi_fargate("run", "--allow-any", "--graph-check", ok, "--check-complete", "sem_shape", "DayDim", "--date", "2026-11-02", env=env)
    assert proc.returncode == 4, proc.stderr  # not complete yet, and not run
    assert not (tmp_path / "ledger.txt").exists()
    proc = luigi_fargate("run", "--allow-any", "--graph-check", ok, "sem_shape", "DayDim", "--date", "2026-11-02", env=env)
    assert proc.returncode == 0, proc.stderr
    proc = luigi_fargate("run", "--allow-any", "--check-complete", "sem_shape", "DayDim", "--date", "2026-11-02", env=env)
    assert proc.returncode == 0, proc.stderr
