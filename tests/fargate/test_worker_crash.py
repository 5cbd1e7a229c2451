"""A worker that dies while waiting must not cause a second ECS task: a real process, a real SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import base_env
from tests.fargate import driver, specs
from tests.fargate.conftest import AutoStop, FakeFargate, JsonFileStateStore, conn_env


def test_killed_worker_then_retry_reattaches_without_a_second_run_task(fargate: FakeFargate, tmp_path: Path) -> None:
    spec = specs.write_spec(tmp_path / "ledger.json", fargate)
    state = tmp_path / "state.json"
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.fargate.driver", str(spec), specs.TASK, str(state), "1"],
        env=base_env(**conn_env(fargate.endpoint)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (fargate.tasks() and JsonFileStateStore(state).get("ecs_task_arn")):
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            assert time.monotonic() < deadline, "the worker never started an ECS task"
            time.sleep(0.2)
        time.sleep(1.5)  # the worker is now waiting (polling DescribeTasks)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    assert worker.returncode == -signal.SIGKILL
    (arn,) = fargate.tasks()
    assert fargate.tasks()[arn].last_status == "RUNNING"
    assert len(fargate.run_task_requests) == 1

    seen_by_try_1 = fargate.describes.get(arn, 0)
    # stopped only after the retry asked about it twice: it must reattach and wait, not find it done
    auto = AutoStop(fargate, [{"exit_code": 0, "logs": ["done"]}], after_describes=seen_by_try_1 + 2)
    auto.seen.discard(arn)
    with auto:
        driver.run(spec, specs.TASK, state, try_number=2)
    assert len(fargate.run_task_requests) == 1, "the retry started a duplicate ECS task"
    assert auto.stopped == [arn]
