"""One decision per line: what `crontab plan` says is what `crontab migrate` does."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luigi_fargate.crontab.decide import DagFolder, ExportSettings, decide_crontab
from luigi_fargate.crontab.migrate import MigrateOptions, migrate
from luigi_fargate.crontab.plan import PlanOptions
from luigi_fargate.crontab.state import StatePaths, load_state
from luigi_fargate.errors import UserError
from tests.conftest import base_env, luigi_fargate
from tests.crontab.conftest import HERE

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _decided(text: str, folder: DagFolder | None = None):
    planned, _ = decide_crontab(text, PlanOptions(now=NOW), ExportSettings(now=NOW), folder)
    return planned


def test_an_upstream_path_derived_from_a_templated_string_is_refused(tmp_path: Path) -> None:
    """The issue's case: `--id $(date +%Y%m%d)`, upstream `path='results/{}/x'.format(self.id)`."""
    line = "0 6 * * * luigi --module cronjobs CronReport --id $(date +\\%Y\\%m\\%d)"
    (p,) = _decided(line + "\n")
    assert p.status == "not-migratable"
    (reason,) = p.reasons
    assert "upstream task CronResults takes path='results/20260602/x', then path='results/20260603/x'" in reason
    assert "make --id a luigi.DateParameter" in reason
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(line + "\n")
    with pytest.raises(UserError, match="upstream task CronResults takes path="):
        migrate(crontab, PlanOptions(now=NOW), MigrateOptions(out_dir=tmp_path / "dags", lines=[1]))
    assert sorted(f.name for f in tmp_path.iterdir()) == ["jobs.cron"]


def test_a_templated_string_whose_upstream_stays_put_migrates() -> None:
    (p,) = _decided("0 * * * * luigi --module cronjobs CronStamped --stamp $(date +\\%Y\\%m\\%d\\%H)\n")
    assert p.status == "migrate", p.reasons


def test_plan_imports_the_code_like_migrate(tmp_path: Path) -> None:
    """A module that doesn't import, a parameter the task lacks: plan says so, as migrate would."""
    planned = _decided(
        "0 1 * * * luigi --module no_such_module Task --date $(date +\\%F)\n"
        "0 2 * * * luigi --module cronjobs Reconcile --date $(date +\\%F) --colour blue\n"
    )
    assert [p.status for p in planned] == ["not-migratable", "not-migratable"]
    assert "module 'no_such_module' not found" in planned[0].reasons[0]
    assert "colour" in planned[1].reasons[0]


# --- plan == migrate, over generated lines ----------------------------------------------------

SCHEDULES = ["15 18 * * *", "0 */6 * * *", "@daily", "30 2 * * mon-fri", "0 0 */2 * 1", "@reboot", "61 * * * *",
             "0 0 L * *", "*/20 9-11 * * *"]  # fmt: skip
PREFIXES = ["", "cd /tmp && ", "nice -n 10 ", "timeout 2h ", "flock -n /tmp/x.lock ", "APP_MODE=prod ",
            "timeout 1.5x ", "make && ", "env -i "]  # fmt: skip
TASKS = [
    "luigi --module cronjobs Reconcile --date $(date +\\%F)",
    "luigi --module cronjobs Reconcile --date $(date -d yesterday +\\%F)",
    "luigi --module cronjobs Snapshot --stamp $(date -u +\\%Y\\%m\\%d\\%H)",
    "python3 -m luigi --module cronjobs Derived --day $(date +\\%Y\\%m\\%d)",
    "luigi cronjobs.CronReport --id `date +\\%Y\\%m\\%d`",
    "luigi --module cronjobs CronStamped --stamp $(date +\\%F)",
    "luigi --module cronjobs Snapshot --stamp $(hostname)",
    "luigi --module cronjobs Snapshot --stamp $(date +%F)",
    "luigi --module cronjobs Snapshot --token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "luigi --module cronjobs Nope --date $(date +\\%F)",
    "luigi --module no_such_module Task --x 1",
    "/usr/bin/backup.sh --all",
]
SUFFIXES = ["", " >> /tmp/job.log 2>&1", " | tee /tmp/x", " --workers 4", " # trailing comment"]
ENVIRONMENTS = ["", "CRON_TZ=Europe/Berlin\nTZ=Europe/Berlin\n", "CRON_TZ=America/New_York\n", "MAILTO=ops@example.com\n",
                "TZ=Mars/Base\n", "SLACK_WEBHOOK=https://hooks.slack.com/services/T0/B0/secret\n"]  # fmt: skip
lines = st.builds(lambda env, s, pre, task, suf: (env, f"{s} {pre}{task}{suf}"), st.sampled_from(ENVIRONMENTS),
                  st.sampled_from(SCHEDULES), st.sampled_from(PREFIXES), st.sampled_from(TASKS), st.sampled_from(SUFFIXES))  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(lines, min_size=1, max_size=3))
def test_every_line_plan_calls_migrate_migrates_and_every_other_is_refused_for_the_same_reason(
    tmp_path_factory, generated
) -> None:
    text = "".join(env + line + "\n" for env, line in generated)
    planned = [p for p in _decided(text) if p.status not in ("blank", "env", "comment")]
    for p in planned:
        tmp = tmp_path_factory.mktemp("line")
        crontab = tmp / "jobs.cron"
        crontab.write_text(text)
        options = MigrateOptions(out_dir=tmp / "dags", lines=[p.number], start_date="2026-06-01")
        if p.status == "migrate":
            jobs = migrate(crontab, PlanOptions(now=NOW), options).jobs
            assert [j.line for j in jobs] == [p.number] and Path(jobs[0].json_path).exists()
        else:
            with pytest.raises(UserError) as info:
                migrate(crontab, PlanOptions(now=NOW), options)
            assert f"({p.status}: {'; '.join(p.reasons)})" in info.value.message
            assert crontab.read_text() == text and not (tmp / "dags").exists()


# --- no clobbering ---------------------------------------------------------------------------------

JOB = "15 18 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)\n"


def test_a_dag_id_another_crontab_wrote_is_refused_and_a_prefix_resolves_it(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    first, second = tmp_path / "a.cron", tmp_path / "b.cron"
    first.write_text(JOB)
    second.write_text(JOB)
    migrate(first, PlanOptions(now=NOW), MigrateOptions(out_dir=dags, lines=[1]))
    written = (dags / "cronjobs_reconcile.json").read_bytes()
    with pytest.raises(UserError, match="already exists and no migrate of this crontab wrote it.*--dag-id-prefix"):
        migrate(second, PlanOptions(now=NOW), MigrateOptions(out_dir=dags, lines=[1]))
    assert (dags / "cronjobs_reconcile.json").read_bytes() == written and second.read_text() == JOB
    # plan --out says the same before anything is tried
    env = base_env(PYTHONPATH=str(HERE))
    plan = luigi_fargate("crontab", "plan", str(second), "--out", str(dags), "--format", "json", env=env)
    assert plan.returncode == 0, plan.stderr
    (line,) = json.loads(plan.stdout)["lines"]
    assert line["status"] == "not-migratable" and "already exists" in line["reasons"][0]
    migrate(second, PlanOptions(now=NOW, dag_id_prefix="b_"), MigrateOptions(out_dir=dags, lines=[1]))
    assert (dags / "b_cronjobs_reconcile.py").exists() and (dags / "cronjobs_reconcile.json").read_bytes() == written


def test_a_line_added_later_with_the_same_task_doesnt_take_over_a_migrated_dag(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(JOB)
    migrate(crontab, PlanOptions(now=NOW), MigrateOptions(out_dir=tmp_path / "dags", lines=[1]))
    crontab.write_text(crontab.read_text() + JOB.replace("15 18", "0 7"))
    paths = StatePaths.for_crontab(crontab)
    (p,) = [p for p in _decided(crontab.read_text(), DagFolder(tmp_path / "dags", load_state(paths))) if p.number == 2]
    assert p.status == "not-migratable" and "belongs to another line migrated earlier" in p.reasons[0]


# --- verify over the next fires -----------------------------------------------------------------

PAYROLL = "0 6 * * * luigi --module cronjobs CronPayroll --date $(date +\\%F)\n"


def test_plan_and_migrate_verify_the_next_fires_against_luigis_graph(tmp_path: Path) -> None:
    """CronPayroll adds an upstream on the 15th only: neither the two-run comparison nor export's sampled
    dates see it; verifying the next 40 fires (June 2-July 11) does, and migrate refuses the same way."""
    (p,) = _decided(PAYROLL)
    assert p.status == "not-migratable"
    assert p.reasons[0].startswith("verify: the run of 2026-06-15 06:00: CronPayroll"), p.reasons
    assert "CronMonthClose" in p.reasons[0] and "of the next 40 runs differ" in p.reasons[0]
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(PAYROLL)
    with pytest.raises(UserError, match="verify: the run of 2026-06-15"):
        migrate(crontab, PlanOptions(now=NOW), MigrateOptions(out_dir=tmp_path / "dags", lines=[1]))
    assert not (tmp_path / "dags").exists() and crontab.read_text() == PAYROLL
    # Fewer fires than reach the 15th: migrates (and the plan says so).
    planned, _ = decide_crontab(PAYROLL, PlanOptions(now=NOW), ExportSettings(now=NOW, verify_fires=5))
    assert planned[0].status == "migrate", planned[0].reasons


def test_verify_fires_on_the_command_line(cli, tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(PAYROLL)
    status = {}
    for n in ("0", None):  # 40 daily fires always hold a 15th
        result = cli("crontab", "plan", str(crontab), "--format", "json", *(("--verify-fires", n) if n else ()))
        assert result.returncode == 0, result.stderr
        status[n] = json.loads(result.stdout)["lines"][0]["status"]
    assert status == {"0": "migrate", None: "not-migratable"}
    for bad in ("-1", "x", "10001"):
        result = cli("crontab", "plan", str(crontab), "--verify-fires", bad)
        assert result.returncode == 2 and f"argument --verify-fires: '{bad}': give a whole number" in result.stderr


# --- what cron's shell does that a template can't -------------------------------------------------


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        # A prefix TZ (or an unexported one) reaches luigi, not the $(date) in its arguments.
        ("0 20 * * * TZ=Asia/Tokyo luigi --module cronjobs Reconcile --date $(date +\\%F)", "TZ=Asia/Tokyo is set in the command"),
        ("0 20 * * * export TZ=; luigi --module cronjobs Reconcile --date $(date +\\%F)", "TZ= is set in the command"),
        # %e pads with a space: the shell splits the unquoted substitution into two words.
        ("0 20 * * * luigi --module cronjobs Snapshot --stamp d$(date +\\%e)", "format %e is not supported"),
        ("0 20 * * * luigi --module cronjobs Snapshot --stamp $(date '+\\%Y \\%m')", "a format with spaces"),
        ("0 20 * * * luigi --module cronjobs Snapshot --stamp $(date -d '' +\\%F)", "an empty date string means midnight"),
        ("0 20 * * * luigi --module cronjobs Snapshot --stamp $(date +\\%F +\\%Y)", "option '+%Y' of date is not supported"),
        # Two dates: the first binds; upstream follows the second, so the advice is about which one binds.
        (
            "0 20 * * * luigi --module cronjobs CronWindow --start $(date -d '7 days ago' +\\%F) --end $(date +\\%F)",
            "a run follows one date parameter (--start, the first); derive --end from it",
        ),
    ],
)
def test_lines_whose_dates_cron_computes_otherwise_stay_in_cron(line: str, reason: str) -> None:
    (p,) = _decided(line + "\n")
    assert p.status == "not-migratable" and reason in p.reasons[0], p.reasons


def test_a_command_tz_without_dates_is_passed_to_the_task() -> None:
    (p,) = _decided("0 20 * * * TZ=Asia/Tokyo luigi --module cronjobs Snapshot --stamp fixed\n")
    assert p.status == "migrate" and p.env["TZ"] == "Asia/Tokyo", p.reasons


def test_a_shifted_hour_in_a_dst_gap_is_flagged_where_gnu_date_and_the_dag_differ() -> None:
    """`date -d yesterday +%H` at 02:30 the day after the spring change names 02:30, which doesn't exist:
    GNU date prints 03, the DAG 02. The plan says so on that day (a DST warning, as for fire times)."""
    import subprocess

    from luigi_fargate.crontab.dates import parse_date_command, shell_value

    line = "CRON_TZ=Europe/Berlin\nTZ=Europe/Berlin\n30 2 * * * luigi --module cronjobs Snapshot --stamp $(date -d yesterday +\\%Y-\\%m-\\%dT\\%H)\n"
    (p,) = [q for q in _decided(line) if q.number == 3]
    warnings = [w for w in p.warnings if w.startswith("DST: $(date -d yesterday")]
    assert warnings and "at the run of 2027-03-29 02:30 names 2027-03-28 02:30" in warnings[0], p.warnings
    fire = dt.datetime(2027, 3, 29, 0, 30, tzinfo=dt.UTC)  # 02:30 CEST
    gnu = subprocess.run(["date", "-d", "2027-03-29 02:30 yesterday", "+%Y-%m-%dT%H"], env={"TZ": "Europe/Berlin"},
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    ours = shell_value(parse_date_command("$(date -d yesterday +%Y-%m-%dT%H)", "date -d yesterday +%Y-%m-%dT%H"), fire, "Europe/Berlin")
    assert (gnu, ours) == ("2027-03-28T03", "2027-03-28T02")
    # Without the hour the day is the same either way: no warning.
    (q,) = [q for q in _decided(line.replace("T\\%H", "")) if q.number == 3]
    assert not [w for w in q.warnings if w.startswith("DST: $(date")], q.warnings
