"""The spec -> ``LuigiFargateOperator`` arguments mapping, in one place.

Everything the Fargate operator is told comes from the spec's ``runner``
(written by ``luigi_fargate/fargate/settings.py`` at export) and each node's
``size`` and ``settings``. Every string that comes from the spec is a
literal and is escaped for Jinja (``overrides`` and ``tags`` are templated
fields); only the exporter's run-date templates and the run's own ids are live.
"""

from __future__ import annotations

from typing import Any

from airflow_bridge.operators.fargate import LuigiFargateOperator
from airflow_bridge.operators.task_arguments import runner_arguments, runner_env, task_arguments
from luigi_fargate.spec import Capacity, FargateRunner, PipelineSpec, TaskNode
from luigi_fargate.spec.params import jinja_literal, literal_mapping
from luigi_fargate.spec.tags import static_cost_tags


def capacity_strategy(runner: FargateRunner, node: TaskNode) -> list[dict[str, Any]]:
    """The node's capacity: its own choice (Spot, EC2) or the runner's default (FARGATE)."""
    choice = node.settings.capacity or runner.capacity
    if choice == Capacity.EC2:
        return [item.to_ecs() for item in runner.ec2_capacity_provider_strategy]
    return [{"capacityProvider": str(choice), "weight": 1}]


def run_task_overrides(runner: FargateRunner, node: TaskNode, env: dict[str, str]) -> dict[str, Any]:
    """RunTask ``overrides``: the runner command (MODULE FAMILY params) and the task-level size."""
    container: dict[str, Any] = {"name": runner.container_name, "command": runner_arguments(node, runner.runner_options)}
    if env:
        container["environment"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    overrides: dict[str, Any] = {"containerOverrides": [container]}
    size = node.size
    if size is not None and size.cpu:
        overrides["cpu"] = str(size.cpu)
    if size is not None and size.memory:
        overrides["memory"] = str(size.memory)
    if size is not None and size.ephemeral_storage_gib:
        overrides["ephemeralStorage"] = {"sizeInGiB": int(size.ephemeral_storage_gib)}
    return overrides


def cost_tags(spec: PipelineSpec, runner: FargateRunner, node: TaskNode) -> dict[str, str]:
    """Tags: configured ones, then owner, DAG, family, and the task instance (templated; the sweeper reads them)."""
    tags = literal_mapping(static_cost_tags(spec, runner, node))
    tags["airflow_run_id"] = "{{ run_id }}"
    tags["airflow_task_id"] = jinja_literal(node.id)
    tags["airflow_try_number"] = "{{ ti.try_number }}"
    return tags


def network_configuration(runner: FargateRunner) -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": list(runner.subnets),
            "securityGroups": list(runner.security_groups),
            "assignPublicIp": runner.assign_public_ip,
        }
    }


def waiting_arguments(runner: FargateRunner) -> dict[str, Any]:
    """How the operator waits: deferred (the default) or here, polling, the API budget, Spot fallback."""
    return {
        "deferrable": runner.deferrable,
        "poll_seconds": runner.poll_seconds,
        "start_attempts": runner.start_attempts,
        "start_backoff_seconds": runner.start_backoff_seconds,
        "describe_tasks_per_second": runner.describe_tasks_per_second,
        "get_log_events_per_second": runner.get_log_events_per_second,
        "triggerers": runner.triggerers,
        "spot_fallback_to_on_demand": runner.spot_fallback_to_on_demand,
        "oom_memory_ceiling": runner.oom_memory_ceiling,
    }


def make_fargate_task(*, node: TaskNode, spec: PipelineSpec, spec_path: str, dag: Any) -> LuigiFargateOperator:
    runner = spec.runner
    assert isinstance(runner, FargateRunner)
    return LuigiFargateOperator(
        task_id=node.id,
        luigi_module=node.module,
        luigi_family=node.family,
        luigi_label=node.task_id,
        cluster=runner.cluster,
        task_definition=runner.task_definition,
        container_name=runner.container_name,
        overrides=run_task_overrides(runner, node, runner_env(node, spec)),
        capacity_provider_strategy=capacity_strategy(runner, node),
        launch_type=None,
        network_configuration=network_configuration(runner),
        tags=cost_tags(spec, runner, node),
        propagate_tags="TASK_DEFINITION",
        awslogs_group=runner.log_group,
        awslogs_stream_prefix=runner.log_stream_prefix if runner.log_group else None,
        awslogs_region=runner.region,
        region_name=runner.region,
        aws_conn_id=runner.aws_conn_id,
        dag=dag,
        **waiting_arguments(runner),
        **task_arguments(node),
    )
