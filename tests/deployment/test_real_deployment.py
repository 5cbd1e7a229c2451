"""An exported DAG under a real Airflow deployment: api-server, scheduler, dag-processor and triggerer
as separate processes (LocalExecutor on SQLite, everything on 127.0.0.1), driven through the REST API.

One deployment for the session (tests/deployment/conftest.py; examples/local_deployment.py, the one `make airflow` starts):

1. examples.pipeline.Report runs with every task succeeding, the same Luigi tasks as
   ``luigi.build``, and the Luigi runner's output in Airflow's task logs;
2. the scheduler is SIGKILLed while a Luigi task runs and restarted: the run completes and
   no Luigi task body runs twice;
3. the same, with the scheduler's heartbeat left stale past ``scheduler_health_check_threshold``:
   Airflow resets the running task (LocalExecutor can't adopt it) and stops it, the runner
   exits 143, and the retry's body starts only after that (the task's lock makes it wait).

Marked ``deployment``: ``-m "not deployment"`` deselects it locally; ``make test`` runs it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.deployment.conftest import HOLD_DAG, REPORT_DATE, Deployment, logs_on_failure
from tests.deployment.deployment_tasks import release_file
from tests.export.test_parity import luigi_reference

pytestmark = pytest.mark.deployment

def test_the_exported_dag_runs_the_same_luigi_tasks_as_luigi_build(deployment: Deployment, tmp_path: Path):
    with logs_on_failure(deployment):
        started = time.monotonic()
        run_id = deployment.start_run("pipeline_report", REPORT_DATE)
        state = deployment.wait_for_run("pipeline_report", run_id)
        print(f"pipeline_report under the real scheduler: {time.monotonic() - started:.1f} s from trigger to {state}")
        tis = deployment.task_instances("pipeline_report", run_id)
        assert state == "success", tis
        assert len(tis) == 7 and {ti["state"] for ti in tis} == {"success"}, tis

        expected = luigi_reference(REPORT_DATE, tmp_path / "luigi-data")
        done = [e["task_id"] for e in deployment.events() if e["event"] == "done" and REPORT_DATE.replace("-", "_") in e["task_id"]]
        assert sorted(done) == sorted(expected)
        ours = sorted((deployment.root / "data" / REPORT_DATE).iterdir())
        theirs = sorted((tmp_path / "luigi-data" / REPORT_DATE).iterdir())
        assert [(p.name, p.read_bytes()) for p in ours] == [(p.name, p.read_bytes()) for p in theirs]

        # Each Airflow task log (read through the REST API) holds its Luigi task's runner output; the UI
        # shows the readable Airflow id (the run's own Luigi id is in the log).
        for ti in tis:
            log = deployment.task_log("pipeline_report", run_id, ti["task_id"], ti["try_number"])
            assert ti["task_display_name"] == ti["task_id"]
            (luigi_id,) = set(re.findall(r"luigi-fargate: done: (\S+) succeeded", log)) or {None}
            assert luigi_id in expected and luigi_id.startswith(ti["task_id"].split(".")[0] + "_"), log


def test_a_scheduler_killed_mid_task_and_restarted_completes_the_run_without_running_a_body_twice(deployment: Deployment):
    date = "2026-11-02"
    with logs_on_failure(deployment):
        run_id = deployment.start_run(HOLD_DAG, date)
        deployment.wait_for_body("DeployHold", date)  # a Luigi task is running now
        deployment.kill("scheduler")
        deployment.start("scheduler")
        release_file(deployment.markers, date).touch()
        state = deployment.wait_for_run(HOLD_DAG, run_id)
        tis = {ti["task_id"]: ti for ti in deployment.task_instances(HOLD_DAG, run_id)}
        assert state == "success", tis
        for family in ("DeployExtract", "DeployHold", "DeployPublish"):
            assert len(deployment.body_runs(family, date)) == 1, family
        assert {ti["try_number"] for ti in tis.values()} == {1}

        # The Luigi task's own output is in its Airflow task log.
        log = deployment.task_log(HOLD_DAG, run_id, "DeployPublish", 1)
        assert f"DeployPublish {date}: published the ledger for {date}" in log, log


def test_a_scheduler_down_past_the_heartbeat_threshold_gets_the_task_reset_and_bodies_never_overlap(deployment: Deployment):
    """LocalExecutor can't adopt another scheduler's tasks: once the dead scheduler's heartbeat is
    older than scheduler_health_check_threshold (30 s), the new one resets its running task, and
    Airflow stops that task (the runner exits 143: cleanup, nothing published) and retries it.
    The Luigi body then runs twice, one after the other, never at once."""
    date = "2026-11-03"
    with logs_on_failure(deployment):
        run_id = deployment.start_run(HOLD_DAG, date)
        deployment.wait_for_body("DeployHold", date)
        deployment.kill("scheduler")
        deployment.start("scheduler")
        deployment.wait_for_body("DeployHold", date, count=2, timeout=240)  # reset and retried
        release_file(deployment.markers, date).touch()
        state = deployment.wait_for_run(HOLD_DAG, run_id)
        assert state == "success"

        # Airflow may start the retry before the reset task is stopped: the retry's runner then
        # waits for the task's lock (lock_wait), so its body starts only after the first one stopped.
        hold = [e["event"] for e in deployment.events(deployment.task_id_of("DeployHold", date))]
        assert [e for e in hold if e not in ("lock_wait", "task", "usage")] == ["start", "terminated", "start", "done"], hold
        print(f"DeployHold's runner events: {hold}")
        assert len(deployment.body_runs("DeployExtract", date)) == 1
        assert len(deployment.body_runs("DeployPublish", date)) == 1
        tis = {ti["task_id"]: ti for ti in deployment.task_instances(HOLD_DAG, run_id)}
        assert tis["DeployHold"]["try_number"] == 2 and tis["DeployHold"]["state"] == "success"
