"""Small specs for operator tests, built with the real settings -> runner contract."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from luigi_fargate.fargate.settings import FargateSettings
from luigi_fargate.spec import FargateRunner, FargateSize, PipelineSpec, TaskNode, TaskParam, TaskSettings
from tests.fargate.conftest import (
    CLUSTER,
    CONN_ID,
    CONTAINER,
    LOG_GROUP,
    LOG_PREFIX,
    REGION,
    TASK_DEFINITION,
    FakeFargate,
)

DAG_ID = "ledger"
TASK = "exchange_rates"


def runner(fake: FakeFargate, **extra: Any) -> FargateRunner:
    settings = FargateSettings(
        cluster=CLUSTER, region=REGION, task_definition=TASK_DEFINITION, container_name=CONTAINER,
        subnets=[fake.subnet], security_groups=[fake.security_group], log_group=LOG_GROUP,
        log_stream_prefix=LOG_PREFIX, tags={"team": "ledger"}, aws_conn_id=CONN_ID, poll_seconds=1,
    )  # fmt: skip
    return dataclasses.replace(settings.runner(), **{"poll_seconds": 0.4, "start_backoff_seconds": 0.1, **extra})


def write_spec(path: Path, fake: FakeFargate, node: dict[str, Any] | None = None, **runner_extra: Any) -> Path:
    """One ExchangeRates task whose date follows the run (``{{ ds }}``)."""
    node = node or {}
    task = TaskNode(
        id=TASK,
        task_id="ExchangeRates_2026_11_01_abc",
        module="examples.pipeline",
        family="ExchangeRates",
        params=[TaskParam("date", "2026-11-01", "{{ ds }}")],
        settings=TaskSettings(**{"owner": "ledger-team@example.com", **node.get("settings", {})}),
        size=FargateSize(**node.get("size", {"cpu": 1024, "memory": 3072, "ephemeral_storage_gib": 30})),
    )
    spec = PipelineSpec(dag_id=DAG_ID, root=TASK, tasks=[task], runner=runner(fake, **runner_extra), start_date="2026-11-01")
    path.write_text(spec.to_json())
    return path
