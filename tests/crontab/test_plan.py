"""`crontab plan`: every line of a real-looking crontab gets a status and a reason."""

from __future__ import annotations

import json

import pytest

from luigi_fargate.crontab.command import CommandError, parse_command
from luigi_fargate.crontab.plan import PlanOptions, plan_crontab
from tests.conftest import base_env, luigi_fargate
from tests.crontab.conftest import HERE

CRONTAB = r"""# billing jobs
SHELL=/bin/sh
PATH=/usr/local/bin:/usr/bin:/bin
MAILTO="ops@example.com, oncall@example.com"
CRON_TZ=Europe/Berlin
TZ=Europe/Berlin
LUIGI_CONFIG_PATH=/srv/jobs/luigi.cfg
APP_MODE=prod
AWS_SECRET_ACCESS_KEY=abc123
DATABASE_URL=postgres://app:s3cret@db/app

15 18 * * * cd /srv/jobs && luigi --module cronjobs Reconcile --date $(date +\%F) --workers 4 >> /var/log/reconcile.log 2>&1
30 2 * * mon-fri flock -n /tmp/snap.lock timeout 90m nice -n 10 /opt/venv/bin/python3 -m luigi --module cronjobs Snapshot --stamp `date -d yesterday +\%Y\%m\%d`
0 7 * * * REGION=eu /srv/bin/run-luigi.sh --module cronjobs Snapshot --stamp=$(date -u +\%Y-\%m-\%dT\%H)
@reboot luigi --module cronjobs Snapshot --stamp boot
0 0 L * * /usr/local/bin/backup.sh --all
*/5 * * * * luigi --module cronjobs Snapshot --stamp x | tee -a /tmp/log
0 1 * * * luigi --module cronjobs Snapshot --stamp $(date +%F)
0 3 * * * luigi --module cronjobs Snapshot --stamp $(hostname)
0 4 * * * luigi --module cronjobs Snapshot --stamp $(date -d 'next month' +\%F)
0 5 * * * luigi cronjobs.Snapshot --stamp "$HOME/x"
61 * * * * luigi --module cronjobs Snapshot --stamp x
0 0 * * 1#2 luigi --module cronjobs Snapshot --stamp x
0 0 */2 * 1 luigi --module cronjobs Snapshot --stamp x
just some words
@fortnightly luigi --module cronjobs Snapshot --stamp x
0 6 * * * flock /tmp/l -c 'cd /srv && luigi --module cronjobs Reconcile --date "$(date -d yesterday +\%F)"'
"""


@pytest.fixture(scope="module")
def plan():
    return {p.number: p for p in plan_crontab(CRONTAB, PlanOptions(wrappers=("*/run-luigi.sh",)))}


def test_luigi_jobs_are_recognized_with_schedule_zone_env_and_dates(plan) -> None:
    p = plan[12]
    assert (p.status, p.dag_id, p.cron, p.timezone, p.cwd) == (
        "migrate",
        "cronjobs_reconcile_line12",
        "15 18 * * *",
        "Europe/Berlin",
        "/srv/jobs",
    )
    assert p.day_bindings == {"date": "ds_local"}
    assert p.emails == ["ops@example.com", "oncall@example.com"]
    assert p.env == {"TZ": "Europe/Berlin", "LUIGI_CONFIG_PATH": "/srv/jobs/luigi.cfg", "APP_MODE": "prod"}
    assert any("--workers 4" in c for c in p.changes)
    secrets = " ".join(p.warnings)
    assert (
        "AWS_SECRET_ACCESS_KEY looks like a secret" in secrets
        and "DATABASE_URL looks like a secret" in secrets
    )
    assert "abc123" not in json.dumps(p.to_dict())

    snap = plan[13]
    assert (snap.status, snap.module, snap.family, snap.timeout_seconds) == (
        "migrate",
        "cronjobs",
        "Snapshot",
        5400.0,
    )
    assert (
        "macros.timedelta(days=-1)" in snap.param_templates["stamp"]
        and "%Y%m%d" in snap.param_templates["stamp"]
    )
    assert any("flock /tmp/snap.lock" in c for c in snap.changes)
    assert any("timeout 90m limited the whole job" in c for c in snap.changes)

    wrapper = plan[14]
    assert wrapper.status == "migrate" and wrapper.env["REGION"] == "eu"
    # export's run-anchor helper, in UTC (what it renders is checked for a year in test_corpus.py)
    stamp = wrapper.param_templates["stamp"]
    assert stamp.endswith("lf_anchor.strftime('%Y-%m-%dT%H') }}") and "astimezone(macros.dateutil.tz.UTC)" in stamp

    flock_c = plan[27]
    assert (flock_c.status, flock_c.cwd, flock_c.day_bindings) == ("migrate", "/srv", {"date": "ds_local-1d"})


@pytest.mark.parametrize(
    ("number", "status", "reason"),
    [
        (15, "not-migratable", "@reboot"),
        (16, "not-luigi", "/usr/local/bin/backup.sh"),
        (17, "not-migratable", "pipes into another program"),
        (18, "not-migratable", "unescaped %"),
        (19, "not-migratable", "$(hostname)"),
        (20, "not-migratable", "next month"),
        (21, "not-migratable", "shell variable"),
        (22, "malformed", "not a valid cron schedule"),
        (23, "malformed", "Quartz"),
        (24, "not-migratable", "matching both"),
        (25, "malformed", "five schedule fields"),
        (26, "malformed", "unknown preset"),
    ],
)
def test_every_other_line_says_why(plan, number: int, status: str, reason: str) -> None:
    assert plan[number].status == status
    assert reason in " ".join(plan[number].reasons)


def test_non_job_lines_are_kept_as_what_they_are(plan) -> None:
    assert [plan[n].status for n in (1, 2, 11)] == ["comment", "env", "blank"]
    assert len(plan) == CRONTAB.count("\n")


def test_system_crontab_user_column() -> None:
    text = "CRON_TZ=UTC\n17 * * * * root cd / && luigi --module cronjobs Snapshot --stamp $(date +\\%H)\n0 0 * * * root\n"
    p = plan_crontab(text, PlanOptions(system=True))
    assert p[1].status == "migrate" and p[1].head == "17 * * * * root"
    assert any("user 'root'" in c for c in p[1].changes)
    assert p[2].status == "malformed" and "a user and a command" in p[2].reasons[0]


def test_host_timezone_applies_without_cron_tz() -> None:
    p = plan_crontab(
        "0 6 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)\n",
        PlanOptions(host_timezone="Asia/Tokyo"),
    )[0]
    assert (p.timezone, p.date_timezone, p.day_bindings) == ("Asia/Tokyo", "Asia/Tokyo", {"date": "ds_local"})


@pytest.mark.parametrize(
    "command",
    [
        "luigi --module m T --date=$(date +%F)",
        "python -m luigi --module m T --date $(date +%F) < /dev/null > /dev/null 2>&1",
        "cd /a && cd b && export X=1 Y=2 && env Z=3 nohup ionice -c 3 luigi m.T --date $(date +%F) &>> /tmp/x",
        'luigi-fargate run --allow-any --lock file:///tmp/l m T --date "$(date +%F)"',
    ],
)
def test_commands_that_are_luigi(command: str) -> None:
    inv = parse_command(command)
    assert (inv.module, inv.family) == ("m", "T")
    assert [n for n, _ in inv.param_items()] == ["date"]
    assert list(inv.dates.values())[0].fmt == "%Y-%m-%d"


def test_cd_and_env_prefixes_travel() -> None:
    inv = parse_command("cd /a && cd b && export X=1 Y=2 && env Z=3 nohup luigi m.T")
    assert inv.cwd == "/a/b" and inv.env == {"X": "1", "Y": "2", "Z": "3"}


@pytest.mark.parametrize(
    ("command", "is_luigi"),
    [("luigi --module m T || echo failed", True), ("luigi --module m T & sleep 5", True), ("rsync -a /a /b", False),
     ("luigi --module m T --date 'unterminated", True), ("make -C /srv && luigi --module m T", True)],
)  # fmt: skip
def test_commands_that_are_not_translated(command: str, is_luigi: bool) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(command)
    assert info.value.is_luigi is is_luigi


def test_plan_cli_lists_every_job_line_and_unreadable_files(tmp_path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_bytes(CRONTAB.encode() + b"0 1 * * * luigi --module cronjobs Snapshot --stamp \xff\xfe\n")
    env = base_env(PYTHONPATH=str(HERE))
    proc = luigi_fargate("crontab", "plan", str(crontab), "--wrapper", "*/run-luigi.sh", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "cronjobs_reconcile_line12" in proc.stdout and "@reboot has no Airflow equivalent" in proc.stdout
    assert "5 malformed" in proc.stdout  # four in CRONTAB, and the line that isn't UTF-8
    doc = json.loads(luigi_fargate("crontab", "plan", str(crontab), "--format", "json", env=env).stdout)
    assert doc["format_version"] == 1 and doc["crontab"] == str(crontab)
    as_json = doc["lines"]
    assert len(as_json) == CRONTAB.count("\n") + 1
    assert as_json[-1]["status"] == "malformed" and "UTF-8" in as_json[-1]["reasons"][0]

    missing = luigi_fargate("crontab", "plan", str(tmp_path / "nope.cron"), env=env)
    assert (
        missing.returncode == 2
        and "can't read the crontab" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    directory = luigi_fargate("crontab", "plan", str(tmp_path), env=env)
    assert directory.returncode == 2 and "is a directory" in directory.stderr
