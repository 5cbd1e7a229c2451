"""`task-definitions render|register`: one definition per image, accepted by ECS as it is."""

from __future__ import annotations

import json

import boto3
import botocore.session
from botocore.validate import validate_parameters

from tests.release.conftest import EXECUTION_ROLE, IMAGE_1, PARAMETER, REGION, SECRET, TASK_ROLE


def test_render_prints_what_register_task_definition_accepts(release):
    proc = release.cli("task-definitions", "render", "--image", IMAGE_1, "--dags", str(release.dags))
    assert proc.returncode == 0, proc.stderr
    td = json.loads(proc.stdout)

    # Exactly the input `aws ecs register-task-definition --cli-input-json` validates against.
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
    validate_parameters(td, shape)  # raises ParamValidationError on an unknown key or a wrong type

    assert td["family"] == "pipelines"
    assert (td["networkMode"], td["requiresCompatibilities"]) == ("awsvpc", ["FARGATE"])
    assert (td["executionRoleArn"], td["taskRoleArn"]) == (EXECUTION_ROLE, TASK_ROLE)
    assert (td["cpu"], td["memory"]) == ("512", "1024")
    (container,) = td["containerDefinitions"]
    assert container["image"] == IMAGE_1
    assert container["entryPoint"] == ["/usr/local/bin/luigi-fargate-entrypoint"]
    assert "command" not in container  # each run passes MODULE FAMILY params as its command
    # A soft limit only, under the smallest Fargate size: a hard container limit would cap the runs
    # that ask for more memory, and a reservation above a small run's memory would make ECS refuse it.
    assert container["memoryReservation"] == 512 and "memory" not in container
    assert container["stopTimeout"] == 60
    assert container["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {"awslogs-group": "/luigi-fargate/pipelines", "awslogs-region": REGION, "awslogs-stream-prefix": "runs"},
    }
    assert container["environment"] == [
        {"name": "LOG_LEVEL", "value": "INFO"},
        {"name": "DATA_BUCKET", "value": "s3://example-data"},
        {"name": "LUIGI_FARGATE_ALLOW", "value": "/opt/luigi-fargate/specs"},
        {"name": "LUIGI_FARGATE_RELEASE", "value": "2026-11-01"},
        {"name": "LUIGI_FARGATE_LOCK", "value": f"dynamodb://luigi-locks?region={REGION}"},  # [luigi_fargate] lock
    ]
    assert container["secrets"] == [{"name": "DB_PASSWORD", "valueFrom": SECRET}, {"name": "API_TOKEN", "valueFrom": PARAMETER}]
    assert {"key": "luigi-fargate:release", "value": "2026-11-01"} in td["tags"]
    # render talks to nobody: nothing registered.
    assert release.ecs.list_task_definitions()["taskDefinitionArns"] == []


def test_release_name_overrides_the_image_tag(release):
    proc = release.cli("task-definitions", "render", "--image", IMAGE_1, "--dags", str(release.dags), "--release", "r42")
    env = {e["name"]: e["value"] for e in json.loads(proc.stdout)["containerDefinitions"][0]["environment"]}
    assert env["LUIGI_FARGATE_RELEASE"] == "r42"


def test_register_prints_the_arn_and_runs_take_their_own_size(release):
    proc = release.cli("task-definitions", "register", "--image", IMAGE_1, "--dags", str(release.dags))
    assert proc.returncode == 0, proc.stderr
    arn = proc.stdout.strip()
    assert arn == f"arn:aws:ecs:{REGION}:123456789012:task-definition/pipelines:1"
    assert "2 pipelines can use it" in proc.stderr and "1024 CPU/4096 MiB" in proc.stderr

    registered = release.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    assert registered["containerDefinitions"][0]["image"] == IMAGE_1
    assert registered["executionRoleArn"] == EXECUTION_ROLE

    # The one definition serves every size: a run asks for 1 vCPU / 4 GiB as a task-level override.
    release.ecs.create_cluster(clusterName="pipelines")
    ec2 = boto3.client("ec2", endpoint_url=release.endpoint, region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # moto's awsvpc RunTask needs it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(VpcId=vpc, GroupName="luigi", Description="luigi tasks")["GroupId"]
    task = release.ecs.run_task(
        cluster="pipelines", taskDefinition=arn, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}},
        overrides={"cpu": "1024", "memory": "4096",
                   "containerOverrides": [{"name": "luigi", "command": ["examples.pipeline", "Report", "--date", "2026-11-01"]}]},
    )["tasks"][0]  # fmt: skip
    assert task["taskDefinitionArn"] == arn
    assert task["overrides"]["memory"] == "4096"


def test_a_spec_exported_with_another_configuration_is_refused_before_anything_is_registered(release):
    data = json.loads((release.dags / "daily_report_1.json").read_text())
    data["runner"]["container_name"] = "app"
    (release.dags / "daily_report_1.json").write_text(json.dumps(data))
    proc = release.cli("task-definitions", "register", "--image", IMAGE_1, "--dags", str(release.dags))
    assert proc.returncode == 2
    assert "daily_report_1.json: runner container_name='app' but [luigi_fargate] container_name='luigi'" in proc.stderr
    assert proc.stderr.count("\n") == 1  # one line, no traceback
    assert release.ecs.list_task_definitions()["taskDefinitionArns"] == []
