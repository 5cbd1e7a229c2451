"""The cost-allocation tags of a task's ECS task: one definition for the operator and for ``cost``.

The operator (airflow_bridge/operators/fargate_spec.py) adds the per-run
``airflow_run_id``/``airflow_task_id``/``airflow_try_number`` to these;
everything a team is billed by is here, so ``cost`` groups by the same
values the AWS bill's cost allocation tags show.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from luigi_fargate.validators import owner_tag

if TYPE_CHECKING:
    from luigi_fargate.spec.model import FargateRunner, PipelineSpec, TaskNode


def static_cost_tags(spec: PipelineSpec, runner: FargateRunner, node: TaskNode) -> dict[str, str]:
    """Configured tags (the runner's, then the task's), then ``owner``, ``dag_id`` and ``luigi_family``."""
    tags = {**runner.tags, **node.settings.tags}
    owner = node.settings.owner or spec.defaults.owner
    if owner:
        tags["owner"] = owner_tag("owner", owner)  # `Name <address>` is tagged as the address (checked at export)
    tags["dag_id"] = spec.dag_id
    tags["luigi_family"] = node.family
    return tags
