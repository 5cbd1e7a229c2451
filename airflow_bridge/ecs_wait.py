"""Waiting for ECS tasks to stop, in batches: one DescribeTasks call serves up to 100 waiting tasks.

DescribeTasks is limited to 20 calls/s per account and region (burst 100).
A pipeline with 300 tasks in flight, each polling on its own every 6 s, spends
that budget on status checks. So the wait is written around a *cluster
poller*: every task waiting on one (connection, region, cluster) registers
its ARN, and each round one DescribeTasks call per 100 ARNs answers them all.

- In deferrable mode every waiting Airflow task is a trigger in the same
  triggerer process: :class:`EcsTaskStoppedTrigger` registers with the shared
  :class:`ClusterPoller`, so N waiting tasks cost ceil(N/100) calls per round.
- In the synchronous mode each worker process waits for its own task, through
  the same :func:`describe_tasks` (a batch of one).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_bridge.ecs_outcome import ACTIVE_STATUSES

#: DescribeTasks accepts at most this many task ARNs per call.
DESCRIBE_BATCH = 100


def describe_tasks(client: Any, cluster: str, arns: Iterable[str]) -> dict[str, dict[str, Any]]:
    """ARN -> DescribeTasks entry, in calls of at most 100 ARNs. Missing tasks are absent."""
    arns = list(dict.fromkeys(arns))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(arns), DESCRIBE_BATCH):
        response = client.describe_tasks(cluster=cluster, tasks=arns[start : start + DESCRIBE_BATCH])
        for task in response.get("tasks", []):
            found[task["taskArn"]] = task
    return found


def is_stopped(task: dict[str, Any] | None) -> bool:
    return task is not None and task.get("lastStatus") not in ACTIVE_STATUSES


def wait_until_stopped(client: Any, cluster: str, arn: str, poll_seconds: float, on_poll: Any = None) -> dict[str, Any]:
    """Block until the task is STOPPED; return its description. ``on_poll`` runs every round (logs)."""
    while True:
        task = describe_tasks(client, cluster, [arn]).get(arn)
        if task is None:
            raise LookupError(f"ECS task {arn} is not in cluster {cluster} any more (stopped tasks are kept about an hour)")
        if is_stopped(task):
            return task
        if on_poll is not None:
            on_poll(task)
        time.sleep(poll_seconds)


class ClusterPoller:
    """One polling loop per (connection, region, cluster) in a process, shared by all waiting triggers."""

    _pollers: dict[tuple[int, str, str | None, str], ClusterPoller] = {}

    def __init__(self, aws_conn_id: str, region: str | None, cluster: str, poll_seconds: float) -> None:
        self.aws_conn_id, self.region, self.cluster = aws_conn_id, region, cluster
        self.poll_seconds = poll_seconds
        self.waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._client: Any = None

    @classmethod
    def shared(cls, aws_conn_id: str, region: str | None, cluster: str, poll_seconds: float) -> ClusterPoller:
        # Futures belong to one event loop: a poller per loop (the triggerer has one).
        key = (id(asyncio.get_running_loop()), aws_conn_id, region, cluster)
        poller = cls._pollers.get(key)
        if poller is None:
            poller = cls._pollers[key] = cls(aws_conn_id, region, cluster, poll_seconds)
        poller.poll_seconds = min(poller.poll_seconds, poll_seconds)
        return poller

    async def wait(self, arn: str) -> dict[str, Any]:
        future = self.waiting.get(arn)
        if future is None or future.done():
            future = self.waiting[arn] = asyncio.get_running_loop().create_future()
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.get_running_loop().create_task(self._run())
        return await asyncio.shield(future)

    def _describe(self, arns: list[str]) -> dict[str, dict[str, Any]]:
        if self._client is None:
            from airflow.providers.amazon.aws.hooks.ecs import EcsHook

            self._client = EcsHook(aws_conn_id=self.aws_conn_id, region_name=self.region).conn
        return describe_tasks(self._client, self.cluster, arns)

    async def _run(self) -> None:
        from asgiref.sync import sync_to_async

        while self.waiting:
            arns = [a for a, f in self.waiting.items() if not f.done()]
            try:
                found = await sync_to_async(self._describe)(arns)
            except Exception as exc:  # noqa: BLE001 - hand the error to every waiter
                for arn in arns:
                    self.waiting.pop(arn).set_exception(exc)
                return
            for arn in arns:
                task = found.get(arn)
                if task is None or is_stopped(task):
                    future = self.waiting.pop(arn)
                    if task is None:
                        future.set_exception(LookupError(f"ECS task {arn} is not in cluster {self.cluster}"))
                    else:
                        future.set_result(task)
            if self.waiting:
                await asyncio.sleep(self.poll_seconds)


class EcsTaskStoppedTrigger(BaseTrigger):
    """Fires when one ECS task has stopped; all such triggers in a triggerer share DescribeTasks calls."""

    def __init__(self, *, cluster: str, task_arn: str, aws_conn_id: str, region: str | None, poll_seconds: float = 6) -> None:
        super().__init__()
        self.cluster, self.task_arn = cluster, task_arn
        self.aws_conn_id, self.region, self.poll_seconds = aws_conn_id, region, poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "cluster": self.cluster,
                "task_arn": self.task_arn,
                "aws_conn_id": self.aws_conn_id,
                "region": self.region,
                "poll_seconds": self.poll_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        poller = ClusterPoller.shared(self.aws_conn_id, self.region, self.cluster, self.poll_seconds)
        try:
            await poller.wait(self.task_arn)
        except Exception as exc:  # noqa: BLE001 - reported to the task, which fails with the words
            yield TriggerEvent({"status": "error", "task_arn": self.task_arn, "message": str(exc)})
            return
        yield TriggerEvent({"status": "stopped", "task_arn": self.task_arn})
