"""Fargate played by moto's server: a cluster, a task definition, a log group, and a recorder of RunTask requests.

moto runs in this process (ThreadedMotoServer), so its in-process backend is
where tests set task outcomes (FACTS.md) and where RunTask requests, sent over
HTTP by any process, are recorded.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

ACCOUNT = "123456789012"
REGION = "us-east-1"
CLUSTER = "luigi"
TASK_DEFINITION = "luigi-pipelines"
CONTAINER = "luigi"
LOG_GROUP = "/ecs/luigi-pipelines"
LOG_PREFIX = "luigi"
CONN_ID = "aws_moto"


def conn_env(endpoint: str) -> dict[str, str]:
    """An Airflow AWS connection that points at moto (as an environment variable)."""
    extra = {"endpoint_url": endpoint, "region_name": REGION}
    uri = json.dumps({"conn_type": "aws", "login": "testing", "password": "testing", "extra": extra})
    return {f"AIRFLOW_CONN_{CONN_ID.upper()}": uri}


@dataclass
class FakeFargate:
    """moto's ECS/Logs, with the controls a test needs: outcomes, logs, recorded requests."""

    endpoint: str
    subnet: str
    security_group: str
    run_task_requests: list[dict[str, Any]] = field(default_factory=list)
    #: task ARN -> how many DescribeTasks calls asked about it
    describes: dict[str, int] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)

    @property
    def backend(self) -> Any:
        from moto.ecs.models import ecs_backends

        return ecs_backends[ACCOUNT][REGION]

    def tasks(self) -> dict[str, Any]:
        return dict(self.backend.tasks.get(CLUSTER, {}))

    def stop(self, arn: str, exit_code: int | None = 0, stop_code: str = "EssentialContainerExited",
             reason: str = "Essential container in task exited", container_reason: str | None = None) -> None:
        """Mark a task STOPPED the way Fargate reports it."""
        task = self.backend.tasks[CLUSTER][arn]
        task.last_status = "STOPPED"
        task.desired_status = "STOPPED"
        task.stop_code = stop_code
        task.stopped_reason = reason
        container = task.containers[0]
        container.last_status = "STOPPED"
        container.exitCode = exit_code
        container.exit_code = exit_code
        if container_reason:
            container.reason = container_reason

    def stream_name(self, arn: str) -> str:
        return f"{LOG_PREFIX}/{CONTAINER}/{arn.rsplit('/', 1)[-1]}"

    def write_logs(self, arn: str, lines: list[str]) -> None:
        import time

        logs = self.client("logs")
        stream = self.stream_name(arn)
        try:
            logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        now = int(time.time() * 1000)
        if lines:
            logs.put_log_events(
                logGroupName=LOG_GROUP, logStreamName=stream,
                logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
            )  # fmt: skip

    def luigi_cfg(self, path: Path, extra: str = "") -> Path:
        path.write_text(
            "[core]\n\n[luigi_fargate]\n"
            f"cluster = {CLUSTER}\nregion = {REGION}\ntask_definition = {TASK_DEFINITION}\n"
            f"container_name = {CONTAINER}\nsubnets = {self.subnet}\nsecurity_groups = {self.security_group}\n"
            f"log_group = {LOG_GROUP}\nlog_stream_prefix = {LOG_PREFIX}\naws_conn_id = {CONN_ID}\n"
            "poll_seconds = 1\nowner = data-platform\ntags = team=ledger, cost-center=42\n" + extra
        )
        return path


@pytest.fixture
def fargate(moto_reset: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFargate]:
    """A fresh cluster with frozen task progression (tests decide when a task stops)."""
    from moto.ecs.responses import EC2ContainerServiceResponse

    urllib.request.urlopen(
        urllib.request.Request(
            f"{moto_reset}/moto-api/state-manager/set-transition",
            data=json.dumps({"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1000000}}).encode(),
            method="POST",
        ),
        timeout=10,
    ).read()
    ec2 = boto3.client("ec2", endpoint_url=moto_reset, region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's ECS needs ENI DNS names
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="luigi", Description="luigi tasks", VpcId=vpc)["GroupId"]
    fake = FakeFargate(moto_reset, subnet, sg)
    ecs = fake.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family=TASK_DEFINITION,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        # moto needs container-level memory (FACTS.md)
        containerDefinitions=[{"name": CONTAINER, "image": "luigi-pipelines:1", "memory": 512, "essential": True}],
    )
    fake.client("logs").create_log_group(logGroupName=LOG_GROUP)

    original = EC2ContainerServiceResponse.run_task

    def recording_run_task(self: Any) -> Any:
        fake.run_task_requests.append(json.loads(self.body))
        return original(self)

    original_describe = EC2ContainerServiceResponse.describe_tasks

    def counting_describe_tasks(self: Any) -> Any:
        for arn in json.loads(self.body).get("tasks", []):
            fake.describes[arn] = fake.describes.get(arn, 0) + 1
        return original_describe(self)

    monkeypatch.setattr(EC2ContainerServiceResponse, "run_task", recording_run_task)
    monkeypatch.setattr(EC2ContainerServiceResponse, "describe_tasks", counting_describe_tasks)
    for key, value in conn_env(moto_reset).items():
        monkeypatch.setenv(key, value)
    yield fake


class JsonFileStateStore:
    """Airflow's task_state_store, kept in a file so a second process (the retry) sees it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, Any]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._load().get(key, default)

    def set(self, key: str, value: Any, **_: Any) -> None:
        data = self._load()
        data[key] = value
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)


class AutoStop:
    """Plays Fargate for in-process tests: each newly started task gets the next outcome."""

    def __init__(self, fake: FakeFargate, outcomes: list[dict[str, Any]], after_describes: int = 0) -> None:
        """``after_describes``: stop a task only once the operator has asked about it that often
        (so a retry is seen to reattach and wait, not to find it already stopped)."""
        import threading

        self.fake, self.outcomes, self.after_describes = fake, list(outcomes), after_describes
        self.seen: set[str] = set(fake.tasks())
        self.stopped: list[str] = []
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._halt.wait(0.1):
            for arn in self.fake.tasks():
                if arn in self.seen or not self.outcomes or self.fake.describes.get(arn, 0) < self.after_describes:
                    continue
                self.seen.add(arn)
                outcome = dict(self.outcomes.pop(0))
                self.fake.write_logs(arn, outcome.pop("logs", ["task ran"]))
                self.fake.stop(arn, **outcome)
                self.stopped.append(arn)

    def __enter__(self) -> AutoStop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._halt.set()
        self._thread.join()
