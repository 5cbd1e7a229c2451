"""Console link to a task's CloudWatch log stream: the provider's ``CloudWatchEventsLink``, filled in one place."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.links.logs import CloudWatchEventsLink


def log_stream_fields(log_region: str | None, log_group: str, stream: str) -> dict[str, Any]:
    """The fields CloudWatchEventsLink formats (also what it persists in XCom)."""
    return {"awslogs_region": log_region, "awslogs_group": log_group, "awslogs_stream_name": stream}


def log_stream_url(region: str | None, aws_partition: str, log_group: str, stream: str) -> str:
    """The console URL of one log stream, for failure messages."""
    return CloudWatchEventsLink().format_link(
        region_name=region, aws_domain=CloudWatchEventsLink.get_aws_domain(aws_partition), **log_stream_fields(region, log_group, stream)
    )
