"""A run of an unscheduled DAG dated before its start_date fails with a message, instead of succeeding empty.

Airflow creates a run's task instances only for tasks whose ``start_date``
is on or before the run's logical date (models/dagrun.py ``verify_integrity``,
backfills excepted): a run triggered for an earlier date gets none and is
marked success at once, with nothing in the UI saying why. An unscheduled DAG
schedules nothing, so it needs no Airflow start_date: the exported one is
kept here instead, every run gets its task instances, and this check runs in
each task before it starts anything (a ``pre_execute`` hook: no extra task
instance, no container). The first tasks of such a run fail without
retries, with the reason and the fix in their log; the rest turn
upstream_failed.

A scheduled DAG keeps Airflow's start_date, which is where its schedule
starts (without one, a ``catchup=False`` schedule runs its latest past fire
at once: a crontab job run twice on cutover day); its timetable refuses a
manual run dated earlier instead (airflow_bridge/timetables.py), and
``airflow backfill create`` runs earlier dates (backfills get their task
instances).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: Airflow's DagRunType value for a backfill's runs.
BACKFILL = "backfill"


class RunDateGuard:
    """``pre_execute`` hook failing runs dated before ``start_date`` (see the module docstring)."""

    def __init__(self, dag_id: str, start_date: dt.datetime) -> None:
        self.dag_id = dag_id
        self.start_date = start_date

    def message(self, run_id: str, dated: dt.datetime) -> str:
        return (
            f"run {run_id} of DAG {self.dag_id} is dated {dated.isoformat()}, before the DAG's start_date "
            f"{self.start_date.isoformat()} (luigi-fargate export --start-date): nothing of it runs; trigger it "
            f"with a logical date on or after that, or re-export with --start-date {dated.date().isoformat()} or earlier"
        )

    def __call__(self, context: Any) -> None:
        run = context["dag_run"]
        run_type = getattr(run, "run_type", None)
        if getattr(run_type, "value", run_type) == BACKFILL:
            return
        dated = run.logical_date or run.run_after  # a run without a logical date is dated by its run_after
        if dated is not None and dated < self.start_date:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(self.message(run.run_id, dated))
