"""Dates held by string parameters (issue #13, items 3 and 6): bound with a format, followed when derived, warned about when frozen.

tests/fixtures/sem_strings.py: a root whose date is a string in
``%m/%d/%Y``, a child getting the day as a DateParameter, one getting it as a
``%Y%m%d`` string, and one whose import-time default is the day the code was
loaded.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.conftest import luigi_fargate
from tests.semantics.parity import dag_run, export, log_of, luigi_command

BIND = ("--report-date", "11/01/2026", "--bind", "report_date=ds:%m/%d/%Y")


def test_a_string_bound_with_a_format_runs_what_luigi_runs(airflow_home, tmp_path: Path) -> None:
    proc = export("sem_strings.StrReport", *BIND, "--dag-id", "strings", out=airflow_home.dags)
    assert "StrFrozen: parameter 'made'" in proc.stderr and "is today's date (%Y-%m-%d)" in proc.stderr
    assert "StrStamp" not in proc.stderr and "StrDay" not in proc.stderr  # they follow the run date
    for day in (dt.date(2026, 11, 1), dt.date(2026, 12, 31), dt.date(2028, 2, 29)):
        expected = luigi_command("sem_strings", "StrReport", ["--report-date", f"{day:%m/%d/%Y}"], tmp_path / f"luigi-{day}")
        ran, proc = dag_run(airflow_home, "strings", day.isoformat(), tmp_path / f"dag-{day}")
        assert proc.returncode == 0, log_of(proc)
        assert ran == expected and len(ran) == 4, f"{day}: DAG ran {dict(ran)}, luigi ran {dict(expected)}"
        assert f"StrStamp_{day:%Y%m%d}_" in " ".join(ran) and f"StrReport_{day:%m_%d_%Y}_" in " ".join(ran)


def test_frozen_dates_are_warned_about_with_the_binding_to_use(tmp_path: Path) -> None:
    proc = luigi_fargate("export", "sem_strings.StrReport", "--report-date", "11/01/2026", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("luigi-fargate: warning:")]
    assert (
        "luigi-fargate: warning: StrReport: parameter 'report_date' = '11/01/2026' is the export date (%m/%d/%Y) but "
        "stays the same on every run; bind it: --bind report_date=ds:%m/%d/%Y"
    ) in warnings
    assert any("StrStamp: parameter 'stamp' = '20261101' is the export date (%Y%m%d)" in w for w in warnings)
    assert any("StrFrozen: parameter 'made'" in w and "import-time default" in w for w in warnings)


def test_a_string_bound_without_a_format_is_told_which_one(tmp_path: Path) -> None:
    proc = luigi_fargate("export", "sem_strings.StrReport", "--report-date", "11/01/2026", "--bind", "report_date=ds",
                         "--out", str(tmp_path))  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "luigi-fargate: error: --bind report_date=ds: parameter 'report_date' is not a Luigi date parameter; say how its "
        "value is written: --bind report_date=ds:%d/%m/%Y or --bind report_date=ds:%m/%d/%Y (its value '11/01/2026' "
        "reads that way)"
    )
    wrong = luigi_fargate("export", "sem_strings.StrReport", "--report-date", "2026-11-01", "--bind",
                          "report_date=ds:%m/%d/%Y", "--out", str(tmp_path))  # fmt: skip
    assert wrong.returncode == 2 and "the root's value '2026-11-01' is not written as %m/%d/%Y" in wrong.stderr
    assert not list(tmp_path.iterdir())  # nothing written
