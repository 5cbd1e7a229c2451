"""The spec -> ``LuigiFargateOperator`` arguments mapping, in one place.

Everything the Fargate operator is told comes from the spec's ``runner``
(written by ``luigi_fargate/fargate/settings.py`` at export) and each node's
``size`` and ``settings``. Keys missing from older specs get the defaults
documented in docs/configuration.md.
"""

from __future__ import annotations

from typing import Any

from airflow_bridge.operators.fargate import LuigiFargateOperator
from luigi_fargate.spec import PipelineSpec, TaskNode


def capacity_strategy(runner: dict[str, Any], node: TaskNode) -> list[dict[str, Any]]:
    """The node's capacity: its own choice (Spot, EC2) or the runner's default (FARGATE)."""
    choice = node.settings.get("capacity")
    if choice == "EC2":
        return list(runner.get("ec2_capacity_provider_strategy") or [])
    if choice in ("FARGATE", "FARGATE_SPOT"):
        return [{"capacityProvider": choice, "weight": 1}]
    return list(runner.get("capacity_provider_strategy") or [{"capacityProvider": "FARGATE", "weight": 1}])


def run_task_overrides(runner: dict[str, Any], node: TaskNode, env: dict[str, str]) -> dict[str, Any]:
    """RunTask ``overrides``: the runner command (MODULE FAMILY args) and the task-level size."""
    container: dict[str, Any] = {
        "name": runner["container_name"],
        "command": [*runner.get("runner_options", []), node.module, node.family, *node.args],
    }
    if env:
        container["environment"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    overrides: dict[str, Any] = {"containerOverrides": [container]}
    if node.size.get("cpu"):
        overrides["cpu"] = str(node.size["cpu"])
    if node.size.get("memory"):
        overrides["memory"] = str(node.size["memory"])
    if node.size.get("ephemeral_storage_gib"):
        overrides["ephemeralStorage"] = {"sizeInGiB": int(node.size["ephemeral_storage_gib"])}
    return overrides


def cost_tags(spec: PipelineSpec, node: TaskNode) -> dict[str, str]:
    """Tags: configured ones, then owner, DAG, family, and the task instance (templated; the sweeper reads them)."""
    tags = {**spec.runner.get("tags", {}), **node.settings.get("tags", {})}
    owner = node.settings.get("owner_tag") or node.settings.get("owner") or spec.defaults.get("owner")
    if owner:
        tags["owner"] = str(owner)
    tags["dag_id"] = spec.dag_id
    tags["luigi_family"] = node.family
    tags["airflow_run_id"] = "{{ run_id }}"
    tags["airflow_task_id"] = node.id
    tags["airflow_try_number"] = "{{ ti.try_number }}"
    return tags


def network_configuration(runner: dict[str, Any]) -> dict[str, Any]:
    return {
        "awsvpcConfiguration": {
            "subnets": list(runner["subnets"]),
            "securityGroups": list(runner["security_groups"]),
            "assignPublicIp": runner.get("assign_public_ip", "DISABLED"),
        }
    }


def waiting_arguments(runner: dict[str, Any]) -> dict[str, Any]:
    """How the operator waits: deferred (the default) or here, polling, the API budget, Spot fallback."""
    return {
        "deferrable": bool(runner.get("deferrable", True)),
        "poll_seconds": float(runner.get("poll_seconds", 6)),
        "start_attempts": int(runner.get("start_attempts", 5)),
        "start_backoff_seconds": float(runner.get("start_backoff_seconds", 5)),
        "describe_tasks_per_second": float(runner.get("describe_tasks_per_second", 1.0)),
        "get_log_events_per_second": float(runner.get("get_log_events_per_second", 10.0)),
        "triggerers": int(runner.get("triggerers", 1)),
        "spot_fallback_to_on_demand": bool(runner.get("spot_fallback_to_on_demand", False)),
    }


def make_fargate_task(*, node: TaskNode, spec: PipelineSpec, spec_path: str, dag: Any) -> LuigiFargateOperator:
    from airflow_bridge.operators.task_arguments import runner_env, task_arguments

    runner = spec.runner
    return LuigiFargateOperator(
        task_id=node.id,
        task_display_name=node.task_id,
        luigi_module=node.module,
        luigi_family=node.family,
        luigi_label=node.task_id,
        cluster=runner["cluster"],
        task_definition=runner["task_definition"],
        container_name=runner["container_name"],
        overrides=run_task_overrides(runner, node, runner_env(node, spec)),
        capacity_provider_strategy=capacity_strategy(runner, node),
        launch_type=None,
        network_configuration=network_configuration(runner),
        tags=cost_tags(spec, node),
        propagate_tags="TASK_DEFINITION",
        awslogs_group=runner.get("log_group"),
        awslogs_stream_prefix=runner.get("log_stream_prefix") if runner.get("log_group") else None,
        awslogs_region=runner.get("region"),
        region_name=runner.get("region"),
        aws_conn_id=runner.get("aws_conn_id", "aws_default"),
        dag=dag,
        **waiting_arguments(runner),
        **task_arguments(node),
    )
