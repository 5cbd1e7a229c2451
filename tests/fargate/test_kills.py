"""Kills: which ones stop the ECS task (timeouts, "mark failed", clear) and which don't (a worker going away).

Deferred: the trigger's on_kill through Airflow's own TriggerRunner (cancel with the user-action
message), and the operator resumed with ``__fail__`` as after a deferral timeout. Synchronous: real
``airflow dags test`` processes, killed with a real SIGTERM or timed out by Airflow's own alarm.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, TriggerFailureReason
from airflow.sdk.exceptions import TaskDeferralTimeout, TaskDeferred

from tests.conftest import BIN
from tests.fargate import driver, specs
from tests.fargate.conftest import FakeFargate, conn_env
from tests.fargate.triggerer import Triggerer, TriggerTI


def airflow_says(monkeypatch: pytest.MonkeyPatch, state: str | None) -> list[tuple[str, ...]]:
    """What the Execution API answers for the task instance's state (the triggerer's supervisor channel)."""
    from airflow_bridge.hooks import airflow_state

    asked: list[tuple[str, ...]] = []

    def lookup(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str | None:
        asked.append((dag_id, run_id, task_id))
        return state

    monkeypatch.setattr(airflow_state, "task_instance_state", lookup)
    return asked


@pytest.mark.parametrize(("state", "stops"), [("failed", True), ("success", True), (None, True), ("deferred", False)],
                         ids=["mark-failed", "mark-success", "cleared", "moved-to-another-triggerer"])  # fmt: skip
def test_a_user_action_on_a_deferred_task_stops_its_ecs_task(
    fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: str | None, stops: bool
) -> None:
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=True)
    _, context, deferred = driver.defer(spec, specs.TASK, tmp_path / "state.json")
    asked = airflow_says(monkeypatch, state)
    arn = deferred.trigger.task_arn

    async def triggerer() -> None:
        t = Triggerer()
        t.start(1, deferred.trigger, TriggerTI("ledger", driver.RUN_ID, specs.TASK))
        await asyncio.sleep(1.0)
        await t.kill(1)

    asyncio.run(triggerer())
    assert asked == [("ledger", driver.RUN_ID, specs.TASK)]
    task = fargate.tasks()[arn]
    assert (task.desired_status == "STOPPED") is stops
    if stops:
        assert "stopped from Airflow" in task.stopped_reason


def test_a_deferral_timeout_stops_the_ecs_task(fargate: FakeFargate, tmp_path: Path) -> None:
    """execution_timeout while deferred: Airflow resumes the task with __fail__/timeout; the ECS task must not outlive it."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=True,
                            node={"settings": {"execution_timeout_seconds": 600}})  # fmt: skip
    op, context, deferred = driver.defer(spec, specs.TASK, tmp_path / "state.json")
    assert deferred.timeout is not None and deferred.timeout.total_seconds() <= 600
    fresh, context = driver.prepare(spec, specs.TASK, tmp_path / "state.json")  # a new worker resumes it
    with pytest.raises(TaskDeferralTimeout):
        fresh.resume_execution(TRIGGER_FAIL_REPR, {"error": TriggerFailureReason.TRIGGER_TIMEOUT}, context)
    task = fargate.tasks()[deferred.trigger.task_arn]
    assert task.desired_status == "STOPPED" and "execution_timeout" in task.stopped_reason


def test_a_failed_trigger_is_no_verdict_on_the_ecs_task(fargate: FakeFargate, tmp_path: Path) -> None:
    """__fail__ because the trigger crashed: a task still running is waited for again; one that
    stopped with exit 0 succeeds."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=True)
    _, _, deferred = driver.defer(spec, specs.TASK, tmp_path / "state.json")
    op, context = driver.prepare(spec, specs.TASK, tmp_path / "state.json")
    with pytest.raises(TaskDeferred):
        op.resume_execution(TRIGGER_FAIL_REPR, {"error": "Trigger failure", "traceback": ["boom"]}, context)
    fargate.stop(deferred.trigger.task_arn, exit_code=0)
    op, context = driver.prepare(spec, specs.TASK, tmp_path / "state.json")
    op.resume_execution(TRIGGER_FAIL_REPR, {"error": "Trigger failure", "traceback": ["boom"]}, context)
    assert fargate.tasks()[deferred.trigger.task_arn].desired_status == "STOPPED"  # by its own exit, not by us
    assert len(fargate.run_task_requests) == 1


# --- synchronous mode: real `airflow dags test` processes -------------------------------------


def sync_dag(fargate: FakeFargate, airflow_home: Any, tmp_path: Path, node: dict[str, Any] | None = None) -> None:
    from luigi_fargate.export.writer import DAG_STUB

    specs.write_spec(airflow_home.dags / f"{specs.DAG_ID}.json", fargate, node=node, deferrable=False)
    (airflow_home.dags / f"{specs.DAG_ID}.py").write_text(DAG_STUB.format(dag_id=specs.DAG_ID))


def start_dags_test(fargate: FakeFargate, airflow_home: Any) -> subprocess.Popen[str]:
    # The copied airflow.cfg names the template's database: point this home at its own copy.
    own_db = {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home.home / 'airflow.db'}"}
    return subprocess.Popen(
        [str(BIN / "airflow"), "dags", "test", specs.DAG_ID, "2026-11-01"], env=airflow_home.env(**conn_env(fargate.endpoint), **own_db),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_until_waiting(fargate: FakeFargate, proc: subprocess.Popen[str]) -> str:
    """The ECS task has started and the worker polls it."""
    deadline = time.monotonic() + 120
    while not fargate.tasks():
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "the task never started an ECS task"
        time.sleep(0.3)
    (arn,) = fargate.tasks()
    start = fargate.describes.get(arn, 0)
    while fargate.describes.get(arn, 0) < start + 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return arn


def finish(proc: subprocess.Popen[str]) -> str:
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    return out


@pytest.mark.parametrize("marked_failed", [False, True], ids=["worker-shutdown", "mark-failed"])
def test_sigterm_stops_the_ecs_task_only_when_airflow_no_longer_runs_the_task(
    fargate: FakeFargate, airflow_home: Any, tmp_path: Path, marked_failed: bool
) -> None:
    """SIGTERM reaches the task for a graceful worker shutdown and for "mark failed" alike; only the task
    instance's state in Airflow (read through the Execution API) tells them apart."""
    sync_dag(fargate, airflow_home, tmp_path)
    proc = start_dags_test(fargate, airflow_home)
    arn = wait_until_waiting(fargate, proc)
    if marked_failed:  # what the UI's "mark failed" writes before the supervisor sends SIGTERM
        with sqlite3.connect(airflow_home.home / "airflow.db", timeout=30) as db:
            updated = db.execute("UPDATE task_instance SET state = 'failed' WHERE dag_id = ? AND task_id = ?", (specs.DAG_ID, specs.TASK))
            assert updated.rowcount == 1
    os.kill(proc.pid, signal.SIGTERM)
    out = finish(proc)
    task = fargate.tasks()[arn]
    if marked_failed:
        assert task.desired_status == "STOPPED" and "Airflow task instance is failed" in task.stopped_reason, out[-3000:]
    else:
        assert task.desired_status == "RUNNING", out[-3000:]
        assert "keeps running and the next try reattaches to it" in out


def test_execution_timeout_in_sync_mode_stops_the_ecs_task(fargate: FakeFargate, airflow_home: Any, tmp_path: Path) -> None:
    sync_dag(fargate, airflow_home, tmp_path, node={"settings": {"execution_timeout_seconds": 4}})
    proc = start_dags_test(fargate, airflow_home)
    arn = wait_until_waiting(fargate, proc)
    out = finish(proc)
    task = fargate.tasks()[arn]
    assert task.desired_status == "STOPPED" and "execution_timeout" in task.stopped_reason, out[-3000:]


def test_a_second_cancel_does_not_cut_on_kill_short(fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The triggerer re-sends the cancel at each sync until the trigger is gone: on_kill must finish anyway."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=True)
    _, _, deferred = driver.defer(spec, specs.TASK, tmp_path / "state.json")
    from airflow_bridge.hooks import airflow_state

    def slow_answer(*_: Any) -> str:
        time.sleep(1.5)  # the supervisor is busy
        return "failed"

    monkeypatch.setattr(airflow_state, "task_instance_state", slow_answer)

    async def triggerer() -> None:
        t = Triggerer()
        t.start(1, deferred.trigger, TriggerTI("ledger", driver.RUN_ID, specs.TASK))
        await asyncio.sleep(1.0)
        from airflow.jobs.triggerer_job_runner import _USER_ACTION_CANCEL_MSG

        t.tasks[1].cancel(_USER_ACTION_CANCEL_MSG)
        await asyncio.sleep(0.5)
        t.tasks[1].cancel(_USER_ACTION_CANCEL_MSG)  # the next sync
        await asyncio.gather(t.tasks[1], return_exceptions=True)
        await asyncio.sleep(3)  # the triggerer's loop goes on

    asyncio.run(triggerer())
    assert fargate.tasks()[deferred.trigger.task_arn].desired_status == "STOPPED"
