"""A crontab-migrated schedule that refuses a manual run dated before the DAG's start_date.

A scheduled DAG keeps Airflow's ``start_date``: that is where its schedule
starts (with ``catchup=False`` and no start_date the latest past cron fire
runs at once, so a job already run by crontab on cutover day would run twice).
But Airflow gives a run its task instances only for tasks whose start_date is
on or before the run's logical date (models/dagrun.py ``verify_integrity``,
backfills excepted): a manual run dated earlier is created empty and marked
success at once, with nothing saying why.

Every manual trigger with a logical date asks the timetable for the run's
data interval (``infer_manual_data_interval``: REST ``POST .../dagRuns`` and
so the UI's Trigger form, ``airflow dags test``); this one raises
``ValueError`` there for a date before the start_date it carries, and Airflow
refuses the run with the message (HTTP 400) instead of creating it. Everything
else is ``CronTriggerTimetable``'s: scheduled runs, runs without a logical
date, backfills (they iterate the schedule and never infer a manual interval).

A custom timetable must be registered as a plugin on every component that
deserializes DAGs (scheduler, api-server, dag-processor):
:mod:`airflow_bridge.airflow_plugin` does that through the ``airflow.plugins``
entry point of the installed package.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.timetables.base import DataInterval
from airflow.timetables.trigger import CronTriggerTimetable


class StartGuardedCronTimetable(CronTriggerTimetable):
    """``CronTriggerTimetable`` whose manual runs may not be dated before ``start_date`` (module docstring)."""

    def __init__(
        self,
        cron: str,
        *,
        timezone: Any,
        start_date: dt.datetime,
        dag_id: str = "",
        interval: dt.timedelta = dt.timedelta(),
        run_immediately: bool | dt.timedelta = False,
    ) -> None:
        super().__init__(cron, timezone=timezone, interval=interval, run_immediately=run_immediately)
        self.start_date = start_date
        self.dag_id = dag_id

    def message(self, logical_date: dt.datetime) -> str:
        first = self.start_date.date().isoformat()
        day = logical_date.date().isoformat()
        dag = self.dag_id or "<dag_id>"
        return (
            f"logical date {logical_date.isoformat()} is before the start_date {self.start_date.isoformat()} of DAG "
            f"{dag} (luigi-fargate --start-date): Airflow would create the run without task instances and mark it "
            f"success. Trigger a logical date on or after {first}, or run earlier dates as a backfill: "
            f"airflow backfill create --dag-id {dag} --from-date {day} --to-date {day}"
        )

    def infer_manual_data_interval(self, *, run_after: Any) -> DataInterval:
        # Called with the manual run's logical date (REST trigger, `airflow dags test`).
        if run_after < self.start_date:
            raise ValueError(self.message(run_after))
        return super().infer_manual_data_interval(run_after=run_after)

    def serialize(self) -> dict[str, Any]:
        return {**super().serialize(), "start_date": self.start_date.isoformat(), "dag_id": self.dag_id}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> StartGuardedCronTimetable:
        plain = CronTriggerTimetable.deserialize(data)
        return cls(
            plain._expression,  # noqa: SLF001 - the parent's own fields, as it deserialized them
            timezone=plain._timezone,  # noqa: SLF001
            interval=plain._interval,  # noqa: SLF001
            run_immediately=plain._run_immediately,  # noqa: SLF001
            start_date=dt.datetime.fromisoformat(data["start_date"]),
            dag_id=data.get("dag_id", ""),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StartGuardedCronTimetable):
            return NotImplemented
        return super().__eq__(other) and (self.start_date, self.dag_id) == (other.start_date, other.dag_id)

    def __hash__(self) -> int:
        return hash((super().__hash__(), self.start_date, self.dag_id))
