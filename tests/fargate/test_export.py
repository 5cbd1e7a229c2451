"""``luigi-fargate export --runner fargate``: settings, sizes and capacity land in the spec, or export fails naming the task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from luigi_fargate.spec import Capacity, CapacityProviderItem, FargateRunner, PipelineSpec
from tests.conftest import base_env, luigi_fargate

SUBNET = "subnet-0123456789abcdef0"
SG = "sg-0123456789abcdef0"


def write_cfg(path: Path, extra: str = "", subnets: str = SUBNET) -> Path:
    path.write_text(
        "[core]\n\n[luigi_fargate]\ncluster = pipelines\nregion = eu-west-1\ntask_definition = luigi-pipelines:7\n"
        f"container_name = luigi\nsubnets = {subnets}\nsecurity_groups = {SG}\nlog_group = /ecs/luigi\n"
        "owner = data-platform\ntags = team=ledger, cost-center=42\n" + extra
    )
    return path


def export(tmp_path: Path, cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return luigi_fargate(
        "export", "tests.fargate.sized_tasks.Everything", "--date", "2026-11-01", "--runner", "fargate",
        "--out", str(tmp_path / "dags"), *args, env=base_env(LUIGI_CONFIG_PATH=str(cfg)),
    )  # fmt: skip


def test_export_writes_runner_settings_sizes_capacity_and_owners(tmp_path: Path) -> None:
    cfg = write_cfg(
        tmp_path / "luigi.cfg",
        "runner_options = --lock dynamodb://luigi-locks --log-format json\n"
        "[luigi_fargate.family.Configured]\ncpu = 2048\nmemory = 5000\ncapacity = fargate_spot\ntags = stage=silver\n",
    )
    proc = export(tmp_path, cfg)
    assert proc.returncode == 0, proc.stderr
    assert PipelineSpec.load(tmp_path / "dags" / "sized_tasks_everything.json").runner == FargateRunner(
        cluster="pipelines", region="eu-west-1", task_definition="luigi-pipelines:7", container_name="luigi",
        subnets=[SUBNET], security_groups=[SG], assign_public_ip="DISABLED", log_group="/ecs/luigi",
        log_stream_prefix="luigi", capacity=Capacity.FARGATE, ec2_capacity_provider_strategy=[],
        tags={"team": "ledger", "cost-center": "42"}, aws_conn_id="aws_default", poll_seconds=6, start_attempts=5,
        deferrable=True, runner_options=["--lock", "dynamodb://luigi-locks", "--log-format", "json"],
        describe_tasks_per_second=1.0, get_log_events_per_second=10.0, triggerers=1, spot_fallback_to_on_demand=False,
    )  # fmt: skip
    spec = json.loads((tmp_path / "dags" / "sized_tasks_everything.json").read_text())
    nodes = {t["family"]: t for t in spec["tasks"]}
    small, configured = nodes["Small"], nodes["Configured"]
    # 1000 CPU units / 3000 MiB is no Fargate size: the smallest that holds it, with a warning naming the task
    assert small["size"] == {"cpu": 1024, "memory": 3072}
    assert f"task {small['task_id']}: requested cpu=1000 memory=3000 is not a Fargate size; rounded up to cpu=1024 memory=3072" in proc.stderr
    assert small["settings"]["owner"] == "ledger-team@example.com"  # the Luigi task's owner_email
    # configuration wins over the class attributes (and is rounded too: 5000 -> 5120 MiB)
    assert configured["size"] == {"cpu": 2048, "memory": 5120}
    assert configured["settings"]["capacity"] == "FARGATE_SPOT"
    assert configured["settings"]["owner"] == "data-platform" and configured["settings"]["tags"] == {"stage": "silver"}


def test_a_task_too_big_for_fargate_needs_an_ec2_capacity_provider(tmp_path: Path) -> None:
    proc = export(tmp_path, write_cfg(tmp_path / "luigi.cfg"), "--with-huge", "true")
    assert proc.returncode != 0
    assert "task Huge_" in proc.stderr and "over Fargate's maximum" in proc.stderr and "ec2_capacity_providers" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "dags").exists()

    proc = export(tmp_path, write_cfg(tmp_path / "luigi.cfg", "ec2_capacity_providers = big-boxes:1\n"), "--with-huge", "true")
    assert proc.returncode == 0, proc.stderr
    spec = json.loads((tmp_path / "dags" / "sized_tasks_everything.json").read_text())
    huge = next(t for t in spec["tasks"] if t["family"] == "Huge")
    assert huge["size"] == {"cpu": 16384, "memory": 204800} and huge["settings"]["capacity"] == "EC2"
    assert PipelineSpec.load(tmp_path / "dags" / "sized_tasks_everything.json").runner.ec2_capacity_provider_strategy == [
        CapacityProviderItem("big-boxes", weight=1)
    ]


def test_a_bad_setting_fails_export_naming_key_value_and_form(tmp_path: Path) -> None:
    proc = export(tmp_path, write_cfg(tmp_path / "luigi.cfg", subnets="subnet-nothex"))
    assert proc.returncode != 0
    assert "[luigi_fargate] subnets='subnet-nothex': expected a subnet id like subnet-0abc12345def67890" in proc.stderr
    proc = export(tmp_path, write_cfg(tmp_path / "luigi.cfg", "[luigi_fargate.family.Small]\nmemroy = 4096\n"))
    assert proc.returncode != 0 and "[luigi_fargate.family.Small] memroy: unknown setting" in proc.stderr


def test_dag_parse_imports_boto3_only_for_fargate_specs(tmp_path: Path) -> None:
    """The local runner's DAG never imports boto3; a Fargate DAG does (the provider's operator)."""
    proc = export(tmp_path, write_cfg(tmp_path / "luigi.cfg"))
    assert proc.returncode == 0, proc.stderr
    fargate_spec = tmp_path / "dags" / "sized_tasks_everything.json"
    local_spec = tmp_path / "local.json"
    data = json.loads(fargate_spec.read_text())
    local_spec.write_text(json.dumps({**data, "dag_id": "local", "runner": {"kind": "local"}}))
    probe = (
        "import sys; from airflow_bridge.dag_builder import build_dag; "
        "dag = build_dag(sys.argv[1]); print(len(dag.tasks), 'boto3' in sys.modules)"
    )
    env = base_env(AIRFLOW_CONN_SMTP_DEFAULT="smtp://mail.example.com:25")  # no failure-mail warning on stdout
    local = subprocess.run([sys.executable, "-c", probe, str(local_spec)], env=env, capture_output=True, text=True, timeout=120)
    fargate = subprocess.run([sys.executable, "-c", probe, str(fargate_spec)], env=env, capture_output=True, text=True, timeout=120)
    assert local.stdout.split() == ["3", "False"], local.stderr[-2000:]
    assert fargate.stdout.split() == ["3", "True"], fargate.stderr[-2000:]


def export_owners(tmp_path: Path, extra: str, instead: tuple[str, str] = ("", "")) -> subprocess.CompletedProcess[str]:
    cfg = write_cfg(tmp_path / "luigi.cfg", extra)
    cfg.write_text(cfg.read_text().replace(*instead))
    return luigi_fargate(
        "export", "tests.fargate.sized_tasks.Owners", "--date", "2026-11-01", "--runner", "fargate",
        "--out", str(tmp_path / "dags"), env=base_env(LUIGI_CONFIG_PATH=str(cfg)),
    )  # fmt: skip


def test_owners_become_valid_tags_and_fargate_tasks_take_vcpu_pool_slots(tmp_path: Path) -> None:
    proc = export_owners(tmp_path, "fargate_vcpu_quota = 100\n")
    assert proc.returncode == 0, proc.stderr
    from airflow_bridge.dag_builder import build_dag

    dag = build_dag(tmp_path / "dags" / "sized_tasks_owners.json")
    named, small = (next(t for t in dag.tasks if t.task_id.startswith(f)) for f in ("Named", "Small"))
    # Airflow shows the owner as written; ECS gets the address (it refuses '<' and '>')
    assert named.owner == "Ledger Team <ledger@example.com>" and named.tags["owner"] == "ledger@example.com"
    # a task holds one Airflow pool: the Luigi resource's; the vCPU pool keeps room for it (luigi-fargate pools)
    assert (named.pool, named.pool_slots) == ("db", 1)
    assert (small.pool, small.pool_slots) == ("fargate_vcpu", 1)

    pools = luigi_fargate("pools", str(tmp_path / "dags"), env=base_env(LUIGI_CONFIG_PATH=str(write_cfg(
        tmp_path / "luigi.cfg", "fargate_vcpu_quota = 100\n[resources]\ndb = 3\n"))))  # fmt: skip
    assert pools.returncode == 0, pools.stderr
    assert json.loads(pools.stdout) == {
        "db": {"slots": 3, "description": "Luigi resource db ([resources] db=3)", "include_deferred": True},
        "fargate_vcpu": {
            "slots": 94, "include_deferred": True,
            "description": "Fargate vCPUs: quota 100; 6 kept for tasks in Luigi resource pools (db 6); pool_slots = a task's vCPUs",
        },
    }  # fmt: skip


def test_pools_refuses_a_vcpu_pool_without_its_quota(tmp_path: Path) -> None:
    assert export_owners(tmp_path, "fargate_vcpu_quota = 100\n").returncode == 0
    proc = luigi_fargate("pools", str(tmp_path / "dags"), env=base_env(LUIGI_CONFIG_PATH=str(write_cfg(tmp_path / "luigi.cfg"))))
    assert proc.returncode == 2
    assert "uses pool fargate_vcpu, but [luigi_fargate] fargate_vcpu_quota is not set" in proc.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[luigi_fargate.family.Named]\nowner = team #1\n", "[luigi_fargate.family.Named] owner='team #1': expected an owner usable as an ECS tag value"),
        (("owner = data-platform", "owner = <>"), "[luigi_fargate] owner='<>': expected an owner usable as an ECS tag value"),
        ("describe_tasks_per_second = 50\n", "[luigi_fargate] describe_tasks_per_second='50': expected at most 20 (ECS allows 20"),
        ("get_log_events_per_second = 0\n", "[luigi_fargate] get_log_events_per_second='0': expected a number above 0"),
        ("triggerers = two\n", "[luigi_fargate] triggerers='two': expected a whole number"),
        ("fargate_vcpu_quota = 1\n", "task Named_"),
        ("spot_fallback_to_on_demand = yes\n", "[luigi_fargate] spot_fallback_to_on_demand='yes': expected one of true, false"),
        ("airflow_api_url = airflow.example.com\n", "[luigi_fargate] airflow_api_url='airflow.example.com': expected the Airflow API"),
        ("[luigi_fargate.family.Named]\ntags = " + ", ".join(f"f{i}=v" for i in range(41)) + "\n",
         "43 tags; ECS allows 50 per task and luigi-fargate adds 8 itself, so use at most 42"),
    ],
    ids=["family-owner", "owner", "describe-budget", "logs-budget", "triggerers", "task-over-quota", "flag", "url", "tag-count"],
)
def test_bad_values_of_the_new_keys_fail_export_in_one_line(tmp_path: Path, extra: str | tuple[str, str], message: str) -> None:
    proc = export_owners(tmp_path, extra, ("", "")) if isinstance(extra, str) else export_owners(tmp_path, "", extra)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "dags").exists()
