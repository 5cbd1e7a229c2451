"""One migrated crontab job, run by a real `airflow dags test`, does what the cron line did."""

from __future__ import annotations

import os

from tests.conftest import REPO, TESTS, base_env, luigi_fargate
from tests.crontab.conftest import HERE


def test_migrated_job_runs_in_airflow_with_cron_dates_env_and_cwd(airflow_home, tmp_path) -> None:
    data = tmp_path / "data"
    workdir = tmp_path / "work"
    workdir.mkdir()
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(
        "MAILTO=ops@example.com\nCRON_TZ=Europe/Berlin\nTZ=Europe/Berlin\n"
        f"CRON_DATA={data}\nAPP_MODE=prod\nDB_PASSWORD=hunter2\n"
        f"15 0 * * * cd {workdir} && luigi --module cronjobs Reconcile --date $(date +\\%F) --local-scheduler >> /dev/null 2>&1\n"
    )
    pythonpath = os.pathsep.join([str(REPO), str(TESTS / "fixtures"), str(HERE)])
    env = base_env(PYTHONPATH=pythonpath)
    proc = luigi_fargate("crontab", "migrate", str(crontab), "--line", "7", "--out", str(airflow_home.dags),
                        "--start-date", "2026-01-01", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "hunter2" not in (airflow_home.dags / "cronjobs_reconcile.json").read_text()

    # 00:15 in Berlin on 2026-03-29 is 23:15 UTC on the 28th: cron's `date +%F` says the 29th.
    run = airflow_home.dags_test("cronjobs_reconcile", "2026-03-28T23:15:00+00:00", PYTHONPATH=pythonpath)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sorted(p.name for p in data.iterdir()) == ["extract-2026-03-28.txt", "reconcile-2026-03-29.txt"], (
        run.stdout[-6000:]
    )
    assert (data / "extract-2026-03-28.txt").read_text() == "2026-03-28\n"
    assert (data / "reconcile-2026-03-29.txt").read_text() == f"2026-03-29 cwd={workdir} app=prod\n"
