"""The trigger a deferred Fargate task waits on: fires once its ECS task has stopped (or is gone).

All such triggers in a triggerer share one :class:`~airflow_bridge.triggers.cluster_poller.ClusterPoller`
per cluster. The trigger itself only waits for what the poller hands it: log
lines, which it logs in its own context (so Airflow files them in this task
instance's log, ``...log.trigger.<job>.log``), then the event.

Kills: Airflow calls :meth:`on_kill` when a user marks the deferred task
failed or successful, or clears it; the ECS task is then stopped. The
triggerer also sends that cancel when it hands the trigger to another
triggerer; the task instance is still ``deferred`` then, so :meth:`on_kill`
asks before stopping anything. A deferral timeout (``execution_timeout``)
cancels without ``on_kill``; the operator stops the ECS task when it resumes
with the timeout (see ``LuigiFargateOperator.resume_execution``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_bridge.hooks.budget import ApiRates
from airflow_bridge.hooks.logs import LogCursor
from airflow_bridge.triggers.cluster_poller import PollerKey, PollerRegistry, WaitingTask

#: The task instance state in which a cancelled trigger is being moved, not killed.
STILL_DEFERRED = "deferred"


class EcsTaskStoppedTrigger(BaseTrigger):
    """Fires when one ECS task has stopped; all such triggers in a triggerer share DescribeTasks calls.

    :param cluster: ECS cluster of the task
    :param task_arn: the ECS task
    :param aws_conn_id: Airflow AWS connection
    :param region: region of the cluster
    :param poll_seconds: seconds between DescribeTasks rounds (the budget may make rounds longer)
    :param container_name: names the container in the log lines
    :param log_group: CloudWatch log group of the container (None: no log following)
    :param log_stream: the container's log stream
    :param log_region: region of the log group (default: ``region``)
    :param log_token: stream position to read on from (None: from the start)
    :param describe_tasks_per_second: account-wide DescribeTasks budget of these operators
    :param get_log_events_per_second: account-wide GetLogEvents budget
    :param triggerers: how many triggerers share those budgets
    """

    def __init__(
        self,
        *,
        cluster: str,
        task_arn: str,
        aws_conn_id: str | None,
        region: str | None,
        poll_seconds: float = 6,
        container_name: str | None = None,
        log_group: str | None = None,
        log_stream: str | None = None,
        log_region: str | None = None,
        log_token: str | None = None,
        describe_tasks_per_second: float = 1.0,
        get_log_events_per_second: float = 10.0,
        triggerers: int = 1,
    ) -> None:
        super().__init__()
        self.cluster, self.task_arn = cluster, task_arn
        self.aws_conn_id, self.region, self.poll_seconds = aws_conn_id, region, float(poll_seconds)
        self.container_name = container_name
        self.log_group, self.log_stream, self.log_region, self.log_token = log_group, log_stream, log_region or region, log_token
        self.describe_tasks_per_second = float(describe_tasks_per_second)
        self.get_log_events_per_second = float(get_log_events_per_second)
        self.triggerers = int(triggerers)
        self._waiter: WaitingTask | None = None
        self._registry: PollerRegistry | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "cluster": self.cluster,
                "task_arn": self.task_arn,
                "aws_conn_id": self.aws_conn_id,
                "region": self.region,
                "poll_seconds": self.poll_seconds,
                "container_name": self.container_name,
                "log_group": self.log_group,
                "log_stream": self.log_stream,
                "log_region": self.log_region,
                "log_token": self.log_token,
                "describe_tasks_per_second": self.describe_tasks_per_second,
                "get_log_events_per_second": self.get_log_events_per_second,
                "triggerers": self.triggerers,
            },
        )

    @property
    def poller_key(self) -> PollerKey:
        return PollerKey(self.aws_conn_id, self.region, self.cluster, self.log_region)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        cursor = LogCursor(self.log_group, self.log_stream, self.log_token) if self.log_group and self.log_stream else None
        self._waiter = WaitingTask(self.task_arn, self.poll_seconds, cursor)
        self._registry = PollerRegistry.current()
        rates = ApiRates.share_of(self.describe_tasks_per_second, self.get_log_events_per_second, self.triggerers)
        self._registry.join(self.poller_key, self._waiter, rates)
        prefix = f"[{self.container_name}] " if self.container_name else ""
        try:
            while True:
                kind, item = await self._waiter.inbox.get()
                if kind == "lines":
                    for line in item:
                        self.log.info("%s%s", prefix, line)
                    continue
                yield TriggerEvent(item)
                return
        finally:
            self._leave()

    def _leave(self) -> None:
        if self._registry is not None and self._waiter is not None:
            self._registry.leave(self.poller_key, self._waiter)
        self._registry = None

    async def cleanup(self) -> None:
        self._leave()

    async def on_kill(self) -> None:
        """A user acted on the deferred task: stop the ECS task, unless the task instance is still deferred.

        The triggerer cancels a trigger again at each of its syncs until the trigger is gone, which
        cancels a running ``on_kill`` too: the work is shielded, so a second cancel can't cut it short.
        """
        work = asyncio.get_running_loop().create_task(self._stop_unless_still_deferred())
        await asyncio.shield(work)

    async def _stop_unless_still_deferred(self) -> None:
        state = await self._task_instance_state()
        if state == STILL_DEFERRED:
            self.log.info("task instance is still deferred (the trigger moves to another triggerer): ECS task %s keeps running", self.task_arn)
            return
        from airflow_bridge.hooks.clients import ecs_client
        from airflow_bridge.hooks.ecs import stop_task

        def stop() -> bool:
            client = ecs_client(self.aws_conn_id, self.region)
            return stop_task(client, self.cluster, self.task_arn, f"Airflow task instance is {state or 'no longer running'} (stopped from Airflow)")

        self.log.info("task instance is %s: stopping ECS task %s", state or "not running", self.task_arn)
        stopped = await asyncio.to_thread(stop)
        self.log.info("ECS task %s %s", self.task_arn, "stopped" if stopped else "was already gone")

    async def _task_instance_state(self) -> str | None:
        """The task instance's state now; None when unknown (the cancel then counts as the user's)."""
        ti = self.task_instance
        if ti is None:
            return None
        from asgiref.sync import sync_to_async

        from airflow_bridge.hooks.airflow_state import task_instance_state

        try:
            return await sync_to_async(task_instance_state)(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))
        except Exception as exc:  # noqa: BLE001 - the cancel message itself says "user action"
            self.log.warning("could not ask Airflow for the task instance's state (%s); treating the cancel as the user's", exc)
            return None
