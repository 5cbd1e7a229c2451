"""boto3 clients for ECS and CloudWatch Logs, built through the provider's hooks (the Airflow connection).

The shared poller counts and spaces every call itself (budget, backoff with
jitter), so its clients make exactly one HTTP request per call: botocore's own
retries would spend the budget behind its back and hide throttling from the
backoff.
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

#: One request per call: retries are ours (see airflow_bridge.hooks.retry).
SINGLE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"}, max_pool_connections=20)


def ecs_client(aws_conn_id: str | None, region: str | None, *, single_attempt: bool = False) -> Any:
    from airflow.providers.amazon.aws.hooks.ecs import EcsHook

    return EcsHook(aws_conn_id=aws_conn_id, region_name=region, config=SINGLE_ATTEMPT if single_attempt else None).conn


def logs_client(aws_conn_id: str | None, region: str | None, *, single_attempt: bool = False) -> Any:
    from airflow.providers.amazon.aws.hooks.logs import AwsLogsHook

    return AwsLogsHook(aws_conn_id=aws_conn_id, region_name=region, config=SINGLE_ATTEMPT if single_attempt else None).conn
