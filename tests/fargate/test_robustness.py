"""What a bad day at AWS must not change: throttling never becomes a verdict, logs never decide one,
a full vCPU quota waits, a Spot interruption can run again on on-demand capacity, run-time tags stay valid.

Both waiting modes where it matters: ``sync`` (the worker polls) and ``deferred`` (the trigger polls;
``driver.run`` plays the triggerer and resumes the operator with the event, as Airflow does).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from luigi_fargate import validators
from tests.fargate import driver, specs
from tests.fargate.conftest import AutoStop, FakeFargate
from tests.fargate.triggerer import captured_trigger_logs

MODES = {"sync": {"deferrable": False}, "deferred": {"deferrable": True, "describe_tasks_per_second": 20.0, "get_log_events_per_second": 20.0}}


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_bridge.operators import fargate_wait
    from airflow_bridge.triggers import cluster_poller

    monkeypatch.setattr(fargate_wait, "BACKOFF_BASE_SECONDS", 0.05)
    monkeypatch.setattr(cluster_poller, "BACKOFF_BASE_SECONDS", 0.05)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's own retries would hide the throttling


def moto_fails(monkeypatch: pytest.MonkeyPatch, service: str, action: str, should_fail) -> list[dict[str, Any]]:  # noqa: ANN001
    """moto's ``action`` handler answers with the error ``should_fail(call number, body)`` returns."""
    if service == "ecs":
        from moto.ecs.responses import EC2ContainerServiceResponse as Response
    else:
        from moto.logs.responses import LogsResponse as Response
    original = getattr(Response, action)
    bodies: list[dict[str, Any]] = []

    def handler(self):  # noqa: ANN001, ANN202 - moto's handler signature
        bodies.append(json.loads(self.body))
        error = should_fail(len(bodies), bodies[-1])
        if error is not None:
            raise error
        return original(self)

    monkeypatch.setattr(Response, action, handler)
    return bodies


def throttled() -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("ThrottlingException", "Rate exceeded")


@pytest.mark.parametrize("mode", MODES)
def test_throttled_describe_tasks_while_the_task_runs_never_fail_it(
    fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Four throttled DescribeTasks in a row, then every other one: the Airflow task waits and succeeds."""
    calls = moto_fails(monkeypatch, "ecs", "describe_tasks", lambda n, _: throttled() if n <= 4 or n % 2 else None)
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, **MODES[mode])
    with AutoStop(fargate, [{"exit_code": 0}], after_describes=3):
        driver.run(spec, specs.TASK, tmp_path / "state.json")
    assert len(calls) >= 7


@pytest.mark.parametrize(("exit_code", "verdict"), [(0, None), (5, "exit 5: task failed")])
def test_throttled_log_reads_at_resume_never_change_the_verdict(
    fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int, verdict: str | None
) -> None:
    """The trigger could not read the end of the log (its event says so); at resume, three throttled
    GetLogEvents in a row: exit 0 is still a success, exit 5 still fails with its words."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=True)
    op, context, deferred = driver.defer(spec, specs.TASK, tmp_path / "state.json")
    arn = deferred.trigger.task_arn
    fargate.write_logs(arn, ["the last line"])
    fargate.stop(arn, exit_code=exit_code)
    from airflow_bridge.hooks.ecs import describe_tasks, task_summary

    task = task_summary(describe_tasks(fargate.client("ecs"), "luigi", [arn]).found[arn])
    stream = {"group": deferred.trigger.log_group, "stream": deferred.trigger.log_stream, "token": None, "tail": [], "complete": False}
    reads = moto_fails(monkeypatch, "logs", "get_log_events", lambda n, _: throttled())
    event = {"status": "stopped", "task_arn": arn, "cluster": "luigi", "task": task, "log": stream}
    if verdict is None:
        driver.resume(op, context, deferred, event)
    else:
        with pytest.raises(AirflowException, match=verdict):
            driver.resume(op, context, deferred, event)
    assert len(reads) >= 3


def test_resume_reads_only_what_the_trigger_had_not_read(fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=True)
    op, context, deferred = driver.defer(spec, specs.TASK, tmp_path / "state.json")
    arn = deferred.trigger.task_arn
    fargate.write_logs(arn, ["read by the trigger"])
    logs = fargate.client("logs")
    seen = logs.get_log_events(logGroupName=deferred.trigger.log_group, logStreamName=deferred.trigger.log_stream, startFromHead=True)
    fargate.write_logs(arn, ["written after the trigger's last read"])
    fargate.stop(arn, exit_code=0)
    from airflow_bridge.hooks.ecs import describe_tasks, task_summary

    task = task_summary(describe_tasks(fargate.client("ecs"), "luigi", [arn]).found[arn])
    stream = {"group": deferred.trigger.log_group, "stream": deferred.trigger.log_stream, "token": seen["nextForwardToken"],
              "tail": ["read by the trigger"], "complete": False}  # fmt: skip
    reads = moto_fails(monkeypatch, "logs", "get_log_events", lambda n, _: None)
    with captured_trigger_logs() as lines:
        driver.resume(op, context, deferred, {"status": "stopped", "task_arn": arn, "cluster": "luigi", "task": task, "log": stream})
    assert reads and all(r.get("nextToken") == seen["nextForwardToken"] for r in reads[:1])
    printed = [line.message for line in lines if line.message.startswith("[luigi] ")]
    assert printed == ["[luigi] written after the trigger's last read"]


def test_the_sync_wait_streams_the_log_while_the_task_runs(fargate: FakeFargate, tmp_path: Path) -> None:
    """A line the container writes while it runs is in the Airflow task log before the task stops."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=False)
    failure: list[str] = []

    def play_fargate(lines: list[Any]) -> None:
        deadline = time.monotonic() + 30
        while not fargate.tasks():
            time.sleep(0.1)
        (arn,) = fargate.tasks()
        fargate.write_logs(arn, ["halfway there"])
        while not any(line.message == "[luigi] halfway there" for line in lines):
            if time.monotonic() > deadline:
                failure.append("the line never reached the task log while the task ran")
                break
            time.sleep(0.1)
        fargate.write_logs(arn, ["all done"])
        fargate.stop(arn, exit_code=0)

    with captured_trigger_logs() as lines:
        player = threading.Thread(target=play_fargate, args=(lines,), daemon=True)
        player.start()
        driver.run(spec, specs.TASK, tmp_path / "state.json")
        player.join(10)
    assert failure == []
    printed = [line.message for line in lines if line.message.startswith("[luigi] ")]
    assert printed == ["[luigi] halfway there", "[luigi] all done"]


QUOTA = "You’ve reached the limit on the number of vCPUs you can run concurrently"


@pytest.mark.parametrize("how", ["failures-entry", "client-error"])
def test_a_full_vcpu_quota_is_waited_out_like_missing_capacity(
    fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    from moto.core.exceptions import JsonRESTError

    def quota(n: int, _: Any) -> Exception | None:
        if n > 2:
            return None
        if how == "client-error":
            return JsonRESTError("InvalidParameterException", QUOTA)
        raise _QuotaAnswer()

    from moto.ecs.responses import EC2ContainerServiceResponse

    original = EC2ContainerServiceResponse.run_task
    calls = {"n": 0}

    def run_task(self):  # noqa: ANN001, ANN202 - moto's handler signature
        calls["n"] += 1
        fargate.run_task_requests.append(json.loads(self.body))
        try:
            error = quota(calls["n"], None)
        except _QuotaAnswer:
            return json.dumps({"tasks": [], "failures": [{"arn": "", "reason": QUOTA}]})
        if error is not None:
            raise error
        return original(self)

    monkeypatch.setattr(EC2ContainerServiceResponse, "run_task", run_task)
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=False)
    with AutoStop(fargate, [{"exit_code": 0}]):
        driver.run(spec, specs.TASK, tmp_path / "state.json")
    assert calls["n"] == 3 and len(fargate.tasks()) == 1


class _QuotaAnswer(Exception):
    """RunTask answered with a failures entry (HTTP 200), not an error."""


@pytest.mark.parametrize("mode", MODES)
def test_a_spot_interruption_reruns_on_on_demand_capacity_when_configured(fargate: FakeFargate, tmp_path: Path, mode: str) -> None:
    spec = specs.write_spec(
        tmp_path / "ledger.json", fargate, node={"settings": {"capacity": "FARGATE_SPOT"}}, spot_fallback_to_on_demand=True, **MODES[mode]
    )
    spot = {"exit_code": 143, "stop_code": "SpotInterruption", "reason": "Your Spot Task was interrupted."}
    with AutoStop(fargate, [spot, {"exit_code": 0}]):
        driver.run(spec, specs.TASK, tmp_path / "state.json")
    strategies = [r["capacityProviderStrategy"] for r in fargate.run_task_requests]
    assert strategies == [[{"capacityProvider": "FARGATE_SPOT", "weight": 1}], [{"capacityProvider": "FARGATE", "weight": 1}]]
    assert len({r["clientToken"] for r in fargate.run_task_requests}) == 2


def test_run_time_tag_values_are_made_valid(fargate: FakeFargate, tmp_path: Path) -> None:
    """Airflow allows ``~`` in run ids (its default allowed_run_id_pattern); ECS refuses it in a tag."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=True)
    driver.defer(spec, specs.TASK, tmp_path / "state.json", run_id="manual__2026-11-01~rerun")
    tags = {t["key"]: t["value"] for t in fargate.run_task_requests[0]["tags"]}
    assert tags["airflow_run_id"] == "manual__2026-11-01_rerun"
    assert all(validators.is_tag_text(k) and validators.is_tag_text(v) for k, v in tags.items())
