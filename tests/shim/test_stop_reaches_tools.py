"""A runner that leads its own session (the local operator starts it so, behind the parent guard) passes SIGTERM
on to the processes its task started: when the Airflow task process dies, the kernel's parent-death SIGTERM
reaches the runner alone, and a tool its task runs (os.system, a shell) must not go on for minutes after
Airflow marked the task failed and after the runner gave up the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import BIN, base_env

MODULE = "tests.shim.runner_tasks"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigterm_to_a_session_leading_runner_stops_its_tasks_tool(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    env = base_env(RUNNER_TASKS_DATA=str(tmp_path), RUNNER_TASKS_LEDGER=str(ledger), LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}")
    runner = subprocess.Popen([str(BIN / "luigi-fargate"), "run", "--allow-any", MODULE, "StartsATool", "--seconds", "30"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while not (ledger.exists() and ledger.read_text().startswith("tool ")):
        assert time.monotonic() < deadline and runner.poll() is None, runner.stderr.read() if runner.stderr else ""
        time.sleep(0.05)
    tool = int(ledger.read_text().split()[1])
    os.kill(runner.pid, signal.SIGTERM)  # what PR_SET_PDEATHSIG sends: to the runner only, not its group
    assert runner.wait(10) == 143, runner.stderr.read() if runner.stderr else ""
    stopped = time.monotonic() + 5
    while _alive(tool) and time.monotonic() < stopped:
        time.sleep(0.05)
    assert not _alive(tool)
    assert not (tmp_path / "tool-done.txt").exists()
