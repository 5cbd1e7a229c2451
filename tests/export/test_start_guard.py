"""A scheduled (crontab-migrated) DAG refuses a manual run dated before its start_date (issue 18 item 2).

Its Airflow start_date stays (it is where the schedule starts), so Airflow
would create such a run without task instances and mark it success. Its
timetable (airflow_bridge/timetables.py) refuses the date where Airflow asks
for a manual run's data interval. Checked through Airflow's own
serialization (the plugin registered by the installed entry point) and a
real ``airflow dags test`` and ``airflow dags trigger``; the REST refusal is in
tests/deployment/test_start_guard_rest.py.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pendulum
import pytest

from tests.export.test_dag_presentation import DAG_ID, EXPORT_DATE, _airflow, _export

START = pendulum.datetime(2026, 11, 1, tz="UTC")


def _round_trip(spec_path: Path) -> tuple[dict[str, Any], Any]:
    from airflow.serialization.serialized_objects import DagSerialization

    from airflow_bridge.dag_builder import build_dag

    data = DagSerialization.to_dict(build_dag(spec_path))
    return data, DagSerialization.from_dict(data)


def test_the_timetable_round_trips_through_airflow_and_refuses_only_manual_dates_before_start(tmp_path: Path) -> None:
    from airflow.timetables.base import TimeRestriction
    from airflow.timetables.trigger import CronTriggerTimetable

    data, dag = _round_trip(_export(tmp_path / "dags", "--schedule", "15 18 * * *"))
    assert data["dag"]["timetable"]["__type"] == "airflow_bridge.timetables.StartGuardedCronTimetable"
    timetable, plain = dag.timetable, CronTriggerTimetable("15 18 * * *", timezone="UTC")
    assert (timetable.start_date, timetable.dag_id, dag.start_date) == (START, DAG_ID, START)
    assert (timetable.summary, timetable.description) == (plain.summary, plain.description)

    with pytest.raises(ValueError) as refused:
        timetable.infer_manual_data_interval(run_after=pendulum.datetime(2026, 10, 1, tz="UTC"))
    assert str(refused.value).startswith(
        f"logical date 2026-10-01T00:00:00+00:00 is before the start_date {EXPORT_DATE}T00:00:00+00:00 of DAG {DAG_ID}"
    )
    assert f"airflow backfill create --dag-id {DAG_ID} --from-date 2026-10-01 --to-date 2026-10-01" in str(refused.value)
    for day in (START, START + dt.timedelta(days=3)):  # on or after: exactly the plain timetable's
        assert timetable.infer_manual_data_interval(run_after=day) == plain.infer_manual_data_interval(run_after=day)
    for restriction in (TimeRestriction(START, None, catchup=False), TimeRestriction(START, None, catchup=True)):
        guarded = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
        assert guarded == plain.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)

    # A DAG serialized before (the plain timetable) still deserializes as it was.
    data["dag"]["timetable"] = {"__type": "airflow.timetables.trigger.CronTriggerTimetable", "__var": plain.serialize()}
    from airflow.serialization.serialized_objects import DagSerialization

    assert type(DagSerialization.from_dict(data).timetable) is CronTriggerTimetable


def test_airflow_dags_test_and_dags_trigger_of_a_date_before_start_refuse_it(airflow_home) -> None:
    _export(airflow_home.dags, "--schedule", "@daily")  # start_date: the export date
    proc = airflow_home.dags_test(DAG_ID, "2026-10-01")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert f"logical date 2026-10-01T00:00:00+00:00 is before the start_date {EXPORT_DATE}T00:00:00+00:00" in out, out[-3000:]
    assert "state=success" not in out

    # `airflow dags trigger` infers the interval from now, not the logical date: Airflow's own check refuses it.
    assert _airflow(airflow_home, "dags", "reserialize").returncode == 0
    proc = _airflow(airflow_home, "dags", "trigger", DAG_ID, "--logical-date", "2026-10-01T00:00:00+00:00")
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert f"Logical date [2026-10-01T00:00:00+00:00] should be >= start_date [{EXPORT_DATE}T00:00:00+00:00]" in proc.stderr
    with sqlite3.connect(airflow_home.home / "airflow.db") as db:
        assert db.execute("SELECT count(*) FROM dag_run WHERE dag_id = ?", (DAG_ID,)).fetchone() == (0,)
