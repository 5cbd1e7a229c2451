"""Triggers run the way Airflow's triggerer runs them: Airflow's own ``TriggerRunner.run_trigger``,
every trigger in its own asyncio task of one event loop, its id bound to the log context, and user
actions delivered as Airflow delivers them (a cancel with the "user action" message)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("AIRFLOW_DISABLE_GREENBACK_PORTAL", "true")


@dataclass
class TriggerTI:
    """The task-instance fields a trigger sees in the triggerer."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int = 1
    id: str = "00000000-0000-0000-0000-000000000000"
    context_carrier: dict[str, str] | None = None


@dataclass
class LoggedLine:
    message: str
    trigger_id: int | None


@dataclass
class Triggerer:
    """One TriggerRunner; ``start`` triggers, ``kill`` (user action) or ``cancel`` (shutdown) them."""

    runner: Any = None
    tasks: dict[int, asyncio.Task[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from airflow.jobs.triggerer_job_runner import TriggerRunner

        self.runner = TriggerRunner()

    def start(self, trigger_id: int, trigger: Any, ti: TriggerTI | None = None) -> None:
        trigger.task_instance = ti
        self.runner.triggers[trigger_id] = {"task": None, "is_watcher": False, "name": f"trigger {trigger_id}", "events": 0}
        task = asyncio.get_running_loop().create_task(self.runner.run_trigger(trigger_id, trigger, None, None))
        self.runner.triggers[trigger_id]["task"] = self.tasks[trigger_id] = task

    def events(self) -> dict[int, dict[str, Any]]:
        return {entry.trigger_id: entry.event.payload for entry in self.runner.events}

    async def wait_for(self, trigger_ids: list[int], timeout: float) -> dict[int, dict[str, Any]]:
        """The events, once these triggers ended; a trigger that crashed re-raises its error."""
        await asyncio.wait_for(asyncio.gather(*(self.tasks[t] for t in trigger_ids), return_exceptions=True), timeout)
        for t in trigger_ids:
            if not self.tasks[t].cancelled() and self.tasks[t].exception() is not None:
                raise self.tasks[t].exception()  # type: ignore[misc]
        return self.events()

    async def kill(self, trigger_id: int) -> None:
        """What Airflow does after "mark failed"/"mark success"/clear on a deferred task."""
        from airflow.jobs.triggerer_job_runner import _USER_ACTION_CANCEL_MSG

        self.tasks[trigger_id].cancel(_USER_ACTION_CANCEL_MSG)
        await asyncio.gather(self.tasks[trigger_id], return_exceptions=True)


@contextmanager
def captured_trigger_logs() -> Iterator[list[LoggedLine]]:
    """Every log record emitted while the block runs (structlog, as triggers log, and stdlib), with the
    trigger id bound in its context: what Airflow's triggerer uses to file a line in a task's log."""
    import structlog

    lines: list[LoggedLine] = []

    def record(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        lines.append(LoggedLine(str(event.get("event", "")), event.get("trigger_id")))
        raise structlog.DropEvent

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(LoggedLine(record.getMessage(), structlog.contextvars.get_contextvars().get("trigger_id")))

    saved = structlog.get_config()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.stdlib.PositionalArgumentsFormatter(), record],
        cache_logger_on_first_use=False,
    )
    handler = Recorder(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        structlog.configure(**saved)
