"""The IAM policies in luigi_fargate/release/iam.py against the AWS calls the code really makes.

Two ways: the requests moto's server receives during a deploy, a rollback and
lock operations (recorded by moto's request recorder), and, for the Airflow
operator (whose tests live elsewhere), the boto3 operations named in its code
and in the provider classes it runs. Both directions are checked: every call
is allowed, and every granted action is used by some call (least privilege).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name
from botocore.exceptions import UnknownServiceError

from luigi_fargate.release import deploy as deploy_module
from luigi_fargate.release import iam
from luigi_fargate.release.settings import release_settings_from
from tests.conftest import REPO
from tests.release.conftest import GOOD_SETTINGS, IMAGE_1, IMAGE_2, REGION

SIGNING = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request")


@contextmanager
def recorded_actions(endpoint: str, tmp_path: Path) -> Iterator[set[str]]:
    """IAM action names (``ecs:RunTask``) of every request moto's server gets inside the block."""
    from moto.moto_api import recorder

    recorder._location = str(tmp_path / "moto-recording.jsonl")  # noqa: SLF001 - keep it out of the cwd
    actions: set[str] = set()

    def post(path: str) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/recorder/{path}", method="POST"), timeout=10)

    post("reset-recording")
    post("start-recording")
    try:
        yield actions
    finally:
        post("stop-recording")
        for line in Path(recorder._location).read_text().splitlines():  # noqa: SLF001
            headers = {k.lower(): v for k, v in json.loads(line)["headers"].items()}
            service = SIGNING.search(headers.get("authorization", ""))
            target = headers.get("x-amz-target", "")
            if service and target:  # JSON protocols (ECS, DynamoDB, CloudWatch Logs)
                actions.add(f"{service.group(1)}:{target.rsplit('.', 1)[1]}")


def granted(grants) -> set[str]:
    return iam.actions(grants) - set(iam.IMPLIED_ACTIONS)


def test_deploy_and_rollback_use_exactly_the_deployer_policy(release, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", release.endpoint)
    settings = release_settings_from(GOOD_SETTINGS)
    quiet = lambda _: None  # noqa: E731
    with recorded_actions(release.endpoint, tmp_path) as used:
        deploy_module.deploy(release.dags, IMAGE_1, settings, say=quiet)
        deploy_module.deploy(release.dags, IMAGE_2, settings, say=quiet)
        deploy_module.rollback(release.dags, say=quiet)
        monkeypatch.setattr(deploy_module, "_rewrite_all", lambda *a: (_ for _ in ()).throw(OSError(28, "disk full")))
        with pytest.raises(OSError):
            deploy_module.deploy(release.dags, IMAGE_2, settings, say=quiet)  # registers, then deregisters
    assert used == {"ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"}
    assert all(iam.allows(iam.DEPLOYER, a) for a in used)
    deploy_grants = [g for g in iam.DEPLOYER if not g.optional]
    assert granted(deploy_grants) == used  # nothing granted that deploy doesn't use


def test_lock_operations_fit_the_task_role_and_the_worker(moto_reset, tmp_path, monkeypatch):
    from luigi_fargate.locks.dynamodb import DynamoDBLockBackend

    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_reset)
    backend = DynamoDBLockBackend.from_url(f"dynamodb://luigi-locks?region={REGION}")
    with recorded_actions(moto_reset, tmp_path) as setup:
        backend.create_table()  # luigi-fargate locks init
    with recorded_actions(moto_reset, tmp_path) as runner:  # what luigi-fargate run does in the container
        lease = backend.try_acquire("Report_2026_11_01", "task-a")
        assert lease is not None
        assert backend.try_acquire("Report_2026_11_01", "task-b") is None  # a contender
        lease.renew()
        lease.release()
    with recorded_actions(moto_reset, tmp_path) as admin:  # luigi-fargate locks list|show|break
        held = backend.try_acquire("Report_2026_11_01", "task-c")
        backend.list_locks()
        backend.show("Report_2026_11_01")
        backend.break_lock("Report_2026_11_01")
        assert held is not None

    assert runner == granted(iam.TASK_ROLE) == {"dynamodb:UpdateItem"}
    lock_admin = [g for g in iam.WORKER if g.sid == "LockTable"]
    assert admin == granted(lock_admin)
    lock_setup = [g for g in iam.DEPLOYER if g.sid == "CreateLockTable"]
    assert setup == granted(lock_setup)


def _operation_names(services: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """boto3 method name -> IAM action, and waiter name -> IAM action, from botocore's own models."""
    session = botocore.session.get_session()
    methods, waiters = {}, {}
    for service, prefix in services.items():
        for op in session.get_service_model(service).operation_names:
            methods[xform_name(op)] = f"{prefix}:{op}"
        try:
            model = session.get_waiter_model(service)
        except UnknownServiceError:  # no waiters for this service
            continue
        for name in model.waiter_names:
            waiters[xform_name(name)] = f"{prefix}:{model.get_waiter(name).operation}"
    return methods, waiters


def _aws_calls(source: str, methods: dict[str, str], waiters: dict[str, str]) -> set[str]:
    """Actions named in code: ``x.run_task(...)``, ``_call("update_item")``, ``get_waiter("tasks_stopped")``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in methods:
            found.add(methods[node.attr])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in methods:
            found.add(methods[node.value])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get_waiter"
              and node.args and isinstance(node.args[0], ast.Constant)):  # fmt: skip
            found.add(waiters[node.args[0].value])
    return found


def test_the_worker_policy_covers_every_call_the_operator_makes():
    from airflow.providers.amazon.aws.operators.ecs import EcsRunTaskOperator
    from airflow.providers.amazon.aws.triggers.ecs import TaskDoneTrigger
    from airflow.providers.amazon.aws.utils.task_log_fetcher import AwsTaskLogFetcher

    methods, waiters = _operation_names({"ecs": "ecs", "logs": "logs"})
    sources = [p.read_text() for p in sorted((REPO / "airflow_bridge").rglob("*.py"))]
    sources.append((REPO / "luigi_fargate" / "fargate" / "sweep.py").read_text())  # `luigi-fargate ecs sweep`
    # The operator subclasses the provider's: what the provider class does runs on the worker too.
    sources += [inspect.getsource(cls) for cls in (EcsRunTaskOperator, TaskDoneTrigger, AwsTaskLogFetcher)]
    used = set().union(*(_aws_calls(s, methods, waiters) for s in sources))

    assert {"ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask", "logs:GetLogEvents"} <= used  # the scan sees them
    assert sorted(a for a in used if not iam.allows(iam.WORKER, a)) == []
    ecs_and_logs = {a for a in granted(iam.WORKER) if a.split(":")[0] in ("ecs", "logs")}
    assert sorted(ecs_and_logs - used) == []  # nothing granted that no code calls


def test_rendered_policies_are_complete_documents(release):
    for role in ("worker", "task", "execution", "deployer"):
        proc = release.cli("task-definitions", "policy", role)
        assert proc.returncode == 0, proc.stderr
        assert "{" not in proc.stdout.replace("{\n", "").replace("{}", "")  # no unfilled {template}
        policy = json.loads(proc.stdout)
        assert policy["Version"] == "2012-10-17" and policy["Statement"]
    worker = json.loads(release.cli("task-definitions", "policy", "worker").stdout)
    run = next(s for s in worker["Statement"] if s["Sid"] == "RunLuigiTasks")
    assert run["Resource"] == [f"arn:aws:ecs:{REGION}:123456789012:task-definition/pipelines:*"]
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": f"arn:aws:ecs:{REGION}:123456789012:cluster/pipelines"}}
    passrole = next(s for s in worker["Statement"] if s["Sid"] == "PassTheTwoRoles")
    assert passrole["Resource"] == [GOOD_SETTINGS["execution_role_arn"], GOOD_SETTINGS["task_role_arn"]]
    execution = json.loads(release.cli("task-definitions", "policy", "execution").stdout)
    secrets = {s["Sid"]: s["Resource"] for s in execution["Statement"]}
    assert secrets["ReadSsmSecrets"] == [GOOD_SETTINGS["secrets"].split("API_TOKEN=")[1]]


def test_docs_show_every_grant():
    doc = (REPO / "docs" / "security.md").read_text()
    for grants in iam.ROLES.values():
        for grant in grants:
            assert f'"Sid": "{grant.sid}"' in doc
            for action in grant.actions:
                assert f'"{action}"' in doc
