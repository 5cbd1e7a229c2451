"""``luigi-fargate ecs sweep``: stop ECS tasks whose Airflow task instance has finished, never others.

ECS tasks started by the real operator (deferred, so they keep running in moto), one ECS task that
isn't ours; task instance states from a file, from a stand-in for Airflow's REST API on 127.0.0.1,
and (for the DAG factory) from the Execution API.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import base_env, luigi_fargate
from tests.fargate import driver, specs
from tests.fargate.conftest import CLUSTER, REGION, FakeFargate

RUNS = ["run-success", "run-running", "run-failed-just-now", "run-gone"]


@pytest.fixture
def our_tasks(fargate: FakeFargate, tmp_path: Path) -> dict[str, str]:
    """run id -> ARN of a running ECS task started by the operator for that run; plus one foreign task."""
    spec = specs.write_spec(tmp_path / "ledger.json", fargate, deferrable=True)
    arns = {}
    for run in RUNS:
        _, _, deferred = driver.defer(spec, specs.TASK, tmp_path / f"{run}.json", run_id=run)
        arns[run] = deferred.trigger.task_arn
    fargate.client("ecs").run_task(
        cluster=CLUSTER, taskDefinition="luigi-pipelines", capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": [fargate.subnet], "securityGroups": [fargate.security_group]}},
        tags=[{"key": "team", "value": "someone-else"}],
    )  # fmt: skip
    return arns


def states_file(tmp_path: Path) -> Path:
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"dag_id": specs.DAG_ID, "run_id": "run-success", "task_id": specs.TASK, "state": "success", "end_date": (now - dt.timedelta(hours=2)).isoformat()},
        {"dag_id": specs.DAG_ID, "run_id": "run-running", "task_id": specs.TASK, "state": "deferred"},
        {"dag_id": specs.DAG_ID, "run_id": "run-failed-just-now", "task_id": specs.TASK, "state": "failed", "end_date": now.isoformat()},
    ]  # run-gone: not listed (its DAG run was deleted)
    path = tmp_path / "states.json"
    path.write_text(json.dumps(rows))
    return path


def sweep(fargate: FakeFargate, *args: str) -> Any:
    return luigi_fargate("ecs", "sweep", "--cluster", CLUSTER, "--region", REGION, *args,
                         env=base_env(AWS_ENDPOINT_URL=fargate.endpoint, COLUMNS="250"))  # fmt: skip


def desired(fargate: FakeFargate) -> dict[str, str]:
    return {arn: t.desired_status for arn, t in fargate.tasks().items()}


def test_sweep_stops_only_tasks_whose_task_instance_finished_past_the_grace_period(
    fargate: FakeFargate, our_tasks: dict[str, str], tmp_path: Path
) -> None:
    states = states_file(tmp_path)
    before = desired(fargate)
    dry = sweep(fargate, "--states", str(states), "--grace-seconds", "600", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert desired(fargate) == before  # a dry run stops nothing
    assert "2 would stop, 1 wait, 1 keep" in dry.stdout, dry.stdout

    real = sweep(fargate, "--states", str(states), "--grace-seconds", "600")
    assert real.returncode == 0, real.stderr
    after = desired(fargate)
    stopped = {run for run, arn in our_tasks.items() if after[arn] == "STOPPED"}
    assert stopped == {"run-success", "run-gone"}
    assert sum(s == "RUNNING" for s in after.values()) == 3  # the running one, the one in its grace period, the foreign one
    assert fargate.tasks()[our_tasks["run-gone"]].stopped_reason == "luigi-fargate ecs sweep: its Airflow task instance is gone"
    for word in ("run-success", "stopped", "task instance is deferred", "within the grace period"):
        assert word in real.stdout

    later = sweep(fargate, "--states", str(states), "--grace-seconds", "0")
    assert later.returncode == 0 and desired(fargate)[our_tasks["run-failed-just-now"]] == "STOPPED"


class FakeAirflowApi(http.server.BaseHTTPRequestHandler):
    """Airflow 3's /auth/token and task instance endpoint, as much as the sweeper reads."""

    states: dict[str, Any] = {}
    seen_tokens: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = body == {"username": "sweeper", "password": "s3cret"}
        self._reply(200 if ok else 401, {"access_token": "tok-1"} if ok else {"detail": "no"})

    def do_GET(self) -> None:  # noqa: N802
        self.seen_tokens.append(self.headers.get("Authorization", ""))
        run = self.path.split("/dagRuns/")[1].split("/")[0]
        if run == "run-unreachable":
            self._reply(503, {})
        elif run in self.states:
            self._reply(200, {"state": self.states[run], "end_date": None})
        else:
            self._reply(404, {"detail": "not found"})

    def _reply(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def airflow_api() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeAirflowApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_sweep_asks_airflows_rest_api_and_keeps_what_it_cannot_ask_about(
    fargate: FakeFargate, our_tasks: dict[str, str], airflow_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from luigi_fargate.cli import main

    FakeAirflowApi.states = {"run-success": "success", "run-running": "running", "run-failed-just-now": "up_for_retry"}
    FakeAirflowApi.seen_tokens = []
    monkeypatch.setenv("AWS_ENDPOINT_URL", fargate.endpoint)
    monkeypatch.setenv("LUIGI_FARGATE_AIRFLOW_PASSWORD", "s3cret")
    # run-gone is "run-unreachable" to Airflow: its state can't be read, so it is kept
    fargate.client("ecs").tag_resource(resourceArn=our_tasks["run-gone"], tags=[{"key": "airflow_run_id", "value": "run-unreachable"}])
    code = main(["ecs", "sweep", "--cluster", CLUSTER, "--region", REGION, "--airflow-url", airflow_api, "--airflow-user", "sweeper",
                 "--grace-seconds", "0"])  # fmt: skip
    assert code == 0
    after = desired(fargate)
    assert {run for run, arn in our_tasks.items() if after[arn] == "STOPPED"} == {"run-success"}
    assert FakeAirflowApi.seen_tokens and set(FakeAirflowApi.seen_tokens) == {"Bearer tok-1"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no Airflow to ask; pass --airflow-url"),
        (["--airflow-url", "http://127.0.0.1:9"], "no Airflow credentials; set $LUIGI_FARGATE_AIRFLOW_TOKEN"),
        (["--states", "/nonexistent.json"], "--states /nonexistent.json: expected a JSON list"),
        (["--grace-seconds", "-5", "--states", "x"], "--grace-seconds=-5: expected a whole number of seconds"),
        (["--region", "mars-1"], "--region='mars-1': expected an AWS region name"),
    ],
)
def test_bad_sweep_invocations_say_what_to_fix(fargate: FakeFargate, args: list[str], message: str) -> None:
    proc = luigi_fargate("ecs", "sweep", "--cluster", CLUSTER, *(["--region", REGION] if "--region" not in args else []), *args,
                         env=base_env(AWS_ENDPOINT_URL=fargate.endpoint))  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_the_sweeper_dag_asks_the_execution_api(fargate: FakeFargate, our_tasks: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_bridge import sweeper
    from airflow_bridge.hooks import airflow_state

    states = {"run-success": "success", "run-running": "deferred", "run-failed-just-now": "failed"}

    def lookup(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str | None:
        if run_id == "run-gone":
            raise ConnectionError("the API server is down")
        return states[run_id]

    monkeypatch.setattr(airflow_state, "task_instance_state", lookup)
    dag = sweeper.ecs_sweeper_dag(cluster=CLUSTER, region=REGION, aws_conn_id="aws_moto")
    assert [t.task_id for t in dag.tasks] == ["sweep"] and dag.max_active_runs == 1
    lines = sweeper.sweep_once(cluster=CLUSTER, region=REGION, aws_conn_id="aws_moto", grace_seconds=0, dry_run=False)
    after = desired(fargate)
    assert {run for run, arn in our_tasks.items() if after[arn] == "STOPPED"} == {"run-success", "run-failed-just-now"}
    assert sum(line.startswith("keep:") for line in lines) == 2
