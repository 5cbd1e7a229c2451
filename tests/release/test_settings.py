"""Every configuration error names the key, the value and the expected form, before anything happens."""

from __future__ import annotations

import re

import pytest

from luigi_fargate.config.keys import KEYS
from luigi_fargate.errors import UserError
from luigi_fargate.release.settings import release_settings_from
from tests.conftest import REPO
from tests.release.conftest import GOOD_SETTINGS, IMAGE_1, write_cfg

BAD_VALUES = [
    # key, bad value, words the message must contain
    ("region", "eu-west", "expected an AWS region name like eu-west-1"),
    ("region", "EU-WEST-1", "expected an AWS region name"),
    ("execution_role_arn", "luigi-fargate-execution", "expected an ARN like arn:aws:<service>"),
    ("execution_role_arn", "arn:aws:s3:::bucket", "expected an ARN of service 'iam'"),
    ("task_role_arn", "arn:aws:iam::123456789012:user/deploy", "expected an IAM role ARN"),
    ("task_definition", "pipe lines", "expected a task definition family[:revision]"),
    ("task_definition", "arn:aws:iam::123456789012:role/x", "expected an ARN of service 'ecs'"),
    ("container_name", "luigi runner", "expected a container name"),
    ("log_group", "luigi logs!", "expected a CloudWatch log group name"),
    ("log_stream_prefix", "runs:*", "expected a log stream prefix without ':' or '*'"),
    ("cpu", "1000", "expected Fargate CPU units, one of 256, 512, 1024"),
    ("cpu", "two", "expected a whole number"),
    ("memory", "3000", "expected a Fargate memory value for cpu=512 (MiB, 1024-4096)"),
    ("memory", "-1", "expected a whole number above 0"),
    ("cpu_architecture", "arm", "expected one of X86_64, ARM64"),
    ("stop_timeout", "300", "expected seconds from 2 to 120"),
    ("entrypoint", "luigi-fargate-entrypoint", "expected an absolute path inside the image"),
    ("allow_path", "specs", "expected an absolute path inside the image"),
    ("environment", "LOG_LEVEL", "expected one NAME=VALUE per line"),
    ("environment", "1ST=x", "expected an environment variable name"),
    ("environment", "LUIGI_FARGATE_ALLOW=/tmp", "expected a name other than LUIGI_FARGATE_ALLOW"),
    ("environment", "A=1\nA=2", "expected each name once"),
    ("lock", "redis://localhost", "expected a lock URL: dynamodb://TABLE?region=REGION"),
    ("secrets", "DB=prod/db", "expected an SSM parameter ARN"),
    ("secrets", "DB=arn:aws:s3:::bucket/key", "expected an SSM parameter ARN"),
    ("secrets", "DB=arn:aws:ssm:eu-west-1:123456789012:document/x", "or a Secrets Manager ARN"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD_VALUES, ids=[f"{k}={v!r}" for k, v, _ in BAD_VALUES])
def test_a_bad_value_names_key_value_and_expected_form(key, value, expected):
    with pytest.raises(UserError) as err:
        release_settings_from({**GOOD_SETTINGS, key: value})
    message = err.value.message
    assert message.startswith(f"[luigi_fargate] {key}"), message
    # the value, or for NAME=VALUE lists the offending line, name or ARN
    assert any(repr(part) in message for part in (value, *re.split(r"[\n=]", value))), message
    assert expected in message, message
    assert "\n" not in message


@pytest.mark.parametrize("key", ["region", "execution_role_arn", "task_role_arn", "log_group"])
def test_a_missing_required_key_says_what_to_put_there(key):
    settings = {k: v for k, v in GOOD_SETTINGS.items() if k != key}
    with pytest.raises(UserError, match=rf"^\[luigi_fargate\] {key}: missing; expected .+; add it to luigi.cfg"):
        release_settings_from(settings)


def test_only_the_loader_reads_the_section():
    """Every module reads [luigi_fargate] through luigi_fargate.config (which knows every key, checks it, and
    whose table generates docs/configuration.md); none reads the raw section itself."""
    raw_reads = []
    for path in (REPO / "luigi_fargate").rglob("*.py"):
        if path.parent.name == "config":
            continue
        for line in path.read_text().splitlines():
            if re.search(r'get_config\(\)\.\w+\((SECTION|"luigi_fargate)', line) or re.search(r"_raw\(SECTION", line):
                raw_reads.append(f"{path.relative_to(REPO)}: {line.strip()}")
    assert raw_reads == []
    assert {"queue", "lock", "cluster", "describe_tasks_per_second"} <= set(KEYS)


def test_a_misspelt_key_is_an_error_with_the_closest_key():
    with pytest.raises(UserError, match=r"^\[luigi_fargate\] memroy: unknown setting; did you mean 'memory'\?$"):
        release_settings_from({**GOOD_SETTINGS, "memroy": "1024"})


def test_toml_tables_work_like_cfg_lines():
    settings = release_settings_from({**GOOD_SETTINGS, "environment": {"LOG_LEVEL": "INFO"}, "cpu": 512, "memory": 1024})
    assert settings.environment == (("LOG_LEVEL", "INFO"),)
    assert (settings.cpu, settings.memory, settings.task_family) == (512, 1024, "pipelines")


def test_the_cli_prints_the_error_on_one_line_and_changes_nothing(release):
    write_cfg(release.cfg, {**GOOD_SETTINGS, "memory": "3000"})
    before = release.snapshot()
    proc = release.cli("deploy", "--image", IMAGE_1, "--dags", str(release.dags))
    assert proc.returncode == 2
    assert proc.stderr == (
        "luigi-fargate: error: [luigi_fargate] memory='3000': expected a Fargate memory value for cpu=512 (MiB, 1024-4096)\n"
    )
    assert release.snapshot() == before
    assert release.ecs.list_task_definitions()["taskDefinitionArns"] == []


def test_a_bad_image_is_refused(release):
    proc = release.cli("task-definitions", "render", "--image", "Pipelines:latest!", "--dags", str(release.dags))
    assert proc.returncode == 2
    assert "--image='Pipelines:latest!': expected an image like" in proc.stderr
