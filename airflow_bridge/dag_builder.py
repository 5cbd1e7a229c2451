"""Build an Airflow DAG from a pipeline spec (JSON only: no Luigi, no user code, no boto3)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, BaseOperator, CronTriggerTimetable

from airflow_bridge.operators import operator_for
from luigi_fargate.spec import PipelineSpec, TaskNode

log = logging.getLogger(__name__)

#: spec "settings" keys that map straight onto BaseOperator arguments.
_DIRECT = ("owner", "retries", "priority_weight", "pool", "pool_slots", "email", "weight_rule", "queue")


def spec_path_for(path: str | Path) -> Path:
    p = Path(path)
    return p if p.suffix == ".json" else p.with_suffix(".json")


def _timedelta(seconds: Any) -> dt.timedelta:
    return dt.timedelta(seconds=float(seconds))


def task_arguments(node: TaskNode) -> dict[str, Any]:
    """BaseOperator keyword arguments from a node's Airflow-facing settings."""
    s = node.settings
    kwargs: dict[str, Any] = {k: s[k] for k in _DIRECT if k in s}
    if "priority_weight" in s:
        kwargs.setdefault("weight_rule", "absolute")  # Luigi priorities are absolute, not summed
    if "execution_timeout_seconds" in s:
        kwargs["execution_timeout"] = _timedelta(s["execution_timeout_seconds"])
    if "retry_delay_seconds" in s:
        kwargs["retry_delay"] = _timedelta(s["retry_delay_seconds"])
    if "retry_exponential_backoff" in s:
        kwargs["retry_exponential_backoff"] = float(s["retry_exponential_backoff"])
    return kwargs


def default_args(spec: PipelineSpec) -> dict[str, Any]:
    d = dict(spec.defaults)
    for key in ("retry_delay_seconds", "execution_timeout_seconds", "max_retry_delay_seconds"):
        if key in d:
            d[key.removesuffix("_seconds")] = _timedelta(d.pop(key))
    d.setdefault("owner", "luigi-fargate")
    return d


def build_dag(path: str | Path) -> DAG:
    started = time.perf_counter()
    spec_path = spec_path_for(path)
    spec = PipelineSpec.load(spec_path)

    schedule = None
    if spec.schedule:
        schedule = CronTriggerTimetable(spec.schedule["cron"], timezone=spec.schedule.get("timezone", "UTC"))
    start_date = None
    if spec.start_date:
        tz = (spec.schedule or {}).get("timezone", "UTC")
        import pendulum

        start_date = pendulum.parse(spec.start_date, tz=tz)

    dag = DAG(
        dag_id=spec.dag_id,
        schedule=schedule,
        start_date=start_date,
        catchup=spec.catchup,
        default_args=default_args(spec),
        tags=spec.tags,
        description=spec.description,
        doc_md=f"Exported by luigi-fargate from `{spec_path.name}`; root task `{spec.node(spec.root).task_id}`.",
    )
    make = operator_for(spec)
    tasks: dict[str, BaseOperator] = {}
    for node in spec.tasks:
        tasks[node.id] = make(node=node, spec=spec, spec_path=str(spec_path), dag=dag)
    for node in spec.tasks:
        if node.upstream:
            # One call per task with its whole upstream list: chaining with >>
            # re-hashes the DAG on every edge and turns quadratic.
            tasks[node.id].set_upstream([tasks[u] for u in node.upstream])
    log.debug("built DAG %s (%d tasks) in %.3fs", spec.dag_id, len(tasks), time.perf_counter() - started)
    return dag
