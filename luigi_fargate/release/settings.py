"""The release keys of ``[luigi_fargate]``: what a task definition is built from.

They live in the same ``[luigi_fargate]`` section of Luigi's own configuration
as the runner's keys (see :mod:`luigi_fargate.config` and
docs/configuration.md), so one file per environment describes everything.
Every value is checked before anything is sent to AWS or written to disk; an
error names the key, the value and the expected form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from luigi_fargate import validators
from luigi_fargate.errors import UserError

#: Where the image keeps its ENTRYPOINT script (see docs/operations.md, the Dockerfile).
DEFAULT_ENTRYPOINT = "/usr/local/bin/luigi-fargate-entrypoint"
#: Where the image keeps the exported specs that form its allowlist.
DEFAULT_ALLOW_PATH = "/opt/luigi-fargate/specs"

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOG_GROUP = re.compile(r"^[A-Za-z0-9_./#-]{1,512}$")
STREAM_PREFIX = re.compile(r"^[^:*]{1,512}$")
#: registry/repository[:tag][@sha256:digest], the forms Docker and ECS accept.
IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*[a-z0-9](:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
RELEASE = re.compile(r"^[A-Za-z0-9_.:/=+@-]{1,256}$")
#: Environment names the task definition sets itself; configuration may not override them.
RESERVED_ENV = ("LUIGI_FARGATE_ALLOW", "LUIGI_FARGATE_RELEASE")
CPU_ARCHITECTURES = ("X86_64", "ARM64")


def _key(name: str) -> str:
    return f"[luigi_fargate] {name}"


_fail = validators.fail
_matching = validators.matching


def role_arn(key: str, value: object) -> str:
    """An IAM role ARN: ECS takes nothing else for the execution and task roles."""
    text = validators.arn(key, value, service="iam")
    if ":role/" not in text:
        raise _fail(key, value, "an IAM role ARN like arn:aws:iam::123456789012:role/luigi-fargate-task")
    return text


def secret_arn(key: str, value: object) -> str:
    """A secret source ECS can inject: an SSM parameter or a Secrets Manager secret ARN."""
    expected = (
        "an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/NAME) or a Secrets Manager ARN "
        "(arn:aws:secretsmanager:<region>:<account>:secret:NAME)"
    )
    try:
        text = validators.arn(key, value)
    except UserError:
        raise _fail(key, value, expected) from None
    service, resource = text.split(":")[2], text.split(":", 5)[5]
    if not ((service == "ssm" and resource.startswith("parameter/")) or (service == "secretsmanager" and resource.startswith("secret:"))):
        raise _fail(key, value, expected)
    return text


def image(key: str, value: object) -> str:
    """A container image reference (ECR or any registry), ideally pinned by tag or digest."""
    return _matching(
        key, value, IMAGE,
        "an image like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/pipelines:2026-11-24 (registry/repository:tag or @sha256:digest)",
    )  # fmt: skip


def release_name(key: str, value: object) -> str:
    return _matching(key, value, RELEASE, "a release name of letters, digits and ._:/=+@- (at most 256 characters)")


def _pairs(key: str, value: object) -> list[tuple[str, str]]:
    """``NAME=VALUE`` lines (luigi.cfg) or a table (luigi.toml), in order, names checked."""
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):
        items = [(str(k), str(v)) for k, v in value.items()]
    else:
        items = []
        for line in str(value).splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, val = line.partition("=")
            if not sep:
                raise _fail(key, line, "one NAME=VALUE per line")
            items.append((name.strip(), val.strip()))
    seen: set[str] = set()
    for name, _ in items:
        if not ENV_NAME.match(name):
            raise _fail(key, name, "an environment variable name (letters, digits and _, not starting with a digit)")
        elif name in RESERVED_ENV:
            raise _fail(key, name, f"a name other than {', '.join(RESERVED_ENV)} (the task definition sets those itself)")
        if name in seen:
            raise _fail(key, name, "each name once")
        seen.add(name)
    return items


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
    entrypoint: str = DEFAULT_ENTRYPOINT
    allow_path: str = DEFAULT_ALLOW_PATH
    #: ``[luigi_fargate] lock``: passed to the containers as $LUIGI_FARGATE_LOCK.
    lock: str | None = None
    environment: tuple[tuple[str, str], ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()

    @property
    def account(self) -> str:
        """The AWS account, read from the execution role's ARN (no STS call needed)."""
        return self.execution_role_arn.split(":")[4]


#: key -> (validator, required). Order = the order errors are reported in.
_FIELDS: dict[str, tuple[Callable[[str, Any], Any], bool]] = {
    "region": (validators.region, True),
    "execution_role_arn": (role_arn, True),
    "task_role_arn": (role_arn, True),
    "task_definition": (validators.task_definition, False),
    "container_name": (validators.container_name, False),
    "log_group": (lambda k, v: _matching(k, v, LOG_GROUP, "a CloudWatch log group name like /luigi-fargate (letters, digits, _ . / # -)"), True),
    "log_stream_prefix": (lambda k, v: _matching(k, v, STREAM_PREFIX, "a log stream prefix without ':' or '*'"), False),
    "cpu": (validators.cpu_units, False),
    "cpu_architecture": (lambda k, v: validators.choice(k, v, CPU_ARCHITECTURES), False),
    "entrypoint": (lambda k, v: _matching(k, v, re.compile(r"^/\S+$"), "an absolute path inside the image"), False),
    "allow_path": (lambda k, v: _matching(k, v, re.compile(r"^/\S+$"), "an absolute path inside the image"), False),
}

def lock_url(key: str, value: object) -> str:
    from urllib.parse import urlsplit

    from luigi_fargate.locks.base import BACKENDS

    text = str(value).strip()
    if urlsplit(text).scheme not in BACKENDS or "://" not in text:
        raise _fail(key, value, "a lock URL: dynamodb://TABLE?region=REGION, luigid://HOST:PORT or file://DIR")
    return text


_FIELDS["lock"] = (lock_url, False)

#: Every key this module reads, for docs/configuration.md and the config tests.
RELEASE_KEYS = (*_FIELDS, "memory", "stop_timeout", "environment", "secrets")


def _stop_timeout(key: str, value: object) -> int:
    number = validators.positive_int(key, value)
    if not 2 <= number <= 120:
        raise _fail(key, value, "seconds from 2 to 120 (Fargate's limit; the runner needs a few to release its lock)")
    return number


def release_settings_from(raw: Mapping[str, Any]) -> ReleaseSettings:
    """Validated settings from raw ``[luigi_fargate]`` values (strings from luigi.cfg, or TOML values)."""
    values: dict[str, Any] = {}
    for name, (check, required) in _FIELDS.items():
        value = raw.get(name)
        if value is None or value == "":
            if required:
                raise UserError(f"{_key(name)}: missing; expected {_EXPECTED_WHEN_MISSING[name]}; add it to luigi.cfg (docs/configuration.md)")
            continue
        values[name] = check(_key(name), value)
    if "task_definition" in values:
        values["task_family"] = family_of(values.pop("task_definition"))
    cpu = values.get("cpu", ReleaseSettings.cpu)
    default_memory = min(validators.FARGATE_MEMORY_BY_CPU[cpu])
    values["memory"] = validators.memory_mib(_key("memory"), raw.get("memory") or default_memory, cpu=cpu)
    if raw.get("stop_timeout") not in (None, ""):
        values["stop_timeout"] = _stop_timeout(_key("stop_timeout"), raw["stop_timeout"])
    values["environment"] = tuple(_pairs(_key("environment"), raw.get("environment")))
    values["secrets"] = tuple((n, secret_arn(_key("secrets") + f" {n}", v)) for n, v in _pairs(_key("secrets"), raw.get("secrets")))
    return ReleaseSettings(**values)


_EXPECTED_WHEN_MISSING = {
    "region": "an AWS region name like eu-west-1",
    "execution_role_arn": "the ARN of the role ECS uses to pull the image and write logs (arn:aws:iam::<account>:role/NAME)",
    "task_role_arn": "the ARN of the role the task's code runs as (arn:aws:iam::<account>:role/NAME)",
    "log_group": "the CloudWatch log group the containers log to, e.g. /luigi-fargate",
}


def family_of(task_definition: str) -> str:
    """``pipelines``, ``pipelines:7`` or ``arn:...:task-definition/pipelines:7`` -> ``pipelines``."""
    return task_definition.rsplit("/", 1)[-1].split(":", 1)[0]


def read_section() -> dict[str, Any]:
    """The raw ``[luigi_fargate]`` values this module knows, from Luigi's configuration."""
    from luigi_fargate import config

    return {key: config.get(key) for key in RELEASE_KEYS}


def load_release_settings() -> ReleaseSettings:
    """The validated release settings of this environment."""
    return release_settings_from(read_section())
