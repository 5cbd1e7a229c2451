"""Build an Airflow DAG from a pipeline spec (JSON only: no Luigi, no user code, no boto3)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, BaseOperator, CronTriggerTimetable, TaskGroup

from airflow_bridge.operators import node_operator, operator_for
from airflow_bridge.operators.task_arguments import timedelta_of
from luigi_fargate.spec import PipelineSpec

log = logging.getLogger(__name__)

#: Jinja must give a literal value back unchanged, trailing newline included (Jinja drops it by default).
JINJA_ENVIRONMENT = {"keep_trailing_newline": True}

def spec_path_for(path: str | Path) -> Path:
    p = Path(path)
    return p if p.suffix == ".json" else p.with_suffix(".json")


def default_args(spec: PipelineSpec) -> dict[str, Any]:
    d = spec.defaults
    out: dict[str, Any] = {"owner": d.owner or "luigi-fargate"}
    if d.execution_timeout_seconds is not None:
        out["execution_timeout"] = timedelta_of(d.execution_timeout_seconds)
    if d.email:
        # A crontab's MAILTO: every failing task mails these addresses (Airflow 3: a notifier).
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        out["on_failure_callback"] = [SmtpNotifier(to=list(d.email), subject=f"Airflow DAG {spec.dag_id}: a task failed")]
    return out


def link_upstream(tasks: dict[str, BaseOperator], upstream: dict[str, list[str]]) -> None:
    """Set every edge in O(edges).

    ``set_upstream``/``>>`` check that both ends share one DAG by hashing the
    DAG, and a DAG's hash covers all its task ids: O(tasks) per call, so a
    10,000-task graph took tens of seconds to parse. Every task here was made
    in the same DAG, so that check can't fail; set the id sets it would set.
    """
    for task_id, ups in upstream.items():
        if not ups:
            continue
        task = tasks[task_id]
        task.upstream_task_ids.update(ups)
        for up in ups:
            tasks[up].downstream_task_ids.add(task_id)


def build_dag(path: str | Path) -> DAG:
    started = time.perf_counter()
    spec_path = spec_path_for(path)
    spec = PipelineSpec.load(spec_path)

    schedule = CronTriggerTimetable(spec.schedule.cron, timezone=spec.schedule.timezone) if spec.schedule else None
    start_date = None
    if spec.start_date:
        import pendulum

        start_date = pendulum.parse(spec.start_date, tz=spec.schedule.timezone if spec.schedule else "UTC")

    dag = DAG(
        dag_id=spec.dag_id,
        schedule=schedule,
        start_date=start_date,
        catchup=spec.catchup,
        default_args=default_args(spec),
        tags=spec.tags,
        description=spec.description,
        dagrun_timeout=timedelta_of(spec.defaults.dagrun_timeout_seconds),
        jinja_environment_kwargs=JINJA_ENVIRONMENT,
        doc_md=f"Exported by luigi-fargate from `{spec_path.name}`; root task `{spec.node(spec.root).task_id}`.",
    )
    make = node_operator(operator_for(spec))
    tasks: dict[str, BaseOperator] = {}
    groups: dict[str, TaskGroup] = {}
    for node in spec.tasks:
        if node.group:
            # Groups keep task ids unchanged (prefix_group_id=False): grouping never renames a task.
            if node.group not in groups:
                groups[node.group] = TaskGroup(node.group, prefix_group_id=False, dag=dag)
            with groups[node.group]:
                tasks[node.id] = make(node=node, spec=spec, spec_path=str(spec_path), dag=dag)
        else:
            tasks[node.id] = make(node=node, spec=spec, spec_path=str(spec_path), dag=dag)
    link_upstream(tasks, {node.id: node.upstream for node in spec.tasks})
    log.debug("built DAG %s (%d tasks) in %.3fs", spec.dag_id, len(tasks), time.perf_counter() - started)
    return dag
