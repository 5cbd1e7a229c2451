"""A small DAG that sweeps orphaned ECS tasks every few minutes (``luigi-fargate ecs sweep`` inside Airflow).

Put a two-line file in the dags folder::

    from airflow_bridge.sweeper import ecs_sweeper_dag
    dag = ecs_sweeper_dag(cluster="pipelines", region="eu-west-1")

It asks the Execution API for task instance states (no REST credentials
needed) and the cluster through the Airflow AWS connection, then applies the
same rules as the command (:mod:`luigi_fargate.fargate.sweep`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, task


def _states_from_airflow(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Any]:
    from airflow_bridge.hooks.airflow_state import task_instance_state
    from luigi_fargate.fargate.sweep import InstanceState

    out = {}
    for dag_id, run_id, task_id in keys:
        try:
            state = task_instance_state(dag_id, run_id, task_id)
        except Exception:  # noqa: BLE001 - unknown: the task is kept
            out[(dag_id, run_id, task_id)] = InstanceState(None, known=False)
            continue
        out[(dag_id, run_id, task_id)] = InstanceState(state, found=state is not None)
    return out


def sweep_once(*, cluster: str, region: str | None, aws_conn_id: str | None, grace_seconds: int, dry_run: bool) -> list[str]:
    """One sweep; returns a line per ECS task with what was done (also logged by the task)."""
    from airflow_bridge.hooks.clients import ecs_client
    from luigi_fargate.fargate import sweep

    ecs = ecs_client(aws_conn_id, region)
    now = dt.datetime.now(dt.UTC)
    decisions = sweep.decide(sweep.list_runs(ecs, cluster), _states_from_airflow, now, dt.timedelta(seconds=grace_seconds))
    done = sweep.stop(ecs, cluster, decisions, dry_run)
    return [f"{d.action}: {d.run.arn} ({d.run.dag_id}.{d.run.task_id} {d.run.run_id}): {d.why}" for d in done]


def ecs_sweeper_dag(
    *,
    cluster: str,
    region: str | None = None,
    aws_conn_id: str | None = "aws_default",
    dag_id: str = "luigi_fargate_ecs_sweep",
    schedule: str = "*/15 * * * *",
    grace_seconds: int = 900,
    dry_run: bool = False,
) -> DAG:
    """The sweeper DAG: one task, every 15 minutes by default, never two runs at once."""
    with DAG(
        dag_id=dag_id, schedule=schedule, start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), catchup=False,
        max_active_runs=1, tags=["luigi-fargate"], doc_md=__doc__,
    ) as dag:  # fmt: skip

        @task(task_id="sweep")
        def sweep_task() -> list[str]:
            lines = sweep_once(cluster=cluster, region=region, aws_conn_id=aws_conn_id, grace_seconds=grace_seconds, dry_run=dry_run)
            for line in lines:
                print(line)
            return lines

        sweep_task()
    return dag
