"""``luigi-fargate locks list|show|break|init`` against real backends (DynamoDB: moto's server, serialized)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import boto3

from tests.conftest import BIN, luigi_fargate
from tests.locks.conftest import Ledger, LockBackendUnderTest, env_for
from tests.locks.test_takeover import _start, _task_id


def _locks(
    backend: LockBackendUnderTest, ledger: Ledger, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess:
    # The backend comes from $LUIGI_FARGATE_LOCK, as in a container.
    env = env_for(backend, ledger) | {"LUIGI_FARGATE_LOCK": backend.url, "COLUMNS": "200"}
    return subprocess.run([str(BIN / "luigi-fargate"), "locks", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_list_show_and_break_a_held_lock(short_lease_backend: LockBackendUnderTest, tmp_path: Path) -> None:
    backend, ledger, out_dir = short_lease_backend, Ledger(tmp_path / "ledger"), tmp_path / "out"
    key = _task_id("held", out_dir)
    holder = _start(backend, ledger, out_dir, "held", 60)
    try:
        ledger.wait_for("run", "held")
        listed = _locks(backend, ledger, "list")
        assert listed.returncode == 0, listed.stderr
        assert key in listed.stdout and f":{holder.pid}:" in listed.stdout  # owner = host:pid:nonce

        shown = _locks(backend, ledger, "show", key)
        assert shown.returncode == 0 and key in shown.stdout
        assert _locks(backend, ledger, "show", "NoSuchTask_x_0123456789").returncode == 1

        refused = _locks(backend, ledger, "break", key, stdin="n\n")
        assert (
            refused.returncode == 1 and "Break the lock" in refused.stdout and "not broken" in refused.stdout
        )
        assert key in _locks(backend, ledger, "list").stdout

        broken = _locks(backend, ledger, "break", key, stdin="y\n")
        assert broken.returncode == 0 and "lock broken" in broken.stdout, broken.stdout + broken.stderr
        if backend.name == "file":
            # A flock can't be taken from a live process: the holder runs on (as the docs warn).
            assert holder.poll() is None
        else:
            out, _ = holder.communicate(timeout=30)
            assert holder.returncode == 7, out
        assert key not in _locks(backend, ledger, "list").stdout
    finally:
        holder.kill()
        holder.wait()


def test_init_creates_an_on_demand_table_with_ttl(moto_server: str, tmp_path: Path) -> None:
    url = "dynamodb://init-test?region=eu-west-1"
    env = env_for(LockBackendUnderTest("dynamodb", url), Ledger(tmp_path / "l")) | {
        "AWS_ENDPOINT_URL_DYNAMODB": moto_server
    }
    first = luigi_fargate("locks", "init", "--lock", url, env=env)
    assert first.returncode == 0 and "created" in first.stdout, first.stderr
    again = luigi_fargate("locks", "init", "--lock", url, env=env)
    assert again.returncode == 0 and "already exists" in again.stdout, again.stderr

    client = boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=moto_server)
    table = client.describe_table(TableName="init-test")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "lock_key", "KeyType": "HASH"}]
    ttl = client.describe_time_to_live(TableName="init-test")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "purge_at"


def test_user_errors_are_one_line(moto_server: str, tmp_path: Path) -> None:
    env = env_for(LockBackendUnderTest("dynamodb", ""), Ledger(tmp_path / "l")) | {
        "AWS_ENDPOINT_URL_DYNAMODB": moto_server
    }
    not_dynamo = luigi_fargate("locks", "init", "--lock", f"file://{tmp_path}", env=env)
    assert not_dynamo.returncode == 2
    assert not_dynamo.stderr.strip().count("\n") == 0 and "use --lock dynamodb://" in not_dynamo.stderr

    no_table = luigi_fargate("locks", "list", "--lock", "dynamodb://missing?region=us-east-1", env=env)
    assert no_table.returncode != 0 and "locks init" in no_table.stderr and "Traceback" not in no_table.stderr

    bad_ttl = luigi_fargate("locks", "list", "--lock", "dynamodb://t?ttl=soon", env=env)
    assert bad_ttl.returncode == 2 and "ttl='soon'" in bad_ttl.stderr

    run_missing_table = luigi_fargate(
        "run", "--lock", "dynamodb://missing?region=us-east-1", "--allow-any", "lock_tasks", "LedgerTask",
        "--name", "x", "--out-dir", str(tmp_path / "out"), env=env,
    )  # fmt: skip
    assert run_missing_table.returncode == 2 and "locks init" in run_missing_table.stderr
    assert not (tmp_path / "out").exists()
