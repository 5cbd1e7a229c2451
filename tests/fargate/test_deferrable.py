"""Deferrable mode: the worker slot is freed while waiting, and waiting tasks share DescribeTasks calls."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred

from tests.fargate import driver, specs
from tests.fargate.conftest import FakeFargate


def test_deferred_tasks_share_describe_tasks_calls_and_resume_with_the_verdict(
    fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    describe_calls: list[list[str]] = []
    original = EC2ContainerServiceResponse.describe_tasks

    def recording_describe(self):  # noqa: ANN001, ANN202 - moto's handler signature
        describe_calls.append(json.loads(self.body)["tasks"])
        return original(self)

    monkeypatch.setattr(EC2ContainerServiceResponse, "describe_tasks", recording_describe)

    deferred = []
    for n in range(3):
        spec = specs.write_spec(tmp_path / f"ledger{n}.json", fargate, deferrable=True)
        op, context = driver.prepare(spec, specs.TASK, tmp_path / f"state{n}.json")
        context["ti"].run_id = context["run_id"] = f"{driver.RUN_ID}-{n}"  # three task instances
        with pytest.raises(TaskDeferred) as deferral:
            op.execute(context)
        deferred.append((op, context, deferral.value))
    arns = list(fargate.tasks())
    assert len(arns) == 3 and len(fargate.run_task_requests) == 3
    assert {d.trigger.task_arn for *_, d in deferred} == set(arns)

    async def triggerer() -> list[dict]:
        runs = [asyncio.ensure_future(d.trigger.run().__anext__()) for *_, d in deferred]
        await asyncio.sleep(2.5)  # a few polling rounds while all three run
        fargate.stop(arns[0], exit_code=0)
        fargate.stop(arns[1], exit_code=5)
        fargate.stop(arns[2], exit_code=0, stop_code="SpotInterruption")
        return [(await r).payload for r in runs]

    describe_calls.clear()
    events = asyncio.run(triggerer())
    assert [e["status"] for e in events] == ["stopped"] * 3
    # every round asked about all waiting tasks in one call
    assert describe_calls and all(sorted(call) == sorted(arns) for call in describe_calls)

    for event in events:
        fargate.write_logs(event["task_arn"], ["a line from the container"])
    ok, failed, spot = ((op, context, d.method_name, e) for (op, context, d), e in zip(deferred, events, strict=True))
    getattr(ok[0], ok[2])(ok[1], ok[3])  # succeeds
    with pytest.raises(AirflowException, match="task failed"):
        getattr(failed[0], failed[2])(failed[1], failed[3])
    with pytest.raises(AirflowException, match="Spot interruption"):
        getattr(spot[0], spot[2])(spot[1], spot[3])
