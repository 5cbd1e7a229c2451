"""Issue #18.6: a local runner dies with its Airflow task process, and the next try can run.

A real ``airflow dags test`` runs an exported Luigi task that takes a minute; the test
SIGKILLs the process the runner was started by (the Airflow task process, as the OOM
killer would) and watches the runner: gone within seconds, its task's cleanup run, no
output written, its lock free for the next try.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, luigi_fargate
from tests.locks.conftest import LuigidServers

#: A lease much longer than the test: a retry that finds the lock free proves the runner released it.
LEASE_SECONDS = 120


def ledger_pid(ledger: Path, what: str) -> int | None:
    for line in ledger.read_text().splitlines() if ledger.exists() else []:
        head, _, pid = line.rpartition(" ")
        if head == what:
            return int(pid)
    return None


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


@pytest.fixture(params=["file", "luigid"])
def lock_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "file":
        yield f"file://{tmp_path / 'locks'}"
        return
    servers = LuigidServers(tmp_path / "luigid")
    (tmp_path / "luigid").mkdir()
    try:
        yield servers.url(LEASE_SECONDS)
    finally:
        servers.stop()


def test_the_runner_dies_with_its_airflow_task_process(airflow_home: Any, tmp_path: Path, lock_url: str) -> None:
    data, ledger = tmp_path / "data", tmp_path / "ledger.txt"
    data.mkdir()
    env = {"SHIM_DATA": str(data), "SHIM_LEDGER": str(ledger), "LUIGI_FARGATE_LOCK": lock_url}
    proc = luigi_fargate("export", "shim_tasks.Slow", "--out", str(airflow_home.dags))
    assert proc.returncode == 0, proc.stderr
    airflow = subprocess.Popen(
        [str(BIN / "airflow"), "dags", "test", "shim_tasks_slow", "2026-11-01"], env=airflow_home.env(**env),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    runner: int | None = None
    try:
        deadline = time.monotonic() + 120
        while (runner := ledger_pid(ledger, "run Slow")) is None:
            assert airflow.poll() is None and time.monotonic() < deadline, "the runner never started its task"
            time.sleep(0.1)
        task_process = parent_of(runner)
        os.kill(task_process, signal.SIGKILL)
        killed_at = time.monotonic()
        while alive(runner) and time.monotonic() - killed_at < 10:
            time.sleep(0.1)
        assert not alive(runner), "the runner outlived its Airflow task process"
        assert time.monotonic() - killed_at < 5
        assert ledger_pid(ledger, "cleanup Slow") == runner  # SIGTERM: the task's own cleanup ran
        assert not (data / "slow.txt").exists()  # no output written after Airflow lost the task
        # The runner released its lock: the next try runs at once (exit 7 if it were still held).
        retry = luigi_fargate("run", "--allow-any", "--on-locked", "fail", "shim_tasks", "Slow", "--seconds", "0",
                              env={**os.environ, **airflow_home.env(**env)})  # fmt: skip
        assert retry.returncode == 0, retry.stderr
    finally:
        for pid in (runner, airflow.pid):
            if pid is not None and alive(pid):
                os.kill(pid, signal.SIGKILL)
        airflow.wait(30)
