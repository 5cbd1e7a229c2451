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
import unicodedata
from collections.abc import Iterable
from email.utils import parseaddr

from luigi_fargate.errors import UserError

SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8}([0-9a-f]{9})?$")
#: arn:partition:service:region:account:resource (region/account may be empty, e.g. IAM).
ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$")
REGION = re.compile(r"^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob)-[a-z]+(-[a-z]+)?-\d$")
#: ECS task definition family: letters, digits, hyphens, underscores, up to 255.
TASK_DEFINITION_FAMILY = re.compile(r"^[A-Za-z0-9_-]{1,255}(:\d+)?$")
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
#: ECS tag text: Unicode letters, numbers and spaces, and these (the API's [\p{L}\p{Z}\p{N}_.:/=+\-@]*).
TAG_PUNCTUATION = frozenset("_.:/=+-@")
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256
#: Tags ECS accepts on one task (the aws: ones it adds itself don't count).
MAX_TAGS_PER_TASK = 50

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


def is_tag_text(text: str) -> bool:
    """Whether ECS accepts ``text`` in a tag key or value (its character rule only)."""
    return all(c in TAG_PUNCTUATION or unicodedata.category(c)[0] in "LNZ" for c in text)


def tag(key: str, name: str, value: str) -> tuple[str, str]:
    """One ECS resource tag, as ECS checks it: key 1-128 and value 0-256 characters of letters, numbers,
    spaces and ``_ . : / = + - @``; neither may start with ``aws:`` (reserved by AWS)."""
    allowed = "letters, digits, spaces or _ . : / = + - @"
    if not name or len(name) > TAG_KEY_MAX or not is_tag_text(name) or name.lower().startswith("aws:"):
        raise fail(key, name, f"a tag key of 1-{TAG_KEY_MAX} {allowed}, not starting with aws:")
    if len(value) > TAG_VALUE_MAX or not is_tag_text(value) or value.lower().startswith("aws:"):
        raise fail(key, value, f"a value for tag {name!r} of at most {TAG_VALUE_MAX} {allowed}, not starting with aws:")
    return name, value


def owner_tag(key: str, owner: str) -> str:
    """The ``owner`` tag value for an owner as people write it.

    ``Ledger Team <ledger@example.com>`` (an e-mail with a display name, as in
    Luigi's ``owner_email``) becomes ``ledger@example.com``: ECS refuses ``<``
    and ``>``. Anything else ECS would refuse is an error naming the fix.
    """
    text = owner.strip()
    if "<" in text or ">" in text:
        _, address = parseaddr(text)
        if address and "<" not in address:
            text = address
    if not text or len(text) > TAG_VALUE_MAX or not is_tag_text(text) or text.lower().startswith("aws:"):
        raise fail(
            key, owner, f"an owner usable as an ECS tag value (at most {TAG_VALUE_MAX} letters, digits, spaces or _ . : / = + - @)",
            "write it as a plain e-mail address or team name, e.g. ledger-team@example.com",
        )
    return text


def tag_safe(value: str) -> str:
    """A run-time value (a run id, a try number) made acceptable as a tag value: other characters become ``_``."""
    text = "".join(c if is_tag_text(c) else "_" for c in str(value))[:TAG_VALUE_MAX]
    return "_" + text[1:] if text.lower().startswith("aws:") else text


def tag_count(key: str, configured: int, reserved: int) -> None:
    """Configured tags plus the ones luigi-fargate adds must fit in ECS's 50 per task."""
    room = MAX_TAGS_PER_TASK - reserved
    if configured > room:
        raise UserError(
            f"{key}: {configured} tags; ECS allows {MAX_TAGS_PER_TASK} per task and luigi-fargate adds {reserved} "
            f"itself, so use at most {room} (global and family tags together)"
        )


def positive_number(key: str, value: object, maximum: float | None = None, why: str = "") -> float:
    """A number above zero (rates), optionally at most ``maximum``."""
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        raise fail(key, value, "a number") from None
    if not number > 0 or number != number or number == float("inf"):
        raise fail(key, value, "a number above 0")
    if maximum is not None and number > maximum:
        raise fail(key, value, f"at most {maximum:g}{why}")
    return number


def choice(key: str, value: object, options: Iterable[str]) -> str:
    """One of a fixed set of words (case-insensitive; returned as listed)."""
    text = str(value).strip() if value is not None else ""
    for option in options:
        if text.lower() == option.lower():
            return option
    raise fail(key, value, "one of " + ", ".join(options))
