"""A manual run of a scheduled DAG dated before its start_date is refused over REST with the reason
(HTTP 400, no run created) instead of succeeding with no task instances (issue 18 item 2).

Under the real deployment (tests/deployment/conftest.py): the api-server,
dag-processor and scheduler load luigi-fargate's timetable through the
installed ``airflow.plugins`` entry point, nothing in a plugins folder.
"""

from __future__ import annotations

import pytest

from tests.conftest import luigi_fargate
from tests.deployment.conftest import Deployment, logs_on_failure

pytestmark = pytest.mark.deployment

DAG_ID = "guarded_report"
START = "2026-11-01"


def test_a_rest_trigger_dated_before_a_scheduled_dags_start_date_is_refused_with_the_fix(deployment: Deployment):
    d = deployment
    with logs_on_failure(d):
        proc = luigi_fargate("export", "examples.pipeline.Report", "--date", START, "--dag-id", DAG_ID,
                             "--schedule", "15 18 * * *", "--out", str(d.dags), env=d.env())  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        parsed = d.airflow("dags", "reserialize")  # now, not at the dag-processor's next scan of the folder
        assert parsed.returncode == 0, parsed.stderr[-3000:]
        d.wait_for_dag(DAG_ID)  # also: no import error (the timetable serialized, the api-server reads it back)

        runs = f"/api/v2/dags/{DAG_ID}/dagRuns"
        for headers in ({}, {"referer": f"{d.url}/dags/{DAG_ID}"}):  # REST, and the UI's Trigger form
            with pytest.raises(RuntimeError) as refused:
                d.api("POST", runs, json={"logical_date": "2026-10-01T00:00:00+00:00"}, headers=headers)
            assert f"POST {runs}: HTTP 400" in str(refused.value)
            assert f"logical date 2026-10-01T00:00:00+00:00 is before the start_date {START}T00:00:00+00:00" in str(refused.value)
            assert f"airflow backfill create --dag-id {DAG_ID} --from-date 2026-10-01" in str(refused.value)
        assert d.api("GET", runs)["total_entries"] == 0  # no run was created

        # On or after the start_date, and without a logical date: accepted as before (the DAG is paused: they wait).
        on_time = d.api("POST", runs, json={"logical_date": f"{START}T00:00:00+00:00"})
        undated = d.api("POST", runs, json={"logical_date": None})
        assert (on_time["logical_date"][:10], undated["logical_date"]) == (START, None)
