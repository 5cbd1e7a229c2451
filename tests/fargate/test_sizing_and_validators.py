"""Fargate size rounding and setting validation (pure functions, no AWS)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
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


# --- ECS tags: what ECS accepts, and owners as people write them -------------------------------

TAG_PUNCTUATION = "_.:/=+-@"


def ecs_accepts(text: str) -> bool:
    """ECS's own rule, written from its API reference: ^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$."""
    import unicodedata

    return all(unicodedata.category(c)[0] in ("L", "Z", "N") or c in TAG_PUNCTUATION for c in text)


tag_like = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@given(tag_like, tag_like)
@example("cost\u00a0center", "team\u2003data")  # spaces other than ASCII's are spaces to ECS
@example("owner", "Ledger Team <ledger@example.com>")
@example("AWS:team", "x")
def test_a_tag_is_accepted_exactly_when_ecs_would_accept_it(name: str, value: str) -> None:
    ok = (
        1 <= len(name) <= 128 and len(value) <= 256 and ecs_accepts(name) and ecs_accepts(value)
        and not name.lower().startswith("aws:") and not value.lower().startswith("aws:")
    )  # fmt: skip
    try:
        check.tag("tags", name, value)
    except UserError as error:
        assert not ok, error.message
        assert error.message.startswith("tags=")
    else:
        assert ok


@given(tag_like)
def test_run_time_values_always_become_valid_tag_values(value: str) -> None:
    safe = check.tag_safe(value)
    check.tag("tags", "airflow_run_id", safe)
    if ecs_accepts(value) and len(value) <= 256 and not value.lower().startswith("aws:"):
        assert safe == value  # valid values are left alone


@given(st.text(max_size=40), st.emails())
def test_an_owner_with_a_display_name_becomes_its_address(name: str, address: str) -> None:
    owner = f"{name.strip()} <{address}>"
    try:
        tag = check.owner_tag("owner", owner)
    except UserError as error:
        assert "write it as a plain e-mail address or team name" in error.message
        return
    check.tag("owner", "owner", tag)  # whatever comes out, ECS accepts


def test_owners_in_words() -> None:
    assert check.owner_tag("o", "Ledger Team <ledger@example.com>") == "ledger@example.com"
    assert check.owner_tag("o", "data-platform") == "data-platform"
    with pytest.raises(UserError, match=r"^o='team #1': expected an owner usable as an ECS tag value .*write it as a plain e-mail"):
        check.owner_tag("o", "team #1")


def test_too_many_tags_together() -> None:
    check.tag_count("k", 42, 8)
    with pytest.raises(UserError, match=r"k: 43 tags; ECS allows 50 per task and luigi-fargate adds 8 itself, so use at most 42"):
        check.tag_count("k", 43, 8)
