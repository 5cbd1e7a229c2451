"""``luigi-fargate verify SPEC --from DATE --to DATE``: what a team runs before cutover.

The fixture's MonthClose (one child per day of the month) runs daily at
06:00; verify walks Luigi's graph for every run of a year and compares it
with the DAG. A code change the export never saw (an audit task in 30-day
months, $SEM_CALENDAR_CHANGED) must show up as one line per differing run.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, base_env, luigi_fargate


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("verify")
    proc = luigi_fargate("export", "sem_calendar.MonthClose", "--month", "2026-11", "--schedule", "0 6 * * *",
                         "--dag-id", "month_close", "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out / "month_close.json"


def test_a_year_that_matches_exits_0(spec_path: Path) -> None:
    proc = luigi_fargate("verify", str(spec_path), "--from", "2027-01-01", "--to", "2027-12-31")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.strip() == "verified DAG month_close from 2027-01-01 to 2027-12-31: all 365 runs match"


def test_each_differing_run_is_one_line_with_the_first_differences(spec_path: Path) -> None:
    env = base_env(SEM_CALENDAR_CHANGED="1")
    proc = luigi_fargate("verify", str(spec_path), "--from", "2027-01-01", "--to", "2027-12-31", env=env)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 30 * 4  # every run in April, June, September and November
    assert lines[0].startswith("2027-04-01 06:00: MonthClose (MonthClose_2027_04_")
    assert "needs MonthAudit_2027_04_" in lines[0] and lines[0].endswith("which no task before it runs")
    assert lines[-1].startswith("2027-11-30 06:00: ")
    assert proc.stderr.strip().endswith("120 of 365 runs differ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.json", "--from", "2027-01-01", "--to", "2027-01-02"], "SPEC nope.json: can't read pipeline spec (No such file or directory); check the path"),
        (["SPEC", "--from", "2027-13-01", "--to", "2027-01-02"], "--from '2027-13-01': expected a date as YYYY-MM-DD"),
        (["SPEC", "--from", "2027-02-01", "--to", "2027-01-31"], "--to 2027-01-31 is before --from 2027-02-01; give the range's first date with --from"),
    ],
)
def test_bad_inputs_are_one_line_errors(spec_path: Path, args: list[str], message: str) -> None:
    args = [str(spec_path) if a == "SPEC" else a for a in args]
    proc = luigi_fargate("verify", *args)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"luigi-fargate: error: {message}"


def test_a_spec_without_a_run_date_says_so(tmp_path: Path) -> None:
    assert luigi_fargate("export", "sem_daily.Daily", "--date", "2026-11-01", "--no-bind", "--out", str(tmp_path)).returncode == 0
    proc = luigi_fargate("verify", str(tmp_path / "sem_daily_daily.json"), "--from", "2027-01-01", "--to", "2027-01-02")
    assert proc.returncode == 2
    assert "DAG sem_daily_daily has no run-date binding (exported with --no-bind" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_progress_bar_only_on_a_terminal(spec_path: Path) -> None:
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BIN / "luigi-fargate"), "verify", str(spec_path), "--from", "2027-01-01", "--to", "2027-03-31"],
                            env=base_env(), stdout=subprocess.DEVNULL, stderr=slave)  # fmt: skip
    os.close(slave)
    shown = b""
    while True:  # read as it is written: a full terminal buffer would block the command
        ready, _, _ = select.select([master], [], [], 120)
        try:
            chunk = os.read(master, 65536) if ready else b""
        except OSError:  # the command closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.wait(timeout=60) == 0
    assert b"verifying month_close" in shown and b"all 90 runs match" in shown
