"""Checks for AWS identifiers and Fargate sizes taken from user configuration.

A typo in a subnet id or a memory value otherwise surfaces at run time as an
AWS error inside one Airflow task, long after export. These functions fail at
export (or when task definitions are built) with one line naming the setting,
the value, and the expected form. Standard library only.

Each function returns the value normalised (stripped, int for numbers) so a
caller can write ``subnets = [subnet_id("subnets", s) for s in raw]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from luigi_fargate.errors import UserError

SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
#: arn:partition:service:region:account:resource (region/account may be empty, e.g. IAM).
ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$")
REGION = re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob)-[a-z]+(-[a-z]+)?-\d$")
#: ECS task definition family: letters, digits, hyphens, underscores, up to 255.
TASK_DEFINITION_FAMILY = re.compile(r"^[A-Za-z0-9_-]{1,255}(:\d+)?$")
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
#: ECS tag keys (<= 128) and values (<= 256): letters, digits, spaces and _ . : / = + - @
TAG_TEXT = re.compile(r"^[\w .:/=+\-@]*$")

#: Fargate task cpu units -> valid memory values (MiB); see FACTS.md.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
EPHEMERAL_STORAGE_GIB = (21, 200)


def fail(key: str, value: object, expected: str, fix: str = "") -> UserError:
    tail = f"; {fix}" if fix else ""
    return UserError(f"{key}={value!r}: expected {expected}{tail}")


def matching(key: str, value: object, pattern: re.Pattern[str], expected: str) -> str:
    text = str(value).strip() if value is not None else ""
    if not pattern.match(text):
        raise fail(key, value, expected)
    return text


def subnet_id(key: str, value: object) -> str:
    """A VPC subnet id such as ``subnet-0abc12345def67890``."""
    return matching(key, value, SUBNET_ID, "a subnet id like subnet-0abc12345def67890 (8 or 17 hex digits)")


def security_group_id(key: str, value: object) -> str:
    """A security group id such as ``sg-0abc12345def67890``."""
    return matching(key, value, SECURITY_GROUP_ID, "a security group id like sg-0abc12345def67890 (8 or 17 hex digits)")


def arn(key: str, value: object, service: str | None = None) -> str:
    """An ARN, optionally of one service (``ecs``, ``iam``, ``logs`` ...)."""
    text = matching(key, value, ARN, "an ARN like arn:aws:<service>:<region>:<account>:<resource>")
    if service is not None and ARN.match(text).group(2) != service:  # type: ignore[union-attr]
        raise fail(key, value, f"an ARN of service {service!r} (arn:aws:{service}:...)")
    return text


def region(key: str, value: object) -> str:
    """An AWS region name such as ``eu-west-1``."""
    return matching(key, value, REGION, "an AWS region name like eu-west-1 or us-east-1")


def task_definition(key: str, value: object) -> str:
    """An ECS task definition: ``family``, ``family:revision`` or an ARN."""
    text = str(value).strip() if value is not None else ""
    if text.startswith("arn:"):
        return arn(key, text, service="ecs")
    return matching(key, value, TASK_DEFINITION_FAMILY, "a task definition family[:revision] (letters, digits, - and _) or an ECS ARN")


def cluster(key: str, value: object) -> str:
    """An ECS cluster name or ARN."""
    text = str(value).strip() if value is not None else ""
    if text.startswith("arn:"):
        return arn(key, text, service="ecs")
    return matching(key, value, CLUSTER_NAME, "an ECS cluster name (letters, digits, - and _) or ARN")


def container_name(key: str, value: object) -> str:
    """A container name in a task definition: letters, digits, hyphens and underscores, up to 255."""
    return matching(key, value, CLUSTER_NAME, "a container name (letters, digits, - and _)")


def positive_int(key: str, value: object) -> int:
    """A whole number above zero (sizes, counts)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise fail(key, value, "a whole number") from None
    if number <= 0:
        raise fail(key, value, "a whole number above 0")
    return number


def cpu_units(key: str, value: object) -> int:
    """Fargate CPU in units (1024 = 1 vCPU), one of 256 ... 16384."""
    number = positive_int(key, value)
    if number not in FARGATE_MEMORY_BY_CPU:
        valid = ", ".join(str(c) for c in FARGATE_MEMORY_BY_CPU)
        raise fail(key, value, f"Fargate CPU units, one of {valid} (1024 = 1 vCPU)")
    return number


def memory_mib(key: str, value: object, cpu: int | None = None) -> int:
    """Memory in MiB; with ``cpu`` given, one of that CPU's valid Fargate values."""
    number = positive_int(key, value)
    if cpu is not None:
        valid = FARGATE_MEMORY_BY_CPU.get(cpu, ())
        if number not in valid:
            shown = f"{valid[0]}-{valid[-1]}" if valid else "none"
            raise fail(key, value, f"a Fargate memory value for cpu={cpu} (MiB, {shown})")
    return number


def ephemeral_storage_gib(key: str, value: object) -> int:
    """Fargate ephemeral storage in GiB: 21 to 200 (20 is the default, don't set it)."""
    number = positive_int(key, value)
    low, high = EPHEMERAL_STORAGE_GIB
    if not low <= number <= high:
        raise fail(key, value, f"ephemeral storage in GiB from {low} to {high} (omit it for the 20 GiB default)")
    return number


def tag(key: str, name: str, value: str) -> tuple[str, str]:
    """One ECS resource tag; ``aws:`` is reserved by AWS."""
    if not name or len(name) > 128 or not TAG_TEXT.match(name) or name.lower().startswith("aws:"):
        raise fail(key, name, "a tag key of 1-128 letters, digits, spaces or _ . : / = + - @, not starting with aws:")
    if len(value) > 256 or not TAG_TEXT.match(value):
        raise fail(key, value, f"a value for tag {name!r} of at most 256 letters, digits, spaces or _ . : / = + - @")
    return name, value


def choice(key: str, value: object, options: Iterable[str]) -> str:
    """One of a fixed set of words (case-insensitive; returned as listed)."""
    text = str(value).strip() if value is not None else ""
    for option in options:
        if text.lower() == option.lower():
            return option
    raise fail(key, value, "one of " + ", ".join(options))
