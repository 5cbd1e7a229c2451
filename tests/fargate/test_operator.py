"""The Fargate operator against moto's server over HTTP: the exact RunTask request, and what
happens for each way a task can end. Requests are recorded on moto's side (any process)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_bridge.operators.fargate import client_token
from tests.fargate import driver, specs
from tests.fargate.conftest import AutoStop, FakeFargate, JsonFileStateStore


def test_run_task_request_is_exactly_what_the_spec_says(fargate: FakeFargate, tmp_path: Path) -> None:
    spec = specs.write_spec(tmp_path / "ledger.json", fargate)
    with AutoStop(fargate, [{"exit_code": 0, "logs": ["rates written"]}]):
        _, ti = driver.run(spec, specs.TASK, tmp_path / "state.json")

    assert len(fargate.run_task_requests) == 1
    request = fargate.run_task_requests[0]
    assert request == {
        "cluster": "luigi",
        "taskDefinition": "luigi-pipelines",
        "overrides": {
            "containerOverrides": [
                {
                    "name": "luigi", "command": ["examples.pipeline", "ExchangeRates", "--date=2026-11-01"],
                    # where the run sits in Airflow, and the size it was given (the runner's events report both)
                    "environment": [
                        {"name": "AIRFLOW_CTX_DAG_ID", "value": "ledger"},
                        {"name": "AIRFLOW_CTX_DAG_RUN_ID", "value": driver.RUN_ID},
                        {"name": "AIRFLOW_CTX_TASK_ID", "value": specs.TASK},
                        {"name": "AIRFLOW_CTX_TRY_NUMBER", "value": "1"},
                        {"name": "LUIGI_FARGATE_CPU", "value": "1024"},
                        {"name": "LUIGI_FARGATE_MAP_INDEX", "value": "-1"},
                        {"name": "LUIGI_FARGATE_MEMORY", "value": "3072"},
                    ],
                }
            ],
            "cpu": "1024",
            "memory": "3072",
            "ephemeralStorage": {"sizeInGiB": 30},
        },
        "startedBy": request["startedBy"],
        "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": [fargate.subnet], "securityGroups": [fargate.security_group], "assignPublicIp": "DISABLED",
            }
        },
        "tags": [
            {"key": "team", "value": "ledger"},
            {"key": "owner", "value": "ledger-team@example.com"},
            {"key": "dag_id", "value": "ledger"},
            {"key": "luigi_family", "value": "ExchangeRates"},
            {"key": "airflow_run_id", "value": driver.RUN_ID},
            {"key": "airflow_task_id", "value": specs.TASK},
            {"key": "airflow_try_number", "value": "1"},
        ],
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
        "clientToken": client_token("ledger", specs.TASK, driver.RUN_ID, -1, 1),
    }  # fmt: skip
    assert len(request["clientToken"]) <= 64
    started_by = request["startedBy"]
    assert len(started_by) <= 128 and all(c.isalnum() or c in "-/_" for c in started_by)
    # the extra link points at the task's log stream
    arn = next(iter(fargate.tasks()))
    assert ti.xcom["cloudwatch_events"]["awslogs_stream_name"] == fargate.stream_name(arn)


def test_spot_is_opt_in_and_a_spot_interruption_is_retried_even_with_exit_0(fargate: FakeFargate, tmp_path: Path) -> None:
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, node={"settings": {"capacity": "FARGATE_SPOT"}})
    outcome = {"exit_code": 0, "stop_code": "SpotInterruption", "reason": "Your Spot Task was interrupted."}
    with AutoStop(fargate, [outcome]), pytest.raises(AirflowException) as failure:
        driver.run(spec, specs.TASK, tmp_path / "state.json")
    assert fargate.run_task_requests[0]["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    assert not isinstance(failure.value, AirflowFailException)  # Airflow retries it
    assert "Fargate Spot interruption" in str(failure.value)


@pytest.mark.parametrize(
    ("outcome", "words", "final"),
    [
        ({"exit_code": 4, "logs": ["ExchangeRates: dependency missing: data/2026-11-01/x.csv"]},
         ["upstream incomplete", "dependency missing: data/2026-11-01/x.csv", "console.aws.amazon.com/cloudwatch"], False),
        ({"exit_code": 137, "container_reason": "OutOfMemoryError: Container killed due to memory usage"},
         ["out of memory (exit 137", "OutOfMemoryError"], False),
        ({"exit_code": None, "stop_code": "TaskFailedToStart",
          "reason": "ResourceInitializationError: CannotPullContainerError: pull image manifest has been retried 1 time(s)"},
         ["image could not be pulled"], False),
        ({"exit_code": 3}, ["task not allowed or not found in this image"], True),
    ],
    ids=["upstream-incomplete", "out-of-memory", "image-pull", "not-allowed"],
)
def test_failures_are_told_in_words_with_the_last_log_lines(
    fargate: FakeFargate, tmp_path: Path, outcome: dict, words: list[str], final: bool
) -> None:
    spec = specs.write_spec(tmp_path / "ledger.json", fargate)
    with AutoStop(fargate, [outcome]), pytest.raises(AirflowException) as failure:
        driver.run(spec, specs.TASK, tmp_path / "state.json")
    message = str(failure.value)
    assert message.startswith("Luigi task ExchangeRates (exported as ExchangeRates_2026_11_01_abc; this run's id was not reported): ")
    for word in words:
        assert word in message
    assert isinstance(failure.value, AirflowFailException) is final


def test_run_task_throttling_and_capacity_failures_are_retried(
    fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First RunTask: no capacity (a failures entry); second: throttled; third: started."""
    from moto.core.exceptions import JsonRESTError
    from moto.ecs.responses import EC2ContainerServiceResponse

    recording = EC2ContainerServiceResponse.run_task
    calls = {"n": 0}

    def flaky_run_task(self):  # noqa: ANN001, ANN202 - moto's handler signature
        calls["n"] += 1
        if calls["n"] == 1:
            fargate.run_task_requests.append(json.loads(self.body))
            return json.dumps({"tasks": [], "failures": [{"reason": "Capacity is unavailable at this time. Please try again later"}]})
        if calls["n"] == 2:
            fargate.run_task_requests.append(json.loads(self.body))
            raise JsonRESTError("ThrottlingException", "Rate exceeded")
        return recording(self)

    monkeypatch.setattr(EC2ContainerServiceResponse, "run_task", flaky_run_task)
    # botocore would retry throttling by itself a few times; one attempt shows ours
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    spec = specs.write_spec(tmp_path / "ledger.json", fargate)
    with AutoStop(fargate, [{"exit_code": 0}]):
        driver.run(spec, specs.TASK, tmp_path / "state.json")
    tokens = [r["clientToken"] for r in fargate.run_task_requests]
    assert len(tokens) == 3 and len(fargate.tasks()) == 1
    # nothing started after a capacity failure: a new token; a throttled request is re-sent as is
    assert tokens[0] != tokens[1] and tokens[1] == tokens[2]


# --- crash safety: what a retry does with the ECS task of an earlier try -----------------


def _earlier_try(fargate: FakeFargate, tmp_path: Path) -> tuple[Path, str, Path]:
    """Try 1 started an ECS task and recorded it, then its worker died."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate)
    ecs = fargate.client("ecs")
    arn = ecs.run_task(
        cluster="luigi", taskDefinition="luigi-pipelines", capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": [fargate.subnet], "securityGroups": [fargate.security_group]}},
    )["tasks"][0]["taskArn"]  # fmt: skip
    state = tmp_path / "state.json"
    store = JsonFileStateStore(state)
    store.set("ecs_client_token", {"token": "t1", "arn": arn})
    store.set("ecs_task_arn", arn)
    fargate.run_task_requests.clear()
    return spec, arn, state


def test_retry_reattaches_to_a_task_still_running(fargate: FakeFargate, tmp_path: Path) -> None:
    spec, arn, state = _earlier_try(fargate, tmp_path)
    fargate.write_logs(arn, ["still working"])
    auto = AutoStop(fargate, [{"exit_code": 0, "logs": ["finished"]}], after_describes=2)
    auto.seen.discard(arn)
    with auto:
        driver.run(spec, specs.TASK, state, try_number=2)
    assert fargate.run_task_requests == [] and auto.stopped == [arn]


def test_retry_of_a_task_that_already_succeeded_does_not_rerun_it(fargate: FakeFargate, tmp_path: Path) -> None:
    spec, arn, state = _earlier_try(fargate, tmp_path)
    fargate.stop(arn, exit_code=0)
    driver.run(spec, specs.TASK, state, try_number=2)
    assert fargate.run_task_requests == []


def test_retry_of_a_failed_task_starts_a_new_one(fargate: FakeFargate, tmp_path: Path) -> None:
    spec, arn, state = _earlier_try(fargate, tmp_path)
    fargate.stop(arn, exit_code=5)
    with AutoStop(fargate, [{"exit_code": 0}]):
        driver.run(spec, specs.TASK, state, try_number=2)
    assert [r["clientToken"] for r in fargate.run_task_requests] == [client_token("ledger", specs.TASK, driver.RUN_ID, -1, 2)]
    assert JsonFileStateStore(state).get("ecs_task_arn") != arn


def test_a_start_that_was_never_recorded_is_resent_with_the_same_client_token(fargate: FakeFargate, tmp_path: Path) -> None:
    """The worker died between RunTask and recording the ARN: ECS de-duplicates on the token."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate)
    state = tmp_path / "state.json"
    JsonFileStateStore(state).set("ecs_client_token", {"token": "token-of-try-1", "arn": None})
    with AutoStop(fargate, [{"exit_code": 0}]):
        driver.run(spec, specs.TASK, state, try_number=2)
    assert [r["clientToken"] for r in fargate.run_task_requests] == ["token-of-try-1"]


def test_a_recorded_token_that_conflicts_adopts_the_task_it_started(
    fargate: FakeFargate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ECS answers ConflictException when a token comes back with other parameters (the spec
    changed between the crash and the retry): the retry adopts the task that token started."""
    from moto.core.exceptions import JsonRESTError
    from moto.ecs.responses import EC2ContainerServiceResponse

    spec = specs.write_spec(tmp_path / "ledger.json", fargate)
    state = tmp_path / "state.json"
    JsonFileStateStore(state).set("ecs_client_token", {"token": "token-of-try-1", "arn": None})
    # try 1's task, started before its worker died
    from airflow.providers.amazon.aws.utils.identifiers import generate_uuid

    started = fargate.client("ecs").run_task(
        cluster="luigi", taskDefinition="luigi-pipelines", startedBy=generate_uuid("ledger", specs.TASK, driver.RUN_ID, "-1"),
        capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": [fargate.subnet], "securityGroups": [fargate.security_group]}},
    )["tasks"][0]["taskArn"]  # fmt: skip
    fargate.run_task_requests.clear()

    def conflicting_run_task(self):  # noqa: ANN001, ANN202 - moto's handler signature
        fargate.run_task_requests.append(json.loads(self.body))
        raise JsonRESTError("ConflictException", "The clientToken was used with different parameters")

    monkeypatch.setattr(EC2ContainerServiceResponse, "run_task", conflicting_run_task)

    def finish_once_adopted() -> None:
        while JsonFileStateStore(state).get("ecs_task_arn") != started:
            time.sleep(0.1)
        fargate.stop(started, exit_code=0)

    threading.Thread(target=finish_once_adopted, daemon=True).start()
    driver.run(spec, specs.TASK, state, try_number=2)
    assert [r["clientToken"] for r in fargate.run_task_requests] == ["token-of-try-1"]
    assert list(fargate.tasks()) == [started]
