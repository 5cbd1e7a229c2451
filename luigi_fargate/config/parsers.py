"""Parsers of ``[luigi_fargate]`` values: raw text (luigi.cfg) or TOML values in, checked values out.

Each takes ``(key, raw)`` and raises UserError naming the key, the value and
the expected form (``[luigi_fargate] memory='3000': expected ...``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from luigi_fargate import validators
from luigi_fargate.errors import UserError
from luigi_fargate.spec import Capacity, environment

fail = validators.fail

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOG_GROUP = re.compile(r"^[A-Za-z0-9_./#-]{1,512}$")
STREAM_PREFIX = re.compile(r"^[^:*]{1,512}$")
ABSOLUTE_PATH = re.compile(r"^/\S+$")
#: Environment names the task definition sets itself; configuration may not override them.
RESERVED_ENV = (environment.ALLOW, environment.RELEASE)
#: Tag keys the operator sets itself; configured tags can't override them. The sweeper
#: (``luigi-fargate ecs sweep``) finds a task's Airflow task instance by the last four.
RESERVED_TAGS = ("owner", "dag_id", "luigi_family", "airflow_run_id", "airflow_task_id", "airflow_try_number")
#: Tags every task gets from its task definition (propagateTags: release and image, see release/taskdef.py).
PROPAGATED_TAGS = 2
#: ECS's and CloudWatch Logs' documented account-wide rates (calls/s, sustained): budgets above them can't hold.
DESCRIBE_TASKS_LIMIT = 20.0
GET_LOG_EVENTS_LIMIT = 25.0
CPU_ARCHITECTURES = ("X86_64", "ARM64")
CAPACITIES = (Capacity.FARGATE.value, Capacity.FARGATE_SPOT.value)
FAMILY_CAPACITIES = (*CAPACITIES, Capacity.EC2.value)
ASSIGN_PUBLIC_IP = ("DISABLED", "ENABLED")


def text(key: str, value: Any) -> str:
    return str(value).strip()


def items(value: Any) -> list[str]:
    """Comma- or newline-separated items (a TOML list works too)."""
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value or "").replace("\n", ",").split(",") if v.strip()]


def subnets(key: str, value: Any) -> list[str]:
    return [validators.subnet_id(key, s) for s in items(value)]


def security_groups(key: str, value: Any) -> list[str]:
    return [validators.security_group_id(key, s) for s in items(value)]


def boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return validators.choice(key, value, ("true", "false")) == "true"


def positive_float(key: str, value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise fail(key, value, "a number of seconds") from None
    if not number > 0:
        raise fail(key, value, "a number of seconds above 0")
    return number


def non_negative_float(key: str, value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise fail(key, value, "a number") from None
    if number < 0:
        raise fail(key, value, "a number of 0 or more")
    return number


def one_of(*options: str):
    def parse(key: str, value: Any) -> str:
        return validators.choice(key, value, options)

    return parse


def matching(pattern: re.Pattern[str], expected: str):
    def parse(key: str, value: Any) -> str:
        return validators.matching(key, value, pattern, expected)

    return parse


def tags(key: str, value: Any) -> dict[str, str]:
    """``team=data, cost-center=42`` -> {"team": "data", "cost-center": "42"}."""
    out: dict[str, str] = {}
    for item in items(value):
        name, sep, tag_value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"{key}={value!r}: expected comma-separated key=value pairs, e.g. team=data, cost-center=42")
        if name.strip() in RESERVED_TAGS:
            raise UserError(f"{key}: tag {name.strip()!r} is set by luigi-fargate itself; remove it ({', '.join(RESERVED_TAGS)} are reserved)")
        name, tag_value = validators.tag(key, name.strip(), tag_value.strip())
        out[name] = tag_value
    validators.tag_count(key, len(out), len(RESERVED_TAGS) + PROPAGATED_TAGS)
    return out


def owner(key: str, value: Any) -> str:
    """An owner as people write it; it must also make a valid ECS ``owner`` tag (validators.owner_tag)."""
    text = str(value).strip()
    validators.owner_tag(key, text)
    return text


def rate(maximum: float, why: str):
    def parse(key: str, value: Any) -> float:
        return validators.positive_number(key, value, maximum, why)

    return parse


def http_url(key: str, value: Any) -> str:
    url = str(value).strip()
    if not url.startswith(("http://", "https://")):
        raise fail(key, value, "the Airflow API server's base URL, e.g. https://airflow.example.com")
    return url.rstrip("/")


def capacity_providers(key: str, value: Any) -> list[tuple[str, int]]:
    """``cp-large:1, cp-spot:3`` -> [(name, weight)] (weight defaults to 1)."""
    out = []
    for item in items(value):
        name, _, weight = item.partition(":")
        if not name.strip():
            raise UserError(f"{key}={value!r}: expected capacity providers as name[:weight], comma-separated")
        out.append((name.strip(), validators.positive_int(key, weight or "1")))
    return out


def runner_options(key: str, value: Any) -> list[str]:
    """``--lock dynamodb://locks --log-format json``: options of ``luigi-fargate run`` before MODULE."""
    options = shlex.split(str(value or ""))
    if options and not options[0].startswith("-"):
        raise UserError(f"{key}={value!r}: expected options of luigi-fargate run such as --lock URL --log-format json")
    return options


def role_arn(key: str, value: Any) -> str:
    """An IAM role ARN: ECS takes nothing else for the execution and task roles."""
    arn = validators.arn(key, value, service="iam")
    if ":role/" not in arn:
        raise fail(key, value, "an IAM role ARN like arn:aws:iam::123456789012:role/luigi-fargate-task")
    return arn


def secret_arn(key: str, value: Any) -> str:
    """A secret source ECS can inject: an SSM parameter or a Secrets Manager secret ARN."""
    expected = (
        "an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/NAME) or a Secrets Manager ARN "
        "(arn:aws:secretsmanager:<region>:<account>:secret:NAME)"
    )
    try:
        arn = validators.arn(key, value)
    except UserError:
        raise fail(key, value, expected) from None
    service, resource = arn.split(":")[2], arn.split(":", 5)[5]
    if not ((service == "ssm" and resource.startswith("parameter/")) or (service == "secretsmanager" and resource.startswith("secret:"))):
        raise fail(key, value, expected)
    return arn


def env_pairs(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    """``NAME=VALUE`` lines (luigi.cfg) or a table (luigi.toml), in order, names checked."""
    if value is None or value == "":
        return ()
    if isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    else:
        pairs = []
        for line in str(value).splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, val = line.partition("=")
            if not sep:
                raise fail(key, line, "one NAME=VALUE per line")
            pairs.append((name.strip(), val.strip()))
    seen: set[str] = set()
    for name, _ in pairs:
        if not ENV_NAME.match(name):
            raise fail(key, name, "an environment variable name (letters, digits and _, not starting with a digit)")
        if name in RESERVED_ENV:
            raise fail(key, name, f"a name other than {', '.join(RESERVED_ENV)} (the task definition sets those itself)")
        if name in seen:
            raise fail(key, name, "each name once")
        seen.add(name)
    return tuple(pairs)


def secrets(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    return tuple((name, secret_arn(f"{key} {name}", arn)) for name, arn in env_pairs(key, value))


def stop_timeout(key: str, value: Any) -> int:
    number = validators.positive_int(key, value)
    if not 2 <= number <= 120:
        raise fail(key, value, "seconds from 2 to 120 (Fargate's limit; the runner needs a few to release its lock)")
    return number


def lock_url(key: str, value: Any) -> str:
    from urllib.parse import urlsplit

    from luigi_fargate.locks.base import BACKENDS

    url = str(value).strip()
    if urlsplit(url).scheme not in BACKENDS or "://" not in url:
        raise fail(key, value, "a lock URL: dynamodb://TABLE?region=REGION, luigid://HOST:PORT or file://DIR")
    return url


def price(key: str, value: Any) -> Decimal:
    """A price in dollars, kept exact (Decimal): costs are summed exactly and rounded once, to the cent."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise fail(key, value, "a price in US dollars, e.g. 0.04048") from None
    if not number.is_finite() or number < 0:
        raise fail(key, value, "a price in US dollars of 0 or more, e.g. 0.04048")
    return number


def fraction(key: str, value: Any) -> Decimal:
    """A discount as a fraction (0.20 = 20 % less), exact."""
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise fail(key, value, "a fraction from 0 to 1, e.g. 0.20 for 20 % less") from None
    if not number.is_finite() or not 0 <= number <= 1:
        raise fail(key, value, "a fraction from 0 to 1, e.g. 0.20 for 20 % less")
    return number


def headroom(key: str, value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise fail(key, value, "a multiplier of 1 or more, e.g. 1.25") from None
    if not 1 <= number <= 10:
        raise fail(key, value, "a multiplier from 1 to 10, e.g. 1.25 for 25 % above the measured use")
    return number
