"""The ECS calls the operator, the trigger and the poller make, and what their answers mean.

Thin functions over a boto3 ECS client (the provider's ``EcsHook.conn``), so
the synchronous wait, the shared poller and the tests use one reading of
DescribeTasks: what counts as stopped (the provider's ``EcsTaskStates``),
what counts as missing (a ``MISSING`` failure, or absent from the answer),
and the small JSON-safe summary of a stopped task that travels in a
trigger event.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from airflow.providers.amazon.aws.hooks.ecs import EcsTaskStates
from botocore.exceptions import ClientError

#: DescribeTasks accepts at most this many task ARNs per call.
DESCRIBE_BATCH = 100
#: A task DescribeTasks calls MISSING is gone only if a call at least this much later says so too:
#: right after RunTask, and under eventual consistency, a live task can briefly be missing.
MISSING_CONFIRM_SECONDS = 30.0


@dataclass
class Described:
    """One DescribeTasks answer: tasks found, ARNs reported missing, other per-task failures."""

    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)


def describe_tasks(client: Any, cluster: str, arns: Iterable[str], *, include_tags: bool = False) -> Described:
    """One DescribeTasks call for at most 100 ARNs. Raises what boto3 raises (the caller retries)."""
    arns = list(dict.fromkeys(arns))
    if len(arns) > DESCRIBE_BATCH:
        raise ValueError(f"DescribeTasks takes at most {DESCRIBE_BATCH} tasks, got {len(arns)}")
    extra = {"include": ["TAGS"]} if include_tags else {}
    response = client.describe_tasks(cluster=cluster, tasks=arns, **extra)
    out = Described()
    for task in response.get("tasks", []):
        out.found[task["taskArn"]] = task
    for failure in response.get("failures", []):
        arn = failure.get("arn", "")
        if failure.get("reason") == "MISSING":
            out.missing.add(arn)
        else:
            out.failed[arn] = f"{failure.get('reason', '')} {failure.get('detail') or ''}".strip()
    # moto (and a partial answer) leaves unknown tasks out instead of reporting them MISSING
    out.missing |= {a for a in arns if a not in out.found and a not in out.failed}
    return out


def is_stopped(task: dict[str, Any] | None) -> bool:
    return task is not None and task.get("lastStatus") == EcsTaskStates.STOPPED


def is_stopping_for_good(task: dict[str, Any]) -> bool:
    """Asked to stop by someone (a user, a timeout, the sweeper): a retry must not reattach to it."""
    return task.get("desiredStatus") == EcsTaskStates.STOPPED and task.get("stopCode") == "UserInitiated"


def task_summary(task: dict[str, Any]) -> dict[str, Any]:
    """The fields of a DescribeTasks entry that the verdict needs, JSON-safe (no datetimes)."""
    containers = [
        {k: c[k] for k in ("name", "lastStatus", "exitCode", "reason") if c.get(k) is not None}
        for c in task.get("containers") or []
    ]
    keys = ("taskArn", "lastStatus", "desiredStatus", "stopCode", "stoppedReason", "capacityProviderName", "launchType", "cpu", "memory")
    summary: dict[str, Any] = {k: task[k] for k in keys if task.get(k) is not None}
    summary["containers"] = containers
    overrides = task.get("overrides") or {}
    for key in ("cpu", "memory"):  # the task's size (what an out-of-memory retry steps up from)
        if key not in summary and overrides.get(key) is not None:
            summary[key] = overrides[key]
    return summary


def stop_task(client: Any, cluster: str, arn: str, reason: str) -> bool:
    """StopTask; False when ECS no longer knows the task (already stopped and gone)."""
    try:
        client.stop_task(cluster=cluster, task=arn, reason=reason[:255])
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("InvalidParameterException", "ResourceNotFoundException"):
            return False
        raise
    return True


@dataclass
class MissingTracker:
    """Confirms MISSING: only a second MISSING answer at least ``confirm_after`` seconds after the first counts."""

    confirm_after: float = MISSING_CONFIRM_SECONDS
    first_seen: dict[str, float] = field(default_factory=dict)

    def confirmed(self, arn: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        first = self.first_seen.setdefault(arn, now)
        return now - first >= self.confirm_after

    def seen(self, arn: str) -> None:
        """The task was in an answer: any earlier MISSING was a glitch."""
        self.first_seen.pop(arn, None)
