"""Every way an ECS task can stop, in plain words (no AWS needed: DescribeTasks entries as ECS sends them)."""

from __future__ import annotations

import pytest

from airflow_bridge.operators.ecs_outcome import classify, is_retryable_start_failure
from luigi_fargate.exit_codes import MEANINGS, ExitCode


def stopped(exit_code: int | None, stop_code: str = "EssentialContainerExited", reason: str = "", container_reason: str = "") -> dict:
    container = {"name": "luigi", "lastStatus": "STOPPED", "reason": container_reason}
    if exit_code is not None:
        container["exitCode"] = exit_code
    return {"lastStatus": "STOPPED", "stopCode": stop_code, "stoppedReason": reason, "containers": [container]}


@pytest.mark.parametrize("code", [c for c in ExitCode if c != ExitCode.DONE])
def test_every_runner_exit_code_fails_with_its_meaning(code: ExitCode) -> None:
    outcome = classify(stopped(int(code)), "luigi")
    assert not outcome.succeeded and not outcome.infrastructure
    assert outcome.words.startswith(f"exit {int(code)}: {MEANINGS[code]}")


@pytest.mark.parametrize(
    ("task", "words", "infrastructure"),
    [
        (stopped(0), "exit 0: done", False),
        (stopped(137, container_reason="OutOfMemoryError: Container killed due to memory usage"), "out of memory (exit 137", False),
        (stopped(None, "TaskFailedToStart", "RESOURCE:MEMORY"), "no capacity with enough memory (RESOURCE:MEMORY)", True),
        (stopped(None, "TaskFailedToStart", "RESOURCE:CPU"), "no capacity with enough CPU (RESOURCE:CPU)", True),
        (stopped(None, "TaskFailedToStart", "CannotPullContainerError: ref not found"), "the image could not be pulled", True),
        (stopped(0, "SpotInterruption", "Your Spot Task was interrupted."), "Fargate Spot interruption", True),
        (stopped(143, "TerminationNotice"), "the host running the task was terminated", True),
        (stopped(None, "EssentialContainerExited", "Host EC2 (instance i-0abc) terminated."), "the host running the task was terminated", True),
        (stopped(None, "UserInitiated", "Task killed by the user"), "stopped before it finished: Task killed by the user", False),
    ],
    ids=["done", "oom", "resource-memory", "resource-cpu", "image-pull", "spot-exit-0", "termination-notice", "host-terminated", "user-stop"],
)
def test_stop_reasons_in_words(task: dict, words: str, infrastructure: bool) -> None:
    outcome = classify(task, "luigi")
    assert words in outcome.words
    assert outcome.infrastructure is infrastructure
    assert outcome.succeeded is (words == "exit 0: done")


def test_run_task_failures_worth_retrying() -> None:
    assert is_retryable_start_failure("Capacity is unavailable at this time. Please try again later")
    assert is_retryable_start_failure("RESOURCE:MEMORY")
    assert not is_retryable_start_failure("MISSING")


@pytest.mark.parametrize(
    ("task", "words", "not_words"),
    [
        (stopped(137), "killed (SIGKILL, exit 137) without an out-of-memory report", "out of memory"),
        (stopped(137, container_reason="OutOfMemoryError: Container killed due to memory usage"), "out of memory (exit 137", "without"),
        (stopped(None, "TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                 "retrieval failed: unable to retrieve secret from asm: service call has been retried 5 time(s): failed to fetch "
                 "secret arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db"), "secrets could not be read", "image"),
        (stopped(None, "TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                 "retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): AccessDeniedException"),
         "secrets could not be read", "image"),
        (stopped(None, "TaskFailedToStart", "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
                 "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s)"),
         "the image could not be pulled", "secrets"),
    ],
    ids=["sigkill", "oom", "secrets-manager", "ssm", "ecr-auth"],
)
def test_words_only_as_strong_as_the_evidence(task: dict, words: str, not_words: str) -> None:
    outcome = classify(task, "luigi")
    assert words in outcome.words and not_words not in outcome.words.split(":")[0]


def test_the_vcpu_quota_is_worth_waiting_for() -> None:
    assert is_retryable_start_failure("You’ve reached the limit on the number of vCPUs you can run concurrently")
    assert is_retryable_start_failure("You've reached the limit on the number of vCPUs you can run concurrently")
