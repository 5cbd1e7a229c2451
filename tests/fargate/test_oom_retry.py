"""Out-of-memory retries (issue #17.3) and what the container is told about its run (#17.1, #18.3, #18.9).

The AWS side is moto's server; the operator is the exported DAG's own, run by the test
driver as a worker would run it, try after try, with one task_state_store (a file) across
tries as Airflow keeps it. What is asserted is the RunTask request each try sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException
from hypothesis import given
from hypothesis import strategies as st

from airflow_bridge.operators.fargate_memory import TaskSize, next_size_up
from luigi_fargate.shim.events import EventLog
from luigi_fargate.spec.runner_log import TASK_EVENT
from luigi_fargate.validators import FARGATE_MEMORY_BY_CPU
from tests.fargate import driver, specs
from tests.fargate.conftest import AutoStop, FakeFargate

OOM = {"exit_code": 137, "container_reason": "OutOfMemoryError: Container killed due to memory usage"}
MODES = {"sync": {"deferrable": False}, "deferred": {"deferrable": True, "describe_tasks_per_second": 20.0, "get_log_events_per_second": 20.0}}
VALID = [TaskSize(cpu, memory) for cpu, memories in FARGATE_MEMORY_BY_CPU.items() for memory in memories]


def sizes(fake: FakeFargate) -> list[tuple[str, str]]:
    return [(r["overrides"]["cpu"], r["overrides"]["memory"]) for r in fake.run_task_requests]


def environment(request: dict[str, Any]) -> dict[str, str]:
    (container,) = request["overrides"]["containerOverrides"]
    return {e["name"]: e["value"] for e in container.get("environment", [])}


def tries(fake: FakeFargate, tmp_path: Path, outcomes: list[dict[str, Any]], node: dict[str, Any] | None = None,
          **runner: Any) -> list[str]:
    """Run try 1, 2, ... (one per outcome) of the task; the failure message of each failed try."""
    spec = specs.write_spec(tmp_path / "ledger.json", fake, node=node, **{**MODES["sync"], **runner})
    failures: list[str] = []
    with AutoStop(fake, outcomes):
        for try_number in range(1, len(outcomes) + 1):
            try:
                driver.run(spec, specs.TASK, tmp_path / "state.json", try_number)
            except AirflowException as exc:
                failures.append(str(exc))
    return failures


def test_the_retry_after_an_oom_stop_asks_for_the_next_memory_size_and_says_so(
    fargate: FakeFargate, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tries(fargate, tmp_path, [OOM, OOM, {"exit_code": 0}])
    # 1 vCPU / 3 GiB, out of memory -> 4 GiB, out of memory again -> 5 GiB (same CPU: it allows up to 8 GiB)
    assert sizes(fargate) == [("1024", "3072"), ("1024", "4096"), ("1024", "5120")]
    assert [environment(r)["LUIGI_FARGATE_MEMORY"] for r in fargate.run_task_requests] == ["3072", "4096", "5120"]
    assert [environment(r)["AIRFLOW_CTX_TRY_NUMBER"] for r in fargate.run_task_requests] == ["1", "2", "3"]
    log = capsys.readouterr().out
    assert "previous try stopped out of memory at 3072 MiB (cpu 1024); this try asks for 4096 MiB (cpu 1024)" in log
    assert "previous try stopped out of memory at 4096 MiB (cpu 1024); this try asks for 5120 MiB (cpu 1024)" in log


def test_memory_maxed_for_its_cpu_steps_the_cpu_up_within_the_ceiling(fargate: FakeFargate, tmp_path: Path) -> None:
    tries(fargate, tmp_path, [OOM, OOM, OOM], node={"size": {"cpu": 512, "memory": 4096}}, oom_memory_ceiling=5120)
    # 0.5 vCPU allows at most 4 GiB: 1 vCPU / 5 GiB; then the ceiling (5 GiB) keeps the size
    assert sizes(fargate) == [("512", "4096"), ("1024", "5120"), ("1024", "5120")]


@pytest.mark.parametrize(
    "first",
    [{"exit_code": 5}, {"exit_code": 137}, {"exit_code": 137, "container_reason": "Essential container exited"}],
    ids=["task-failed", "sigkill-without-oom-report", "other-reason"],
)
def test_a_failure_that_is_not_an_oom_stop_retries_with_the_same_size(
    fargate: FakeFargate, tmp_path: Path, first: dict[str, Any]
) -> None:
    tries(fargate, tmp_path, [first, {"exit_code": 0}])
    assert sizes(fargate) == [("1024", "3072"), ("1024", "3072")]


def test_ceiling_off_keeps_the_size(fargate: FakeFargate, tmp_path: Path) -> None:
    tries(fargate, tmp_path, [OOM, {"exit_code": 0}], oom_memory_ceiling=0)
    assert sizes(fargate) == [("1024", "3072"), ("1024", "3072")]


def test_an_oom_stop_the_dead_worker_never_saw_is_found_by_the_retry(fargate: FakeFargate, tmp_path: Path) -> None:
    """Try 1's worker died after RunTask (the ARN is recorded, no verdict): try 2 describes that task,
    finds the OOM stop and asks for more memory."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=False)
    op, context = driver.prepare(spec, specs.TASK, tmp_path / "state.json", 1)
    arn = op.submit_job(context)  # what try 1 got done before its worker went away
    context["task_state_store"].set(op.external_id_key, arn)
    fargate.stop(arn, **OOM)
    with AutoStop(fargate, [{"exit_code": 0}]):
        driver.run(spec, specs.TASK, tmp_path / "state.json", 2)
    assert sizes(fargate) == [("1024", "3072"), ("1024", "4096")]


@pytest.mark.parametrize("mode", MODES)
def test_failure_messages_name_this_runs_luigi_task_id(fargate: FakeFargate, tmp_path: Path, mode: str) -> None:
    """The runner's task event (its first line) names the run's id; the message uses it, not the export's."""
    import io

    line = io.StringIO()
    EventLog(stream=line).emit(TASK_EVENT, task_id="ExchangeRates_2026_12_03_f00", family="ExchangeRates")
    outcome = {"exit_code": 5, "logs": [line.getvalue().strip(), "RuntimeError: rates feed down"]}
    (failure,) = tries(fargate, tmp_path, [outcome], **MODES[mode])
    assert failure.startswith("Luigi task ExchangeRates (ExchangeRates_2026_12_03_f00): exit 5: task failed")
    assert "rates feed down" in failure
    assert "2026_11_01" not in failure.splitlines()[0]


@given(st.sampled_from(VALID), st.sampled_from([2048, 8192, 30720, 61440, 122880]))
def test_the_next_size_up_is_the_smallest_valid_size_with_more_memory(size: TaskSize, ceiling: int) -> None:
    bigger = next_size_up(size, ceiling)
    above = [s for s in VALID if s.cpu >= size.cpu and size.memory < s.memory <= ceiling]
    if bigger is None:
        assert above == []
        return
    assert bigger in VALID and bigger.cpu >= size.cpu and size.memory < bigger.memory <= ceiling
    assert all(s.memory > bigger.memory or (s.memory == bigger.memory and s.cpu >= bigger.cpu) for s in above)
