"""Tasks too big for Fargate run on an EC2 capacity provider, end to end against moto: export decides it,
the operator sends RunTask with the provider's strategy, ECS places the task on a registered container
instance (an Auto Scaling group behind the provider, a task definition compatible with EC2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import base_env, luigi_fargate
from tests.fargate import driver
from tests.fargate.conftest import CLUSTER, CONTAINER, TASK_DEFINITION, AutoStop, FakeFargate

PROVIDER = "big-boxes"


@pytest.fixture
def ec2_capacity(fargate: FakeFargate) -> str:
    """A container instance in the cluster, an Auto Scaling group behind a capacity provider, and a task
    definition revision compatible with both EC2 and Fargate. Returns the container instance ARN."""
    ec2, ecs, autoscaling = fargate.client("ec2"), fargate.client("ecs"), fargate.client("autoscaling")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m5.4xlarge")["Instances"][0]
    document = json.dumps({"instanceId": instance["InstanceId"], "instanceType": "m5.4xlarge"})
    container_instance = ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document)["containerInstance"]
    autoscaling.create_launch_configuration(LaunchConfigurationName="big", ImageId=image, InstanceType="m5.4xlarge")
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="big", LaunchConfigurationName="big", MinSize=0, MaxSize=2,
                                          AvailabilityZones=["us-east-1a"])  # fmt: skip
    group_arn = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"][0]["AutoScalingGroupARN"]
    ecs.create_capacity_provider(name=PROVIDER, autoScalingGroupProvider={"autoScalingGroupArn": group_arn})
    ecs.put_cluster_capacity_providers(cluster=CLUSTER, capacityProviders=[PROVIDER, "FARGATE", "FARGATE_SPOT"],
                                       defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])  # fmt: skip
    ecs.register_task_definition(
        family=TASK_DEFINITION, requiresCompatibilities=["EC2", "FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": CONTAINER, "image": "luigi-pipelines:1", "memoryReservation": 512, "essential": True}],
    )  # fmt: skip
    return container_instance["containerInstanceArn"]


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_an_oversize_task_runs_on_the_ec2_capacity_provider(
    fargate: FakeFargate, ec2_capacity: str, tmp_path: Path, deferrable: bool
) -> None:
    cfg = fargate.luigi_cfg(tmp_path / "luigi.cfg", f"ec2_capacity_providers = {PROVIDER}:1\ndeferrable = {str(deferrable).lower()}\n")
    proc = luigi_fargate(
        "export", "tests.fargate.sized_tasks.Everything", "--date", "2026-11-01", "--runner", "fargate", "--with-huge", "true",
        "--out", str(tmp_path / "dags"), env=base_env(LUIGI_CONFIG_PATH=str(cfg)),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    spec_path = tmp_path / "dags" / "sized_tasks_everything.json"
    huge = next(t for t in json.loads(spec_path.read_text())["tasks"] if t["family"] == "Huge")

    with AutoStop(fargate, [{"exit_code": 0, "logs": ["trained on a big box"]}]):
        driver.run(spec_path, huge["id"], tmp_path / "state.json")

    (request,) = fargate.run_task_requests
    assert request["capacityProviderStrategy"] == [{"capacityProvider": PROVIDER, "weight": 1}]
    assert "launchType" not in request
    assert (request["overrides"]["cpu"], request["overrides"]["memory"]) == ("16384", "204800")
    (task,) = fargate.tasks().values()
    assert task.container_instance_arn == ec2_capacity  # placed on the registered EC2 instance
    assert task.capacity_provider_name == PROVIDER
