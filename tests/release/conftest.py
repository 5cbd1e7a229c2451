"""Release fixtures: a luigi.cfg with a [luigi_fargate] section, a dags folder of real exported specs."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from tests.conftest import REPO, base_env, luigi_fargate

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/luigi-fargate-execution"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/luigi-fargate-task"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:prod/db-AbCdEf"
PARAMETER = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/prod/api-token"
IMAGE_1 = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/pipelines:2026-11-01"
IMAGE_2 = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/pipelines:2026-11-24"

#: The release keys of a working configuration (luigi.cfg form).
GOOD_SETTINGS = {
    "region": REGION,
    "cluster": "pipelines",
    "subnets": "subnet-0a1b2c3d4e5f60718",
    "security_groups": "sg-0123456789abcdef0",
    "execution_role_arn": EXECUTION_ROLE,
    "task_role_arn": TASK_ROLE,
    "task_definition": "pipelines",
    "container_name": "luigi",
    "log_group": "/luigi-fargate/pipelines",
    "log_stream_prefix": "runs",
    "cpu": "512",
    "memory": "1024",
    "stop_timeout": "60",
    "environment": "\n  LOG_LEVEL=INFO\n  DATA_BUCKET=s3://example-data",
    "secrets": f"\n  DB_PASSWORD={SECRET}\n  API_TOKEN={PARAMETER}",
    "lock": f"dynamodb://luigi-locks?region={REGION}",
}

def write_cfg(path: Path, settings: dict[str, str]) -> Path:
    lines = ["[luigi_fargate]"] + [f"{k} = {v}" for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def exported_spec(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A real ``export --runner fargate`` of examples.pipeline.Report (7 Luigi tasks) with GOOD_SETTINGS, as a dict."""
    out = tmp_path_factory.mktemp("export")
    cfg = write_cfg(out / "luigi.cfg", GOOD_SETTINGS)
    proc = luigi_fargate("export", "examples.pipeline.Report", "--date", "2026-11-01", "--runner", "fargate",
                         "--out", str(out), env=base_env(PYTHONPATH=str(REPO), LUIGI_CONFIG_PATH=str(cfg)))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "pipeline_report.json").read_text())
    assert data["runner"]["kind"] == "fargate" and data["runner"]["task_definition"] == "pipelines"
    return data


def spec_variant(exported: dict, dag_id: str, runner: dict | None = None) -> dict:
    """The exported spec under another dag_id; with ``runner``, that runner instead of the exported one."""
    data = json.loads(json.dumps(exported))
    data["dag_id"] = dag_id
    if runner is not None:
        data["runner"] = dict(runner)
    for i, node in enumerate(data["tasks"]):
        node["size"] = {"cpu": 1024, "memory": 4096} if i % 2 else {}
    return data


def make_dags(root: Path, exported: dict, fargate: int = 2, local: int = 1) -> Path:
    """A dags folder: ``fargate`` specs with the fargate runner, ``local`` with the local runner."""
    root.mkdir(parents=True, exist_ok=True)
    for i in range(fargate):
        data = spec_variant(exported, f"daily_report_{i}")
        (root / f"daily_report_{i}.json").write_text(json.dumps(data, indent=1) + "\n")
    for i in range(local):
        data = spec_variant(exported, f"local_report_{i}", {"kind": "local"})
        (root / f"local_report_{i}.json").write_text(json.dumps(data, indent=1) + "\n")
    return root


class Release:
    """One environment: its luigi.cfg, its dags folder, and moto's ECS."""

    def __init__(self, root: Path, endpoint: str, exported: dict) -> None:
        self.root = root
        self.endpoint = endpoint
        self.cfg = write_cfg(root / "luigi.cfg", GOOD_SETTINGS)
        self.dags = make_dags(root / "dags", exported)
        self.ecs = boto3.client("ecs", endpoint_url=endpoint, region_name=REGION)

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(LUIGI_CONFIG_PATH=str(self.cfg), AWS_ENDPOINT_URL=self.endpoint, **extra)

    def cli(self, *args: str):
        return luigi_fargate(*args, env=self.env())

    def snapshot(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.dags.iterdir())}

    def runner(self, name: str) -> dict:
        return json.loads((self.dags / name).read_text())["runner"]


@pytest.fixture
def release(tmp_path: Path, moto_reset: str, exported_spec: dict) -> Release:
    return Release(tmp_path, moto_reset, exported_spec)
