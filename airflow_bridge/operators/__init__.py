"""Operators that run exported Luigi tasks, and the choice between them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from luigi_fargate.spec import NodeKind, PipelineSpec, RunnerKind


def operator_for(spec: PipelineSpec) -> Callable[..., Any]:
    """The factory that makes one Airflow task from one spec node for this spec's runner."""
    kind = spec.runner.kind
    if kind == RunnerKind.LOCAL:
        from airflow_bridge.operators.local import make_local_task

        return make_local_task
    if kind == RunnerKind.FARGATE:
        # Imported only for Fargate specs: it pulls in boto3 (~0.3 s of parse time, docs/fargate.md).
        from airflow_bridge.operators.fargate_spec import make_fargate_task

        return make_fargate_task
    raise ValueError(f"{spec.dag_id}: unknown runner {kind!r} in spec; re-export with --runner local or fargate")


def node_operator(make: Callable[..., Any]) -> Callable[..., Any]:
    """Dispatch on the node's kind: ``wrapper`` -> EmptyOperator (no container), ``external`` ->
    completeness sensor (checks, never runs), ``task`` -> ``make`` (the runner's operator)."""

    def build(*, node: Any, spec: PipelineSpec, spec_path: str, dag: Any) -> Any:
        if node.kind == NodeKind.WRAPPER:
            from airflow.providers.standard.operators.empty import EmptyOperator

            from airflow_bridge.operators.task_arguments import task_arguments

            kwargs = {k: v for k, v in task_arguments(node).items() if k not in ("retries", "retry_delay", "execution_timeout")}
            return EmptyOperator(task_id=node.id, dag=dag, **kwargs)
        if node.kind == NodeKind.EXTERNAL:
            from airflow_bridge.operators.sensors import make_completeness_sensor
            from airflow_bridge.operators.task_arguments import runner_env

            return make_completeness_sensor(node=node, spec=spec, spec_path=spec_path, dag=dag, env=runner_env(node, spec))
        return make(node=node, spec=spec, spec_path=spec_path, dag=dag)

    return build
