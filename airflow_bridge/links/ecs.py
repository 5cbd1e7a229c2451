"""Console link to the ECS task a Fargate operator started (the provider has none for ECS tasks)."""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class EcsTaskLink(BaseAwsLink):
    """The ECS console page of the task: status, stop reason, exit codes, size."""

    name = "ECS Task"
    key = "ecs_task"
    format_str = BASE_AWS_CONSOLE_LINK + "/ecs/v2/clusters/{cluster}/tasks/{task_id}/configuration?region={region_name}"


def ecs_task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def cluster_name(cluster: str) -> str:
    """``arn:aws:ecs:...:cluster/NAME`` or ``NAME`` -> ``NAME``."""
    return cluster.rsplit("/", 1)[-1]
