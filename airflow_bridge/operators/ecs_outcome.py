"""What a stopped ECS task means, in plain words: succeeded, retry it, or fail for good.

ECS reports a stop as stopCode + stoppedReason + per-container exitCode and
reason. The provider turns most of that into "This task is not in success
state {...}"; users need to read "out of memory: give the family more memory"
instead. Words are only as strong as the evidence: exit 137 is "out of
memory" only when ECS says ``OutOfMemoryError``, otherwise it is a SIGKILL;
a start failure is a secrets failure, an image pull failure or a capacity
failure according to the reason ECS gives. Standard library only (tested
without AWS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from luigi_fargate.exit_codes import ExitCode, describe

#: RunTask ``failures[].reason`` / error messages worth another try after a pause: no capacity now,
#: throttling, or the account's Fargate vCPU (or task count) quota in use right now.
RETRYABLE_START_FAILURES = re.compile(
    r"capacity is unavailable|insufficient|throttl|rate exceeded|RESOURCE:|AGENT|"
    r"ThrottlingException|ServerException|LimitExceeded|too many|"
    r"reached the limit on the number of (vCPUs|tasks)",
    re.IGNORECASE,
)
#: The Fargate quota message (ECS writes it with a typographic or a plain apostrophe).
QUOTA_FAILURE = re.compile(r"reached the limit on the number of (vCPUs|tasks) you can run concurrently", re.IGNORECASE)
#: A ResourceInitializationError about secrets (SSM Parameter Store or Secrets Manager), not the image.
#: ECS's generic prefix "unable to pull secrets or registry auth" says neither; what follows does.
SECRETS_FAILURE = re.compile(r"retrieve secrets?\b|from (ssm|asm)\b|secretsmanager|\bssm:|parameter store", re.IGNORECASE)
GENERIC_PREFIX = re.compile(r"unable to pull secrets or registry auth:?", re.IGNORECASE)
OUT_OF_MEMORY = "OutOfMemoryError"
SIGKILL_EXIT = 137


@dataclass(frozen=True)
class EcsOutcome:
    """The verdict on one stopped task."""

    succeeded: bool
    #: True when the failure is the infrastructure's (Spot, host, capacity): retrying helps.
    infrastructure: bool
    exit_code: int | None
    words: str
    #: True for a Fargate Spot interruption (the operator may rerun it on on-demand capacity).
    spot_interrupted: bool = False
    #: True when ECS reported OutOfMemoryError (the next try may ask for more memory).
    out_of_memory: bool = False


def _start_failure_words(reason: str) -> str:
    if "RESOURCE:MEMORY" in reason:
        return f"failed to start: no capacity with enough memory (RESOURCE:MEMORY): {reason}"
    if "RESOURCE:CPU" in reason:
        return f"failed to start: no capacity with enough CPU (RESOURCE:CPU): {reason}"
    if "ResourceInitializationError" in reason and SECRETS_FAILURE.search(GENERIC_PREFIX.sub("", reason)):
        return (
            "failed to start: the task's secrets could not be read (check that the execution role may read the "
            "[luigi_fargate] secrets: ssm:GetParameters / secretsmanager:GetSecretValue, kms:Decrypt for a customer "
            f"key, and that the subnets reach SSM / Secrets Manager): {reason}"
        )
    if "CannotPullContainer" in reason or "pull" in reason.lower() or "registry auth" in reason.lower():
        return (
            "failed to start: the image could not be pulled (check the image tag, ECR permissions of the "
            f"execution role, and the network route to ECR): {reason}"
        )
    if "ResourceInitializationError" in reason:
        return f"failed to start: the task's resources could not be set up (log group, or network to AWS APIs): {reason}"
    return f"failed to start: {reason or 'no reason given'}"


def essential_container(task: dict[str, Any], container_name: str | None) -> dict[str, Any]:
    containers = task.get("containers") or []
    for c in containers:
        if c.get("name") == container_name:
            return c
    return containers[0] if containers else {}


def _killed_words(code: int, container_reason: str, stopped_reason: str) -> EcsOutcome:
    if OUT_OF_MEMORY in container_reason or OUT_OF_MEMORY in stopped_reason:
        return EcsOutcome(
            False, False, code,
            f"out of memory (exit {code}, killed by SIGKILL): raise this family's memory "
            "([luigi_fargate.family.<Family>] memory or fargate_memory); ECS says: " + (container_reason or stopped_reason),
            out_of_memory=True,
        )  # fmt: skip
    why = f"; ECS says: {container_reason or stopped_reason}" if (container_reason or stopped_reason) else ""
    return EcsOutcome(
        False, False, code,
        f"killed (SIGKILL, exit {code}) without an out-of-memory report: the process ignored SIGTERM past the "
        f"stop timeout, or something in the container killed it{why}",
    )  # fmt: skip


def classify(task: dict[str, Any], container_name: str | None = None) -> EcsOutcome:
    """Turn a DescribeTasks entry (or its summary) for a STOPPED task into an :class:`EcsOutcome`."""
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
            spot_interrupted=True,
        )  # fmt: skip
    if stop_code in ("TerminationNotice", "InfrastructureHealth") or re.match(r"Host EC2 \(instance .+?\) (stopped|terminated)", stopped_reason):
        return EcsOutcome(False, True, code, f"the host running the task was terminated ({stop_code or stopped_reason}); Airflow retries the task")
    if stop_code == "UserInitiated" and code != ExitCode.DONE:
        return EcsOutcome(False, False, code, f"stopped before it finished: {stopped_reason or 'StopTask'} ({describe(code)})")
    if code == SIGKILL_EXIT:
        return _killed_words(code, container_reason, stopped_reason)
    if code is None:
        why = stopped_reason or container_reason or "no reason given"
        return EcsOutcome(False, True, None, f"the container never reported an exit code ({stop_code or 'no stop code'}): {why}")
    if code == ExitCode.DONE:
        return EcsOutcome(True, False, code, describe(code))
    return EcsOutcome(False, False, code, describe(code) + (f" ({container_reason})" if container_reason else ""))


def is_retryable_start_failure(reason: str) -> bool:
    """RunTask throttling, capacity and quota failures: wait and try again before failing the Airflow task."""
    return bool(RETRYABLE_START_FAILURES.search(reason or ""))
