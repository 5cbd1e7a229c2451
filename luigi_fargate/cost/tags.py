"""The cost-allocation tags a task's ECS task carries, as the operator sets them (minus the per-run ones).

The operator's ``cost_tags`` (airflow_bridge/operators/fargate_spec.py) adds
``airflow_run_id``/``airflow_task_id``/``airflow_try_number`` per run to
these; everything a team is billed by is here, so ``cost`` groups by the
same values the AWS bill's cost allocation tags show. A test keeps the two
in step.
"""

from __future__ import annotations

from luigi_fargate.spec import FargateRunner, PipelineSpec, TaskNode
from luigi_fargate.validators import owner_tag


def static_cost_tags(spec: PipelineSpec, runner: FargateRunner, node: TaskNode) -> dict[str, str]:
    """Configured tags, then ``owner``, ``dag_id`` and ``luigi_family``: the operator's order and values."""
    tags = {**runner.tags, **node.settings.tags}
    owner = node.settings.owner or spec.defaults.owner
    if owner:
        tags["owner"] = owner_tag("owner", owner)
    tags["dag_id"] = spec.dag_id
    tags["luigi_family"] = node.family
    return tags
