"""The shared poller under a bad day: throttling, a bad task among good ones, a task briefly missing.

Deferred operators against moto's server, their triggers run by Airflow's own
TriggerRunner in one event loop. Errors are injected on moto's side (its
DescribeTasks handler), where a real account's throttling would come from.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from tests.fargate import driver, specs
from tests.fargate.conftest import FakeFargate
from tests.fargate.triggerer import Triggerer, TriggerTI, captured_trigger_logs

FAST = {"describe_tasks_per_second": 20.0, "get_log_events_per_second": 20.0}


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_bridge.triggers import cluster_poller

    monkeypatch.setattr(cluster_poller, "BACKOFF_BASE_SECONDS", 0.05)


def defer_tasks(fargate: FakeFargate, tmp_path: Path, n: int, **runner: Any) -> list[tuple[Any, dict[str, Any], Any]]:
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, **{**FAST, **runner})
    return [driver.defer(spec, specs.TASK, tmp_path / f"state{i}.json", run_id=f"{driver.RUN_ID}-{i}") for i in range(n)]


def failing_describe(monkeypatch: pytest.MonkeyPatch, should_fail) -> list[list[str]]:  # noqa: ANN001 - (call number, arns) -> error or None
    """moto's DescribeTasks answers with the error ``should_fail`` returns (None: the real answer)."""
    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.describe_tasks
    calls: list[list[str]] = []

    def describe(self):  # noqa: ANN001, ANN202 - moto's handler signature
        arns = json.loads(self.body)["tasks"]
        calls.append(arns)
        error = should_fail(len(calls), arns)
        if error is not None:
            raise error
        return original(self)

    monkeypatch.setattr(EC2ContainerServiceResponse, "describe_tasks", describe)
    return calls


def throttled() -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("ThrottlingException", "Rate exceeded")


async def run_triggers(deferred: list[tuple[Any, dict[str, Any], Any]], while_waiting, timeout: float = 60) -> dict[int, dict]:  # noqa: ANN001
    triggerer = Triggerer()
    for i, (_, context, d) in enumerate(deferred):
        ti = context["ti"]
        triggerer.start(i, d.trigger, TriggerTI(ti.dag_id, ti.run_id, ti.task_id))
    await while_waiting(triggerer)
    return await triggerer.wait_for(list(range(len(deferred))), timeout)


def test_throttled_describe_tasks_never_decide_a_verdict(fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the DescribeTasks calls are throttled, the first five in a row: every trigger still waits for
    its own task to stop, and every Airflow verdict is that task's true outcome."""
    deferred = defer_tasks(fargate, tmp_path, 4)
    calls = failing_describe(monkeypatch, lambda n, arns: throttled() if n <= 5 or n % 2 else None)
    arns = [d.trigger.task_arn for *_, d in deferred]
    outcomes = [{"exit_code": 0}, {"exit_code": 5}, {"exit_code": 0}, {"exit_code": 0, "stop_code": "SpotInterruption"}]

    async def meanwhile(triggerer: Triggerer) -> None:
        deadline = time.monotonic() + 30  # many throttled rounds while the tasks run (fewer per second under load)
        while len(calls) <= 8 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert triggerer.events() == {}, "a trigger fired while its ECS task was running"
        for arn, outcome in zip(arns, outcomes, strict=True):
            fargate.write_logs(arn, ["working", "done"])
            fargate.stop(arn, **outcome)

    events = asyncio.run(run_triggers(deferred, meanwhile))
    assert len(calls) > 8  # throttled calls were asked again
    assert [events[i]["status"] for i in range(4)] == ["stopped"] * 4
    verdicts = []
    for (op, context, d), i in zip(deferred, range(4), strict=True):
        try:
            driver.resume(op, context, d, events[i])
            verdicts.append("success")
        except AirflowException as exc:
            verdicts.append(str(exc).splitlines()[0])
    assert verdicts[0] == verdicts[2] == "success"
    assert "exit 5: task failed" in verdicts[1] and "Fargate Spot interruption" in verdicts[3]


def test_one_task_that_breaks_describe_tasks_does_not_hold_up_the_others(
    fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that includes the bad ARN fails (not transient): the batch is split until the bad task is
    alone; the others resolve; the bad one resolves with an error only after GIVE_UP_SECONDS, and its
    operator then stops the ECS task rather than leave it unwatched."""
    from moto.core.exceptions import JsonRESTError

    from airflow_bridge.triggers import cluster_poller

    monkeypatch.setattr(cluster_poller, "GIVE_UP_SECONDS", 1.5)
    deferred = defer_tasks(fargate, tmp_path, 4)
    arns = [d.trigger.task_arn for *_, d in deferred]
    bad = arns[2]
    failing_describe(monkeypatch, lambda n, batch: JsonRESTError("InvalidParameterException", "bad task") if bad in batch else None)

    async def meanwhile(triggerer: Triggerer) -> None:
        for arn in arns:
            fargate.stop(arn, exit_code=0)

    events = asyncio.run(run_triggers(deferred, meanwhile))
    assert [events[i]["status"] for i in (0, 1, 3)] == ["stopped"] * 3
    assert events[2]["status"] == "error" and "InvalidParameterException" in events[2]["message"]
    op, context, d = deferred[2]
    fargate.backend.tasks["luigi"][bad].last_status = "RUNNING"  # still running, as far as anyone knows
    with pytest.raises(AirflowException, match="waiting for ECS task .* failed: InvalidParameterException"):
        driver.resume(op, context, d, events[2])
    assert fargate.backend.tasks["luigi"][bad].desired_status == "STOPPED"


def test_a_task_missing_once_is_not_gone(fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MISSING resolves a trigger only when a later call, at least MISSING_CONFIRM_SECONDS later, says so too."""
    from airflow_bridge.hooks import ecs as ecs_calls

    monkeypatch.setattr(ecs_calls, "MISSING_CONFIRM_SECONDS", 1.0)
    deferred = defer_tasks(fargate, tmp_path, 2)
    glitchy, gone = (d.trigger.task_arn for *_, d in deferred)
    tasks = fargate.backend.tasks["luigi"]

    async def meanwhile(triggerer: Triggerer) -> None:
        hidden = tasks.pop(glitchy)  # eventual consistency: briefly not there
        await asyncio.sleep(0.6)
        tasks[glitchy] = hidden
        del tasks[gone]  # gone for good (stopped over an hour ago)
        await asyncio.sleep(1.5)
        assert 0 not in triggerer.events()
        fargate.stop(glitchy, exit_code=0)

    events = asyncio.run(run_triggers(deferred, meanwhile))
    assert events[0]["status"] == "stopped" and events[1]["status"] == "missing"
    op, context, d = deferred[1]
    with pytest.raises(AirflowException, match="is gone from cluster luigi .* its outcome is unknown"):
        driver.resume(op, context, d, events[1])


def test_log_lines_land_in_their_own_task_instance_log(fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow files a trigger's log lines by the trigger id bound in its context: each task's container
    lines must be logged under its own trigger's id, and the poller's own messages under none."""
    deferred = defer_tasks(fargate, tmp_path, 3)
    arns = [d.trigger.task_arn for *_, d in deferred]
    failing_describe(monkeypatch, lambda n, arns: throttled() if n == 3 else None)
    for i, arn in enumerate(arns):
        fargate.write_logs(arn, [f"line of task {i}"])
        fargate.backend.tasks["luigi"][arn].last_status = "RUNNING"

    async def meanwhile(triggerer: Triggerer) -> None:
        await asyncio.sleep(1.5)
        for arn in arns:
            fargate.stop(arn, exit_code=0)

    with captured_trigger_logs() as lines:
        asyncio.run(run_triggers(deferred, meanwhile))
    container = [line for line in lines if line.message.startswith("[luigi] line of task")]
    assert sorted((line.message, line.trigger_id) for line in container) == [(f"[luigi] line of task {i}", i) for i in range(3)]
    poller = [line for line in lines if line.message.startswith("DescribeTasks on luigi failed")]
    assert poller and all(line.trigger_id is None for line in poller)
