"""Graphs whose shape follows the calendar: the DAG runs exactly Luigi's task set on every date (issue #13, item 4).

tests/fixtures/sem_calendar.py: a monthly date interval with one child per
day (28 to 31 of them), a week whose months and years change across a year
end, a day that pulls in a month-end task on the last day. ``verify``
compares the DAG with Luigi's graph for every day of a year; real Airflow
runs the month on February 2027 (28 days), February 2028 (29), April (30)
and January (31), against the ``luigi`` command on the same month.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest

from luigi_fargate.introspect.verify import run_instants, verify_dates
from luigi_fargate.spec import PipelineSpec
from tests.semantics.parity import dag_run, export, log_of, luigi_command

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))  # verify imports the pipeline here
YEAR = (dt.date(2027, 1, 1), dt.date(2027, 12, 31))


def _export(ref: str, *args: str, out: Path) -> PipelineSpec:
    export(f"sem_calendar.{ref}", *args, "--schedule", "0 6 * * *", out=out)
    return PipelineSpec.load(next(out.glob("*.json")))


@pytest.mark.parametrize(
    ("ref", "args", "year"),
    [
        ("MonthClose", ["--month", "2026-11"], YEAR),
        ("WeekClose", ["--week", "2026-W45"], (dt.date(2026, 6, 1), dt.date(2027, 5, 31))),
        ("DailyClose", ["--date", "2026-11-10"], (dt.date(2028, 1, 1), dt.date(2028, 12, 31))),  # a leap year
    ],
    ids=["month-of-days", "week-across-new-year", "day-with-month-end"],
)
def test_every_day_of_a_year_matches_luigi(tmp_path: Path, ref: str, args: list[str], year) -> None:
    spec = _export(ref, *args, out=tmp_path)
    runs = run_instants(spec, *year)
    assert len(runs) >= 365
    assert verify_dates(spec, runs) == []
    assert any(t.optional for t in spec.tasks)


def test_ids_read_as_dates_of_the_run_and_stay_the_same_from_another_export_month(tmp_path: Path) -> None:
    november = _export("MonthClose", "--month", "2026-11", out=tmp_path / "nov")
    february = _export("MonthClose", "--month", "2027-02", out=tmp_path / "feb")
    ids = [t.id for t in november.tasks]
    assert [t.id for t in february.tasks] == ids
    assert {t.id: t.optional for t in february.tasks} == {t.id: t.optional for t in november.tasks}
    assert "DayLoad.date-ds" in ids and "DayLoad.date-ds_plus30" in ids and "DayLoad.date-ds_plus1" in ids
    assert all(re.fullmatch(r"[\w.-]{1,250}", i) for i in ids)
    assert not [i for i in ids if re.search(r"ds_\d", i)]  # no collision-like suffixes (date-ds_29)
    optional = sorted(t.id for t in november.tasks if t.optional)
    assert optional == ["DayLoad.date-ds_plus28", "DayLoad.date-ds_plus29", "DayLoad.date-ds_plus30"]
    assert november.node("MonthClose").settings.trigger_rule == "none_failed"


@pytest.mark.parametrize(
    ("month", "days"), [("2027-02", 28), ("2028-02", 29), ("2027-04", 30), ("2027-01", 31)], ids=["28", "29", "30", "31"]
)
def test_airflow_runs_the_days_luigi_runs(airflow_home, tmp_path: Path, month: str, days: int) -> None:
    export("sem_calendar.MonthClose", "--month", "2026-11", "--schedule", "0 6 * * *", "--dag-id", "month_close",
           out=airflow_home.dags)  # fmt: skip
    expected = luigi_command("sem_calendar", "MonthClose", ["--month", month], tmp_path / "luigi")
    ran, proc = dag_run(airflow_home, "month_close", f"{month}-10T06:00:00+00:00", tmp_path / "dag")
    assert proc.returncode == 0, log_of(proc)
    assert ran == expected, f"{month}: DAG ran {sorted(ran)}, luigi ran {sorted(expected)}"
    assert len(ran) == days + 1 and set(ran.values()) == {1}
