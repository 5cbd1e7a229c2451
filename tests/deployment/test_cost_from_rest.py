"""``luigi-fargate cost --airflow-url``: task instance tries read from a real Airflow API server (the module's
deployment: api-server, scheduler, dag-processor, triggerer on 127.0.0.1), a retried task's earlier try included.

The example pipeline runs with the local runner; the test prices it as if its
tasks ran on Fargate, from a copy of its spec with a Fargate runner: the
history comes from Airflow, the sizes and tags from the copy.
"""

from __future__ import annotations

import datetime as dt
import json
from fractions import Fraction
from pathlib import Path

import pytest

from luigi_fargate.spec import FargateRunner, FargateSize, NodeKind, PipelineSpec
from tests.conftest import base_env, luigi_fargate
from tests.deployment.conftest import Deployment, logs_on_failure

pytestmark = pytest.mark.deployment

DAG = "pipeline_report"
#: A run date of its own: the deployment (and its pipeline_report runs) is shared by the deployment modules.
COST_DATE = "2026-11-05"
HOURLY = 1 * Fraction("0.04048") + 2 * Fraction("0.004445")  # 1 vCPU, 2 GiB on demand


def _priced_copy(d: Deployment, folder: Path) -> PipelineSpec:
    spec = PipelineSpec.load(d.dags / f"{DAG}.json")
    spec.runner = FargateRunner("c", "us-east-1", "luigi-fargate", "luigi", ["subnet-12345678"], ["sg-12345678"], tags={"team": "reports"})
    for node in spec.tasks:
        if node.kind == NodeKind.TASK:
            node.size = FargateSize(1024, 2048)
    folder.mkdir()
    (folder / f"{DAG}.json").write_text(spec.to_json())
    return spec


def _seconds(row: dict) -> int:
    start, end = (dt.datetime.fromisoformat(row[k].replace("Z", "+00:00")) for k in ("start_date", "end_date"))
    micros = (end - start) // dt.timedelta(microseconds=1)
    return max(60, -(-micros // 1_000_000))


def test_cost_reads_every_try_from_the_rest_api(deployment: Deployment, tmp_path: Path):  # noqa: F811 - the fixture
    d = deployment
    with logs_on_failure(d):
        since = dt.datetime.now(dt.UTC).isoformat()  # only this test's tries, whatever ran before in the deployment
        run_id = d.start_run(DAG, COST_DATE)
        assert d.wait_for_run(DAG, run_id) == "success"
        spec = _priced_copy(d, tmp_path / "priced")
        retried = spec.root
        d.api("POST", f"/api/v2/dags/{DAG}/clearTaskInstances",
              json={"dry_run": False, "only_failed": False, "task_ids": [retried], "dag_run_id": run_id})  # fmt: skip
        assert d.wait_for_run(DAG, run_id) == "success"

        tries = [ti for ti in d.task_instances(DAG, run_id) if ti["task_id"] != retried]
        tries += d.api("GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/{retried}/tries")["task_instances"]
        assert sorted(t["try_number"] for t in tries if t["task_id"] == retried) == [1, 2]
        expected = sum(_seconds(t) * HOURLY / 3600 for t in tries)

        env = base_env(LUIGI_FARGATE_AIRFLOW_PASSWORD=d.password())
        proc = luigi_fargate("cost", str(tmp_path / "priced"), "--airflow-url", d.url, "--airflow-user", "admin",
                             "--since", since, "--by", "task", "--format", "json", env=env)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["tries"] == len(tries) == 8
        assert Fraction(report["total_usd"]) == Fraction(int(expected * 100 + Fraction(1, 2)), 100)
        retried_line = next(line for line in report["lines"] if line["task"] == f"{DAG}.{retried}")
        assert retried_line["tries"] == 2
