"""Parity with ``luigi.build`` where Luigi's worker decides: tasks without outputs, keep-alive and retries.

Each pipeline (tests/fixtures/worker_parity.py) is exported once, then for
three run dates ``airflow dags test`` (local runner, every task a real
``luigi-fargate run``) and ``luigi.build([root], local_scheduler=True)`` run
in fresh data folders with the same luigi.cfg. Both record every run() in a
ledger: the same Luigi task ids must run, as many times each.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import TESTS, base_env, luigi_fargate

DATES = ["2026-11-01", "2026-11-02", "2027-01-01"]
KEEP_ALIVE_CFG = TESTS / "fixtures" / "keep-alive-luigi.cfg"
DEFAULT_CFG = TESTS / "fixtures" / "empty-luigi.cfg"


def _ledger(path: Path) -> Counter[str]:
    return Counter(path.read_text().splitlines()) if path.exists() else Counter()


def _luigi_build(family: str, date: str, data: Path, config: Path) -> Counter[str]:
    code = (
        "import datetime, luigi, worker_parity\n"
        f"task = worker_parity.{family}(date=datetime.date.fromisoformat({date!r}))\n"
        "luigi.build([task], local_scheduler=True, log_level='ERROR')\n"
    )
    data.mkdir(parents=True, exist_ok=True)
    env = base_env(SEM_DATA_DIR=str(data), SEM_LEDGER=str(data / "ledger.txt"), LUIGI_CONFIG_PATH=str(config))
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    return _ledger(data / "ledger.txt")


def _dag_run(airflow_home, dag_id: str, date: str, data: Path, config: Path) -> Counter[str]:
    data.mkdir(parents=True, exist_ok=True)
    airflow_home.dags_test(
        dag_id, date, timeout=600, SEM_DATA_DIR=str(data), SEM_LEDGER=str(data / "ledger.txt"),
        LUIGI_CONFIG_PATH=str(config), LUIGI_FARGATE_LOCK=f"file://{data / 'locks'}",
    )  # fmt: skip
    return _ledger(data / "ledger.txt")


def _export(airflow_home, family: str, dag_id: str, config: Path) -> None:
    proc = luigi_fargate(
        "export", f"worker_parity.{family}", "--date", DATES[0], "--out", str(airflow_home.dags), "--dag-id", dag_id,
        env=base_env(LUIGI_CONFIG_PATH=str(config)),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_no_output_task_and_keep_alive_retries_run_what_luigi_runs(airflow_home, tmp_path: Path) -> None:
    """``[worker] keep_alive = true``, in-process retries and ``check_unfulfilled_deps = false``.

    Luigi: Hello (no outputs) runs once and its dependents go ahead; Flaky fails
    once and is retried in the worker, which stays alive. The DAG: every
    runner exits (keep_alive is overridden), Airflow retries Flaky.
    """
    _export(airflow_home, "Both", "parity_both", KEEP_ALIVE_CFG)
    for date in DATES:
        expected = _luigi_build("Both", date, tmp_path / f"luigi-{date}", KEEP_ALIVE_CFG)
        got = _dag_run(airflow_home, "parity_both", date, tmp_path / f"dag-{date}", KEEP_ALIVE_CFG)
        assert got == expected, (date, got, expected)
        assert sorted((k.split("_")[0], n) for k, n in got.items()) == [
            ("AfterFlaky", 1), ("Both", 1), ("Flaky", 2), ("Greet", 1), ("Hello", 1), ("Report", 1),
        ]  # fmt: skip

    # A second invocation for a finished date: Luigi reaches nothing (the root is complete), so
    # Hello (never complete) doesn't run again; neither does it in a second DAG run.
    last = DATES[-1]
    again = _luigi_build("Both", last, tmp_path / f"luigi-{last}", KEEP_ALIVE_CFG)
    rerun = _dag_run(airflow_home, "parity_both", last, tmp_path / f"dag-{last}", KEEP_ALIVE_CFG)
    assert rerun == again, (rerun, again)


def test_dependents_of_a_no_output_task_fail_as_in_luigi_by_default(airflow_home, tmp_path: Path) -> None:
    """Luigi's default ``check_unfulfilled_deps = true`` fails every task that needs a task without outputs."""
    _export(airflow_home, "Report", "parity_report", DEFAULT_CFG)
    for date in DATES:
        expected = _luigi_build("Report", date, tmp_path / f"luigi-{date}", DEFAULT_CFG)
        got = _dag_run(airflow_home, "parity_report", date, tmp_path / f"dag-{date}", DEFAULT_CFG)
        assert got == expected, (date, got, expected)
        assert [k.split("_")[0] for k in got] == ["Hello"]


@pytest.mark.parametrize("config", [KEEP_ALIVE_CFG, DEFAULT_CFG], ids=["keep-alive", "default"])
def test_a_failing_task_exits_5_at_once_whatever_the_worker_settings(shim, config: Path) -> None:
    """With ``keep_alive = true`` Luigi's worker never exits after a failure; the runner must."""
    env = shim.env(LUIGI_CONFIG_PATH=str(config))
    proc = shim.run("--allow-any", "shim_tasks", "Fails", env=env, timeout=60)
    assert proc.returncode == 5, proc.stderr
    assert shim.lines().count("run Fails") == 1  # no retry inside the container


def test_worker_settings_that_would_stop_or_widen_a_one_task_run_are_overridden(shim, tmp_path: Path) -> None:
    """``task_limit`` reached leaves the task unscheduled (the worker says success); the others widen the run."""
    config = tmp_path / "luigi.cfg"
    config.write_text(
        "[worker]\ntask_limit = 0\nmax_reschedules = 5\nretry_external_tasks = true\nforce_multiprocessing = true\n"
        "keep_alive = true\nwait_jitter = 30\n"
    )
    proc = shim.run("--allow-any", "shim_tasks", "Ok", "--name", "limited", env=shim.env(LUIGI_CONFIG_PATH=str(config)), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert shim.lines().count("run Ok limited") == 1
