"""What a stopped ECS task means, in plain words: succeeded, retry it, or fail for good.

ECS reports a stop as stopCode + stoppedReason + per-container exitCode and
reason. The provider turns most of that into "This task is not in success
state {...}"; users need to read "out of memory: give the family more memory"
instead. Standard library only (tested without AWS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from luigi_fargate.exit_codes import ExitCode, describe

#: ECS lastStatus values before STOPPED (a retry can reattach to these).
ACTIVE_STATUSES = frozenset({"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING", "DEPROVISIONING"})

#: RunTask ``failures[].reason`` / error codes worth another try after a pause.
RETRYABLE_START_FAILURES = re.compile(
    r"capacity is unavailable|insufficient|throttl|rate exceeded|RESOURCE:|AGENT|"
    r"ThrottlingException|ServerException|LimitExceeded|too many",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EcsOutcome:
    """The verdict on one stopped task."""

    succeeded: bool
    #: True when the failure is the infrastructure's (Spot, host, capacity): retrying helps.
    infrastructure: bool
    exit_code: int | None
    words: str


def _start_failure_words(reason: str) -> str:
    if "RESOURCE:MEMORY" in reason:
        return f"failed to start: no capacity with enough memory (RESOURCE:MEMORY): {reason}"
    if "RESOURCE:CPU" in reason:
        return f"failed to start: no capacity with enough CPU (RESOURCE:CPU): {reason}"
    if "CannotPullContainer" in reason or "pull" in reason.lower():
        return f"failed to start: the image could not be pulled (check the image tag, ECR permissions of the execution role, and the network route to ECR): {reason}"
    if "ResourceInitializationError" in reason:
        return f"failed to start: the task's resources could not be set up (secrets, log group, or network to AWS APIs): {reason}"
    return f"failed to start: {reason or 'no reason given'}"


def essential_container(task: dict[str, Any], container_name: str | None) -> dict[str, Any]:
    containers = task.get("containers") or []
    for c in containers:
        if c.get("name") == container_name:
            return c
    return containers[0] if containers else {}


def classify(task: dict[str, Any], container_name: str | None = None) -> EcsOutcome:
    """Turn a DescribeTasks entry for a STOPPED task into an :class:`EcsOutcome`."""
    stop_code = task.get("stopCode") or ""
    stopped_reason = task.get("stoppedReason") or ""
    container = essential_container(task, container_name)
    code = container.get("exitCode")
    container_reason = container.get("reason") or ""

    if stop_code == "TaskFailedToStart":
        return EcsOutcome(False, True, code, _start_failure_words(stopped_reason or container_reason))
    if stop_code == "SpotInterruption":
        return EcsOutcome(
            False, True, code,
            f"Fargate Spot interruption: AWS reclaimed the capacity ({describe(code)}); Airflow retries the task",
        )  # fmt: skip
    if stop_code in ("TerminationNotice", "InfrastructureHealth") or re.match(r"Host EC2 \(instance .+?\) (stopped|terminated)", stopped_reason):
        return EcsOutcome(False, True, code, f"the host running the task was terminated ({stop_code or stopped_reason}); Airflow retries the task")
    if code == 137 and ("OutOfMemory" in container_reason or "OOM" in container_reason or not container_reason):
        return EcsOutcome(
            False, False, code,
            "out of memory (exit 137, killed by SIGKILL): raise this family's memory "
            "([luigi_fargate.family.<Family>] memory or fargate_memory)"
            + (f"; ECS says: {container_reason}" if container_reason else ""),
        )  # fmt: skip
    if code is None:
        why = stopped_reason or container_reason or "no reason given"
        if stop_code == "UserInitiated":
            return EcsOutcome(False, False, None, f"stopped before it finished: {why}")
        return EcsOutcome(False, True, None, f"the container never reported an exit code ({stop_code or 'no stop code'}): {why}")
    if code == ExitCode.DONE:
        return EcsOutcome(True, False, code, describe(code))
    return EcsOutcome(False, False, code, describe(code) + (f" ({container_reason})" if container_reason else ""))


def is_retryable_start_failure(reason: str) -> bool:
    """RunTask throttling and capacity failures: wait and try again before failing the Airflow task."""
    return bool(RETRYABLE_START_FAILURES.search(reason or ""))
