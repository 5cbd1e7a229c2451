"""Runs Airflow 3 creates without a logical date (REST ``"logical_date": null``, ``airflow dags trigger``)
run the exported DAG for their run_after's date, under the real deployment (tests/deployment/conftest.py).

Before, every task failed rendering ``{{ ds }}`` ("'ds' is undefined") and burned its retries.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.deployment.conftest import Deployment, logs_on_failure

pytestmark = pytest.mark.deployment


def test_a_run_triggered_with_a_null_logical_date_runs_the_luigi_graph_of_its_run_after_date(deployment: Deployment):
    with logs_on_failure(deployment):
        deployment.wait_for_dag("pipeline_report")
        deployment.unpause("pipeline_report")
        run = deployment.api("POST", "/api/v2/dags/pipeline_report/dagRuns", json={"logical_date": None})
        assert run["logical_date"] is None
        state = deployment.wait_for_run("pipeline_report", run["dag_run_id"])
        tis = deployment.task_instances("pipeline_report", run["dag_run_id"])
        assert state == "success", tis
        assert {ti["state"] for ti in tis} == {"success"} and {ti["try_number"] for ti in tis} == {1}, tis

        day = dt.datetime.fromisoformat(run["run_after"]).astimezone(dt.UTC).date().isoformat()
        done = {e["task_id"] for e in deployment.events() if e["event"] == "done" and day.replace("-", "_") in e["task_id"]}
        assert {t.split("_", 1)[0] for t in done} == {
            "ExtractTransactions", "ExchangeRates", "ConvertToEur", "DailyLedger", "Report",
        }, done  # fmt: skip
