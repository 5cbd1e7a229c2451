"""Run a pipeline the way cron did (Luigi's own ``luigi`` command) and the way the exported DAG does, and read the ledgers.

Every ``run()`` of the fixture pipelines appends its Luigi task id to
$SEM_LEDGER (tests/fixtures/sem_common.py), whichever process runs it; the
ledger's lines, counted, are the run() executions of each Luigi task.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import base_env, luigi_fargate


def ledger(path: Path) -> Counter[str]:
    return Counter(path.read_text().splitlines()) if path.exists() else Counter()


def luigi_command(module: str, family: str, args: list[str], data_dir: Path, config: Path | None = None) -> Counter[str]:
    """``luigi --module MODULE FAMILY ARGS --local-scheduler`` in a fresh data folder: what cron ran."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "ledger.txt"
    env = base_env(SEM_DATA_DIR=str(data_dir), SEM_LEDGER=str(path))
    if config is not None:
        env["LUIGI_CONFIG_PATH"] = str(config)
    cmd = [sys.executable, "-m", "luigi", "--module", module, family, *args, "--local-scheduler", "--log-level", "WARNING"]
    subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    return ledger(path)


def export(ref: str, *args: str, out: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = base_env(LUIGI_CONFIG_PATH=str(config)) if config is not None else None
    proc = luigi_fargate("export", ref, *args, "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    return proc


def dag_run(airflow_home, dag_id: str, logical_date: str, data_dir: Path) -> tuple[Counter[str], subprocess.CompletedProcess[str]]:
    """``airflow dags test`` of the exported DAG in a fresh data folder: (run() executions, the process)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "ledger.txt"
    proc = airflow_home.dags_test(dag_id, logical_date, SEM_DATA_DIR=str(data_dir), SEM_LEDGER=str(path))
    return ledger(path), proc


def log_of(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout[-4000:] + proc.stderr[-4000:]
