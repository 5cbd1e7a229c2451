"""One ECS task definition per image; each run sets its own size.

Every Luigi task runs the same image with the same entrypoint; only its CPU,
memory and ephemeral storage differ, and RunTask takes those as task-level
overrides. So a release is one task definition revision (see
docs/operations.md for the comparison with one definition per size).

The definition's own ``cpu``/``memory`` are what a run without a size gets.
The container gets a *soft* memory limit (``memoryReservation``) only, and the
smallest one Fargate's sizes allow: a hard container ``memory`` would cap every
run at the base size even when the run asks for more, and a reservation above
a run's task memory would make ECS refuse that run. (Some container-level
memory is still needed: moto's RunTask fails on a definition without any.)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from luigi_fargate.errors import UserError
from luigi_fargate.release.settings import ReleaseSettings, image, release_name
from luigi_fargate.release.specs import is_fargate
from luigi_fargate.spec import NodeKind, SpecFile
from luigi_fargate.spec import environment as env_names

#: spec.runner key -> the release setting it must agree with (the operator finds
#: the log stream as {log_stream_prefix}/{container_name}/{task id}).
_MUST_AGREE = ("region", "container_name", "log_group", "log_stream_prefix")
#: The smallest task memory of any Fargate size (256 CPU / 512 MiB): fits under every run's override.
MEMORY_RESERVATION_MIB = 512


def default_release(image_ref: str) -> str:
    """The image's tag or digest: what most teams call the release anyway."""
    if "@" in image_ref:
        return image_ref.rsplit("@", 1)[1]
    last = image_ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def check_specs_agree(settings: ReleaseSettings, specs: Sequence[SpecFile]) -> list[SpecFile]:
    """The fargate specs, after checking each was exported with this configuration."""
    fargate = [s for s in specs if is_fargate(s)]
    for s in fargate:
        for key in _MUST_AGREE:
            exported = getattr(s.spec.runner, key)
            configured = getattr(settings, key)
            if exported is not None and exported != configured:
                raise UserError(
                    f"{s.path}: runner {key}={exported!r} but [luigi_fargate] {key}={configured!r}; "
                    "re-export the pipeline with this configuration (or fix the configuration)"
                )
    return fargate


def size_summary(specs: Sequence[SpecFile]) -> str:
    """'3 x 256 CPU/512 MiB, 1 x 1024 CPU/4096 MiB': the sizes runs will ask for."""
    sizes: Counter[str] = Counter()
    for s in specs:
        for node in s.spec.tasks:
            if node.kind == NodeKind.TASK:
                cpu, mem = (node.size.cpu, node.size.memory) if node.size else (None, None)
                sizes[f"{cpu} CPU/{mem} MiB" if cpu else "default size"] += 1
    return ", ".join(f"{n} x {size}" for size, n in sorted(sizes.items())) or "no tasks"


def render(settings: ReleaseSettings, image_ref: str, release: str | None = None) -> dict[str, Any]:
    """The RegisterTaskDefinition input, as ``aws ecs register-task-definition --cli-input-json`` takes it."""
    image_ref = image("--image", image_ref)
    release = release_name("--release", release) if release else default_release(image_ref)
    environment = [
        *({"name": n, "value": v} for n, v in settings.environment),
        {"name": env_names.ALLOW, "value": settings.allow_path},
        {"name": env_names.RELEASE, "value": release},
    ]
    if settings.lock and env_names.LOCK not in dict(settings.environment):
        environment.append({"name": env_names.LOCK, "value": settings.lock})
    container: dict[str, Any] = {
        "name": settings.container_name,
        "image": image_ref,
        "essential": True,
        "entryPoint": [settings.entrypoint],
        "memoryReservation": MEMORY_RESERVATION_MIB,
        "environment": environment,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": settings.log_group,
                "awslogs-region": settings.region,
                "awslogs-stream-prefix": settings.log_stream_prefix,
            },
        },
    }
    if settings.secrets:
        container["secrets"] = [{"name": n, "valueFrom": arn} for n, arn in settings.secrets]
    if settings.stop_timeout is not None:
        container["stopTimeout"] = settings.stop_timeout
    return {
        "family": settings.task_family,
        "taskRoleArn": settings.task_role_arn,
        "executionRoleArn": settings.execution_role_arn,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": str(settings.cpu),
        "memory": str(settings.memory),
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": settings.cpu_architecture},
        "containerDefinitions": [container],
        "tags": [
            {"key": "luigi-fargate:release", "value": release},
            {"key": "luigi-fargate:image", "value": image_ref[:256]},
        ],
    }


def to_cli_json(task_definition: dict[str, Any]) -> str:
    return json.dumps(task_definition, indent=2) + "\n"


def ecs_client(region: str) -> Any:
    """An ECS client; boto3's standard configuration applies (AWS_ENDPOINT_URL_ECS, profiles, ...)."""
    import boto3

    return boto3.client("ecs", region_name=region)


def register(task_definition: dict[str, Any], ecs: Any) -> str:
    """Register one revision; returns its ARN."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = ecs.register_task_definition(**task_definition)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UserError(
            f"RegisterTaskDefinition {task_definition['family']!r} refused: {error.get('Code')}: {error.get('Message')}; "
            "check the [luigi_fargate] settings and the deployer's IAM policy (docs/security.md)"
        ) from None
    except BotoCoreError as exc:
        raise UserError(f"RegisterTaskDefinition {task_definition['family']!r} failed: {exc}; check AWS credentials and region") from None
    return response["taskDefinition"]["taskDefinitionArn"]
