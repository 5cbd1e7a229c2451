"""Fargate size rounding and setting validation (pure functions, no AWS)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from luigi_fargate import validators as check
from luigi_fargate.errors import UserError
from luigi_fargate.fargate.sizing import decide
from luigi_fargate.validators import FARGATE_MEMORY_BY_CPU

VALID = [(c, m) for c, ms in FARGATE_MEMORY_BY_CPU.items() for m in ms]


@given(st.integers(1, 16384), st.integers(1, 122880))
def test_a_size_rounds_up_to_the_smallest_valid_fargate_size_that_holds_it(cpu: int, memory: int) -> None:
    decision = decide(cpu, memory)
    fitting = [(c, m) for c, m in VALID if c >= cpu and m >= memory]
    assert decision.fits_fargate is bool(fitting)
    if fitting:
        size = (decision.size.cpu, decision.size.memory)
        assert size in VALID and size == min(fitting)
        assert (decision.rounded_from is None) is (size == (cpu, memory))


def test_sizes_over_the_maximum_and_storage() -> None:
    assert not decide(32768, 4096).fits_fargate
    assert not decide(1024, 131072).fits_fargate
    assert not decide(1024, 2048, 300).fits_fargate
    assert decide(None, 3000).size.to_spec() == {"cpu": 512, "memory": 3072}
    assert decide(1024, 2048, 20).size.to_spec() == {"cpu": 1024, "memory": 2048}  # 20 GiB is the default
    assert decide(1024, 2048, 21).size.to_spec() == {"cpu": 1024, "memory": 2048, "ephemeral_storage_gib": 21}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check.subnet_id("subnets", "subnet-12"), "subnets='subnet-12': expected a subnet id like subnet-0abc12345def67890"),
        (lambda: check.security_group_id("security_groups", "sg_1"), "security_groups='sg_1': expected a security group id"),
        (lambda: check.arn("role", "arn:aws:iam::123:role/x"), "role='arn:aws:iam::123:role/x': expected an ARN"),
        (lambda: check.arn("td", "arn:aws:iam::123456789012:role/x", service="ecs"), "td='arn:aws:iam::123456789012:role/x': expected an ARN of service 'ecs'"),
        (lambda: check.region("region", "europe-1"), "region='europe-1': expected an AWS region name like eu-west-1"),
        (lambda: check.cpu_units("cpu", 1000), "cpu=1000: expected Fargate CPU units, one of 256, 512, 1024"),
        (lambda: check.memory_mib("memory", 3000, cpu=1024), "memory=3000: expected a Fargate memory value for cpu=1024 (MiB, 2048-8192)"),
        (lambda: check.ephemeral_storage_gib("storage", 500), "storage=500: expected ephemeral storage in GiB from 21 to 200"),
        (lambda: check.task_definition("task_definition", "my td"), "task_definition='my td': expected a task definition family[:revision]"),
    ],
)
def test_bad_values_name_key_value_and_expected_form(call, message: str) -> None:  # noqa: ANN001
    with pytest.raises(UserError) as error:
        call()
    assert error.value.message.startswith(message)


def test_good_values_come_back_normalised() -> None:
    assert check.subnet_id("s", " subnet-0abc12345def67890 ") == "subnet-0abc12345def67890"
    assert check.arn("a", "arn:aws:ecs:eu-west-1:123456789012:task-definition/td:3", service="ecs").endswith("td:3")
    assert check.task_definition("t", "luigi-pipelines:7") == "luigi-pipelines:7"
    assert check.memory_mib("m", "4096", cpu=1024) == 4096 and check.cpu_units("c", "16384") == 16384
    assert check.region("r", "us-gov-west-1") == "us-gov-west-1"
