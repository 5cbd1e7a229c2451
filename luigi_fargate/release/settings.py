"""The release view of ``[luigi_fargate]``: what a task definition is built from.

The keys live in the same ``[luigi_fargate]`` section of Luigi's own
configuration as the runner's (defined once in :mod:`luigi_fargate.config.keys`;
docs/configuration.md), so one file per environment describes everything.
Every value is checked before anything is sent to AWS or written to disk; an
error names the key, the value and the expected form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from luigi_fargate import config, validators
from luigi_fargate.config.keys import KEYS

#: registry/repository[:tag][@sha256:digest], the forms Docker and ECS accept.
IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
RELEASE = re.compile(r"^[A-Za-z0-9_.:/=+@-]{1,256}$")


def image(key: str, value: object) -> str:
    """A container image reference (ECR or any registry), ideally pinned by tag or digest."""
    return validators.matching(
        key, value, IMAGE,
        "an image like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/pipelines:2026-11-24 (registry/repository:tag or @sha256:digest)",
    )  # fmt: skip


def release_name(key: str, value: object) -> str:
    return validators.matching(key, value, RELEASE, "a release name of letters, digits and ._:/=+@- (at most 256 characters)")


@dataclass(frozen=True)
class ReleaseSettings:
    """Everything a task definition needs besides the image."""

    region: str
    execution_role_arn: str
    task_role_arn: str
    log_group: str
    #: From ``task_definition`` (family, family:revision or ARN): the family new revisions go to.
    task_family: str = "luigi-fargate"
    container_name: str = "luigi"
    log_stream_prefix: str = "luigi"
    #: The definition's own size: what a run without a size override gets.
    cpu: int = 256
    memory: int = 512
    cpu_architecture: str = "X86_64"
    stop_timeout: int | None = None
    entrypoint: str = KEYS["entrypoint"].default
    allow_path: str = KEYS["allow_path"].default
    #: ``[luigi_fargate] lock``: passed to the containers as $LUIGI_FARGATE_LOCK.
    lock: str | None = None
    environment: tuple[tuple[str, str], ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()

    @property
    def account(self) -> str:
        """The AWS account, read from the execution role's ARN (no STS call needed)."""
        return self.execution_role_arn.split(":")[4]


WHAT = "task-definitions and deploy"


def release_settings(configuration: config.Configuration) -> ReleaseSettings:
    """The release view of the checked configuration; a missing key it needs is a one-line error."""
    c = configuration
    values: dict[str, Any] = {name: c.require(name, WHAT) for name in ("region", "execution_role_arn", "task_role_arn", "log_group")}
    if c.has("task_definition"):
        values["task_family"] = family_of(c.get("task_definition"))
    for name in ("container_name", "log_stream_prefix", "cpu_architecture", "entrypoint", "allow_path", "lock", "stop_timeout"):
        if c.has(name):
            values[name] = c.get(name)
    # The definition's own size must be a valid Fargate pair (export rounds task sizes; a definition can't be).
    cpu = validators.cpu_units(config.label("cpu"), c.raw["cpu"]) if c.has("cpu") else ReleaseSettings.cpu
    values["cpu"] = cpu
    memory = c.raw["memory"] if c.has("memory") else min(validators.FARGATE_MEMORY_BY_CPU[cpu])
    values["memory"] = validators.memory_mib(config.label("memory"), memory, cpu=cpu)
    values["environment"] = c.get("environment")
    values["secrets"] = c.get("secrets")
    return ReleaseSettings(**values)


def release_settings_from(raw: Mapping[str, Any]) -> ReleaseSettings:
    """Checked settings from raw ``[luigi_fargate]`` values (strings from luigi.cfg, or TOML values)."""
    return release_settings(config.load(raw))


def family_of(task_definition: str) -> str:
    """``pipelines``, ``pipelines:7`` or ``arn:...:task-definition/pipelines:7`` -> ``pipelines``."""
    return task_definition.rsplit("/", 1)[-1].split(":", 1)[0]


def load_release_settings() -> ReleaseSettings:
    """The checked release settings of this environment."""
    return release_settings(config.load())
