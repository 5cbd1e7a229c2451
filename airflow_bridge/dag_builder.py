"""Build an Airflow DAG from a pipeline spec (JSON only: no Luigi, no user code, no boto3)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, BaseOperator, CronTriggerTimetable, TaskGroup

from airflow_bridge.notifiers import FailureMail
from airflow_bridge.operators import node_operator, operator_for
from airflow_bridge.operators.task_arguments import timedelta_of
from airflow_bridge.priorities import priority_weights
from airflow_bridge.run_date_guard import RunDateGuard
from airflow_bridge.timetables import StartGuardedCronTimetable
from luigi_fargate.spec import FamilyDoc, PipelineSpec, TaskNode

log = logging.getLogger(__name__)

#: Jinja must give a literal value back unchanged, trailing newline included (Jinja drops it by default).
JINJA_ENVIRONMENT = {"keep_trailing_newline": True}

def spec_path_for(path: str | Path) -> Path:
    p = Path(path)
    return p if p.suffix == ".json" else p.with_suffix(".json")


def default_args(spec: PipelineSpec, mail: FailureMail, guard: RunDateGuard | None) -> dict[str, Any]:
    d = spec.defaults
    out: dict[str, Any] = {"owner": d.owner or "luigi-fargate"}
    if d.execution_timeout_seconds is not None:
        out["execution_timeout"] = timedelta_of(d.execution_timeout_seconds)
    if guard is not None:
        out["pre_execute"] = guard
    # A crontab's MAILTO: every failing task mails these addresses (Airflow 3: a notifier).
    notifier = mail.notifier(list(d.email), f"Airflow DAG {spec.dag_id}: a task failed")
    if notifier is not None:
        out["on_failure_callback"] = [notifier]
    return out


def task_doc(node: TaskNode, doc: FamilyDoc | None) -> str:
    """The task's Details text: the Luigi class's docstring, then its parameters (from the spec, no Luigi)."""
    lines = [f"**Luigi task** `{node.module}.{node.family}`"]
    if doc is not None and doc.doc:
        lines += ["", doc.doc]
    if node.params:
        lines += ["", "| parameter | value | description |", "|---|---|---|"]
        for p in node.params:
            value = "set (flag)" if p.flag else f"`{p.value}`"
            if p.template is not None:
                value += " at export; follows the run date"
            described = doc.params.get(p.name, "") if doc is not None else ""
            lines.append(f"| {p.name} | {_cell(value)} | {_cell(described)} |")
    if node.notes:
        lines += ["", *(f"- {n}" for n in node.notes)]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def present(task: BaseOperator, node: TaskNode, spec: PipelineSpec, weight: int, notifiers: list[Any]) -> None:
    """What is set from the whole spec on a task the runner's operator made (it sees only its node).

    The readable Airflow id is what the UI shows (no display name is set:
    the export date's Luigi id would name another run's task; each run's own
    Luigi id is in its log), the class's docs are its ``doc_md``, the graph
    gives its priority, and the notifiers that can deliver are its failure
    callbacks.
    """
    task.doc_md = task_doc(node, spec.docs.get(node.family))
    task.priority_weight = weight
    task.weight_rule = "absolute"
    if notifiers:
        task.on_failure_callback = list(notifiers)


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


def schedule_of(spec: PipelineSpec, start_date: Any) -> Any:
    """The crontab's schedule; with a start_date, one refusing manual runs dated before it (timetables.py)."""
    if not spec.schedule:
        return None
    if start_date is None:
        return CronTriggerTimetable(spec.schedule.cron, timezone=spec.schedule.timezone)
    return StartGuardedCronTimetable(
        spec.schedule.cron, timezone=spec.schedule.timezone, start_date=start_date, dag_id=spec.dag_id
    )


def build_dag(path: str | Path) -> DAG:
    started = time.perf_counter()
    spec_path = spec_path_for(path)
    spec = PipelineSpec.load(spec_path)

    start_date = None
    if spec.start_date:
        import pendulum

        start_date = pendulum.parse(spec.start_date, tz=spec.schedule.timezone if spec.schedule else "UTC")
    schedule = schedule_of(spec, start_date)

    mail = FailureMail(spec.dag_id)
    # A schedule needs Airflow's start_date (where it starts); its timetable refuses manual runs dated earlier.
    # An unscheduled DAG schedules nothing, so its start_date is only the guard's: Airflow's own would give
    # earlier runs no task instances, silently.
    guard = RunDateGuard(spec.dag_id, start_date) if start_date is not None and schedule is None else None
    args = default_args(spec, mail, guard)
    if schedule is not None and start_date is not None:
        # The same date as the DAG's (tasks inherit it anyway): `airflow dags trigger` refuses an earlier
        # logical date only against default_args' start_date (api/common/trigger_dag.py), and it never asks
        # the timetable about the logical date.
        args["start_date"] = start_date
    dag = DAG(
        dag_id=spec.dag_id,
        schedule=schedule,
        start_date=start_date if schedule is not None else None,
        catchup=spec.catchup,
        default_args=args,
        tags=spec.tags,
        description=spec.description,
        dagrun_timeout=timedelta_of(spec.defaults.dagrun_timeout_seconds),
        jinja_environment_kwargs=JINJA_ENVIRONMENT,
        doc_md=f"Exported by luigi-fargate from `{spec_path.name}`; root task `{spec.root}` "
        f"(Luigi `{spec.node(spec.root).module}.{spec.node(spec.root).family}`). {spec.description}",
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
    weights = priority_weights(spec)
    dag_notifiers = list(dag.default_args.get("on_failure_callback") or [])
    for node in spec.tasks:
        own = mail.notifier(list(node.settings.email), f"Airflow task {node.id} failed")
        present(tasks[node.id], node, spec, weights[node.id], [*dag_notifiers, *([own] if own is not None else [])])
    mail.warn_dropped()
    log.debug("built DAG %s (%d tasks) in %.3fs", spec.dag_id, len(tasks), time.perf_counter() - started)
    return dag
