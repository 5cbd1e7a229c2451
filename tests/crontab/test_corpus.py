"""A year of fire times and run dates: cron vs the migrated DAG, for 34 varied crontab lines.

For every line the corpus crontab holds, ``migrate`` exports a DAG; the DAG
built from it by airflow_bridge (its CronTriggerTimetable, as the scheduler
sees it) must fire at the instants cron fires, and the root task's rendered
date arguments must equal what the job's shell computes with ``date`` at
that instant in its zone. Lines whose fire times fall in a DST gap or fold
must be flagged by the plan; there, the differences must stay on those days.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import types
import zoneinfo
from collections import Counter

import pytest
from croniter import croniter

from luigi_fargate.crontab.migrate import MigrateOptions, migrate
from luigi_fargate.crontab.parse import parse_crontab
from luigi_fargate.crontab.plan import PlanOptions, plan_crontab
from luigi_fargate.crontab.schedule import cron_fire_times

UTC = dt.UTC
START = dt.datetime(2026, 1, 1, tzinfo=UTC)
END = dt.datetime(2027, 1, 1, tzinfo=UTC)


def day(fmt: str, days: int = 0, zone: str | None = None):
    """Expected `date -d 'N days' +FMT` at a fire instant, computed from the instant (zone None: the job's)."""
    return ("day", fmt, days, zone)


def hours(fmt: str, n: int):
    return ("hours", fmt, n, None)


# (crontab block, task param, expected, gnu date args for the real-shell cross-check, DST-flagged)
BERLIN = "CRON_TZ=Europe/Berlin\nTZ=Europe/Berlin"
CORPUS: list[tuple[str, str, str, tuple, bool]] = [
    # First, before any TZ= line (crontab assignments hold for every later line): a New York schedule
    # on a UTC host, so `date` runs in the host's zone.
    (
        "CRON_TZ=America/New_York",
        "0 20 * * * luigi --module cronjobs Snapshot --stamp $(date +\\%F)",
        "stamp",
        day("%Y-%m-%d", 0, "UTC"),
        False,
    ),
    # The same on a DateParameter whose upstream follows: binds to the UTC date (`ds`), not dropped.
    (
        "CRON_TZ=America/New_York",
        "0 20 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)",
        "date",
        day("%Y-%m-%d", 0, "UTC"),
        False,
    ),
    # A month interval binds like export's --bind (the month containing yesterday, in UTC: at 21:00 New York
    # on the 1st that is the current month, the New York yesterday is in the previous one).
    (
        "CRON_TZ=America/New_York",
        "0 21 1 * * luigi --module cronjobs CronMonthlyRollup --date-interval $(date -d yesterday +\\%Y-\\%m)",
        "date-interval",
        day("%Y-%m", -1, "UTC"),
        False,
    ),
    (
        BERLIN,
        "15 18 * * * cd /tmp && luigi --module cronjobs Reconcile --date $(date +\\%F) >> /tmp/r.log 2>&1",
        "date",
        day("%Y-%m-%d"),
        False,
    ),
    (
        BERLIN,
        "30 2 * * * luigi --module cronjobs Snapshot --stamp $(date -d yesterday +\\%Y\\%m\\%d)",
        "stamp",
        day("%Y%m%d", -1),
        True,
    ),
    (
        BERLIN,
        "0 * * * * luigi --module cronjobs Snapshot --stamp $(date +\\%Y-\\%m-\\%dT\\%H)",
        "stamp",
        day("%Y-%m-%dT%H"),
        False,
    ),
    (
        BERLIN,
        "30 1 * * 0 luigi --module cronjobs Snapshot --stamp `date +\\%Y\\%m\\%d`",
        "stamp",
        day("%Y%m%d"),
        False,
    ),
    (
        BERLIN,
        "@daily luigi --module cronjobs Reconcile --date $(date -d '1 day ago' +\\%F)",
        "date",
        day("%Y-%m-%d", -1),
        False,
    ),
    (
        BERLIN,
        "@weekly luigi --module cronjobs Snapshot --stamp $(date +\\%F)",
        "stamp",
        day("%Y-%m-%d"),
        False,
    ),
    (
        BERLIN,
        "@monthly luigi --module cronjobs Snapshot --stamp $(date +\\%Y\\%m)",
        "stamp",
        day("%Y%m"),
        False,
    ),
    (BERLIN, "@annually luigi --module cronjobs Snapshot --stamp $(date +\\%Y)", "stamp", day("%Y"), False),
    (
        BERLIN,
        "0 0 L * * luigi --module cronjobs Snapshot --stamp month-end-$(date +\\%F)",
        "stamp",
        ("prefix", "month-end-", day("%Y-%m-%d")),
        False,
    ),
    (
        BERLIN,
        "0 6 1,15 * mon luigi --module cronjobs Snapshot --stamp $(date +\\%F)",
        "stamp",
        day("%Y-%m-%d"),
        False,
    ),
    (
        BERLIN,
        "*/20 9-11 * * mon-fri luigi --module cronjobs Snapshot --stamp $(date +\\%Y\\%m\\%d\\%H\\%M)",
        "stamp",
        day("%Y%m%d%H%M"),
        False,
    ),
    # A string's %Y beside ISO %V: written from the fire day as is (Jan 1 2026 prints 2026-W01, though its
    # ISO week's Monday is in 2025: a template must not truncate to the week).
    (
        BERLIN,
        "0 12 * * * luigi --module cronjobs Snapshot --stamp $(date +\\%Y-W\\%V)",
        "stamp",
        day("%Y-W%V"),
        False,
    ),
    (
        BERLIN,
        "0 12 * jan,jul * luigi --module cronjobs Snapshot --stamp $(date +\\%j)",
        "stamp",
        day("%j"),
        False,
    ),
    (
        BERLIN,
        "5 4 * * sun nice -n 10 luigi --module cronjobs Snapshot --stamp $(date +\\%F)",
        "stamp",
        day("%Y-%m-%d"),
        False,
    ),
    (
        BERLIN,
        "0 22 * * 1-5 timeout 2h luigi --module cronjobs Reconcile --date $(date +\\%F)",
        "date",
        day("%Y-%m-%d"),
        False,
    ),
    (
        BERLIN,
        "45 23 31 12 * luigi --module cronjobs Snapshot --stamp $(date +\\%y)",
        "stamp",
        day("%y"),
        False,
    ),
    (
        BERLIN,
        "0 3 * * * flock -n /tmp/x.lock luigi --module cronjobs Reconcile --date $(date +\\%F)",
        "date",
        day("%Y-%m-%d"),
        False,
    ),
    (
        BERLIN,
        "0 2 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)",
        "date",
        day("%Y-%m-%d"),
        True,
    ),
    (
        BERLIN,
        "59 23 * * * luigi --module cronjobs Snapshot --stamp $(date -d tomorrow +\\%F)",
        "stamp",
        day("%Y-%m-%d", 1),
        False,
    ),
    (
        BERLIN,
        "0 9 * * * luigi --module cronjobs Snapshot --stamp $(date -u +\\%F)",
        "stamp",
        day("%Y-%m-%d", 0, "UTC"),
        False,
    ),
    (
        BERLIN,
        "*/30 2 * * * luigi --module cronjobs Snapshot --stamp $(date +\\%Y\\%m\\%d\\%H\\%M)",
        "stamp",
        day("%Y%m%d%H%M"),
        True,
    ),
    (
        BERLIN,
        "0 1-3 * * * luigi --module cronjobs Snapshot --stamp $(date +\\%d-\\%H)",
        "stamp",
        day("%d-%H"),
        True,  # 02:00 is skipped in spring: cron runs it at the jump, next to the 03:00 run; Airflow once
    ),
    # `date` in a third zone (TZ differs from CRON_TZ and from the host's): `ds@Asia/Tokyo`.
    (
        "CRON_TZ=Europe/Berlin\nTZ=Asia/Tokyo",
        "0 18 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)",
        "date",
        day("%Y-%m-%d", 0, "Asia/Tokyo"),
        False,
    ),
    # ISO weeks and Luigi month parameters bind like export's --bind (the week / month containing yesterday).
    (
        BERLIN,
        "0 7 * * 1 luigi --module cronjobs CronWeeklyRollup --week $(date -d yesterday +\\%G-W\\%V)",
        "week",
        day("%G-W%V", -1),
        False,
    ),
    (
        "CRON_TZ=UTC\nTZ=UTC",
        "30 0 1 * * luigi --module cronjobs CronMonthClose --month $(date -d '1 day ago' +\\%Y-\\%m)",
        "month",
        day("%Y-%m", -1),
        False,
    ),
    (
        "CRON_TZ=America/New_York\nTZ=America/New_York",
        "0 20 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)",
        "date",
        day("%Y-%m-%d"),
        False,
    ),
    (
        "CRON_TZ=America/New_York\nTZ=America/New_York",
        "30 1 * * * luigi --module cronjobs Snapshot --stamp $(date -d yesterday +\\%F)",
        "stamp",
        day("%Y-%m-%d", -1),
        True,
    ),
    (
        "CRON_TZ=America/New_York\nTZ=America/New_York",
        "0 2 * * 0 python3 -m luigi --module cronjobs Snapshot --stamp $(date +\\%F)",
        "stamp",
        day("%Y-%m-%d"),
        False,
    ),
    (
        "CRON_TZ=Australia/Sydney\nTZ=Australia/Sydney",
        "0 2 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)",
        "date",
        day("%Y-%m-%d"),
        True,
    ),
    (
        "CRON_TZ=Australia/Sydney\nTZ=Australia/Sydney",
        "0 9 * * 1-5 luigi --module cronjobs Reconcile --date $(date -d yesterday +\\%F)",
        "date",
        day("%Y-%m-%d", -1),
        False,
    ),
    (
        "CRON_TZ=Asia/Kolkata\nTZ=Asia/Kolkata",
        "0 0 * * * luigi --module cronjobs Snapshot --stamp $(date +\\%Y\\%m\\%d)",
        "stamp",
        day("%Y%m%d"),
        False,
    ),
    (
        "CRON_TZ=Asia/Kolkata\nTZ=Asia/Kolkata",
        "30 18 * * * luigi --module cronjobs Snapshot --stamp $(date -u +\\%F)",
        "stamp",
        day("%Y-%m-%d", 0, "UTC"),
        False,
    ),
    (
        "CRON_TZ=UTC\nTZ=UTC",
        "0 6 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)",
        "date",
        day("%Y-%m-%d"),
        False,
    ),
    (
        "CRON_TZ=UTC\nTZ=UTC",
        "0 */6 * * * luigi --module cronjobs Snapshot --stamp $(date -d '6 hours ago' +\\%Y\\%m\\%d\\%H)",
        "stamp",
        hours("%Y%m%d%H", -6),
        False,
    ),
    (
        "CRON_TZ=UTC\nTZ=UTC",
        "15 0 1 1,4,7,10 * luigi --module cronjobs Snapshot --stamp $(date -d '-1 day' +\\%F)",
        "stamp",
        day("%Y-%m-%d", -1),
        False,
    ),
    (
        "CRON_TZ=UTC\nTZ=UTC",
        "@hourly luigi --module cronjobs Snapshot --stamp $(date +\\%Y\\%m\\%d\\%H)",
        "stamp",
        day("%Y%m%d%H"),
        False,
    ),
    (
        "CRON_TZ=UTC\nTZ=UTC",
        "0 0 1-7 * 1 luigi --module cronjobs Snapshot --stamp $(date +\\%F)",
        "stamp",
        day("%Y-%m-%d"),
        False,
    ),
    (
        "CRON_TZ=Europe/London\nTZ=Europe/London",
        "0 1 * * * luigi --module cronjobs Snapshot --stamp $(date -d '2 days ago' +\\%F)",
        "stamp",
        day("%Y-%m-%d", -2),
        True,
    ),
]
# A line Airflow can't reproduce: cron ANDs '*/2' day-of-month with a day-of-week, croniter ORs them.
AND_LINE = "0 0 */2 * 1 luigi --module cronjobs Snapshot --stamp $(date +\\%F)"


def _zone_of(block: str) -> tuple[str, str]:
    env = dict(line.split("=", 1) for line in block.splitlines())
    return env["CRON_TZ"], env.get("TZ", "UTC")


def expected_value(spec: tuple, fire: dt.datetime, job_zone: str) -> str:
    if spec[0] == "prefix":
        return spec[1] + expected_value(spec[2], fire, job_zone)
    kind, fmt, n, zone = spec
    tz = zoneinfo.ZoneInfo(zone or job_zone)
    if kind == "hours":
        return (fire + dt.timedelta(hours=n)).astimezone(tz).strftime(fmt)
    local = fire.astimezone(tz)
    return (local.replace(tzinfo=None) + dt.timedelta(days=n)).strftime(fmt)


def shell_date(spec: tuple, fire: dt.datetime, job_zone: str) -> str:
    """The same value from a real GNU `date` run by /bin/sh with TZ set (no faketime)."""
    if spec[0] == "prefix":
        return spec[1] + shell_date(spec[2], fire, job_zone)
    kind, fmt, n, zone = spec
    rel = f"{n} hours" if kind == "hours" else f"{n} days"
    utc = "-u" if zone == "UTC" and job_zone != "UTC" else ""
    script = (
        f'date {utc} -d "$(date {utc} -d @{int(fire.timestamp())} "+%Y-%m-%d %H:%M:%S %z") {rel}" "+{fmt}"'
    )
    env = {"TZ": job_zone, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        ["/bin/sh", "-c", script], env=env, text=True, capture_output=True, check=True
    ).stdout.strip()


def croniter_fires(cron: str, zone: str) -> list[dt.datetime]:
    """The brief's reference: croniter iterating in the crontab's zone."""
    tz = zoneinfo.ZoneInfo(zone)
    it = croniter(cron, START.astimezone(tz) - dt.timedelta(seconds=1))
    out = []
    while True:
        t = it.get_next(dt.datetime).astimezone(UTC)
        if t >= END:
            return out
        out.append(t)


def airflow_fires(dag) -> list[dt.datetime]:
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    timetable = coerce_to_core_timetable(dag.timetable)
    import pendulum

    restriction = TimeRestriction(earliest=pendulum.instance(START), latest=None, catchup=True)
    out, last = [], None
    while True:
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction)
        if info is None or info.run_after >= END:
            return out
        out.append(dt.datetime.fromtimestamp(info.run_after.timestamp(), UTC))
        last = info.data_interval


def render_root_arg(dag, spec, param: str, fire: dt.datetime) -> str:
    import pendulum
    from airflow.sdk.execution_time import macros

    root = spec.node(spec.root)
    template = root.param(param.replace("-", "_")).template
    logical = pendulum.instance(fire)
    context = {
        "dag": dag, "macros": macros, "ds": logical.strftime("%Y-%m-%d"), "ds_nodash": logical.strftime("%Y%m%d"),
        "logical_date": logical, "dag_run": types.SimpleNamespace(logical_date=logical, run_after=logical),
    }  # fmt: skip
    return dag.get_template_env().from_string(template).render(**context)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory):
    """The corpus as one crontab, every job migrated in one step."""
    root = tmp_path_factory.mktemp("corpus")
    blocks, numbers = [], []
    n = 2  # after the MAILTO line
    for block, line, *_ in CORPUS:
        blocks += [block, line]
        n += block.count("\n") + 1
        numbers.append(n)
        n += 1
    blocks.append("CRON_TZ=UTC\n" + AND_LINE)
    text = "MAILTO=ops@example.com\n" + "\n".join(blocks) + "\n"
    crontab = root / "corpus.cron"
    crontab.write_text(text)
    options = PlanOptions(now=START)
    planned = {p.number: p for p in plan_crontab(text, options)}
    jobs = migrate(crontab, options, MigrateOptions(out_dir=root / "dags", lines=numbers)).jobs
    return planned, numbers, {j.line: j for j in jobs}, text


def test_corpus_is_varied_and_all_migratable(migrated) -> None:
    planned, numbers, jobs, text = migrated
    assert len(CORPUS) >= 30 and len(jobs) == len(CORPUS)
    assert all(planned[n].status == "migrate" for n in numbers)
    and_line = [p for p in planned.values() if p.text == AND_LINE][0]
    assert and_line.status == "not-migratable" and "both" in and_line.reasons[0]


@pytest.mark.parametrize(
    "index", range(len(CORPUS)), ids=[c[1].split(" luigi")[0].split(" python3")[0][:30] for c in CORPUS]
)
def test_same_fire_times_and_dates_for_a_year(migrated, index: int) -> None:
    from airflow_bridge.dag_builder import build_dag
    from luigi_fargate.spec import PipelineSpec

    planned, numbers, jobs, _ = migrated
    block, line, param, expected, dst_flagged = CORPUS[index]
    number = numbers[index]
    schedule_zone, job_zone = _zone_of(block)
    job = jobs[number]
    dag = build_dag(job.json_path)
    spec = PipelineSpec.load(job.json_path)
    schedule = parse_crontab(line)[0].schedule

    cron = list(cron_fire_times(schedule, schedule_zone, START, END))
    airflow = airflow_fires(dag)
    warnings = [w for w in planned[number].warnings if w.startswith("DST")]
    assert bool(warnings) == dst_flagged, warnings
    if not dst_flagged:
        assert airflow == cron == croniter_fires(schedule.cron, schedule_zone)
    else:
        # Differences only on the days the plan warned about.
        flagged_days = {w.split()[1] for w in warnings}
        tz = zoneinfo.ZoneInfo(schedule_zone)
        differing = list(((Counter(airflow) - Counter(cron)) + (Counter(cron) - Counter(airflow))).elements())
        assert differing, "a flagged schedule really differs (else the flag is noise)"
        assert {t.astimezone(tz).date().isoformat() for t in differing} <= flagged_days
    assert airflow, "the schedule fires in 2026"

    # Every fire of a daily-or-slower schedule; for hourly ones every 7th fire (all hours and weekdays
    # still come round) plus every fire on a DST-change day.
    tz = zoneinfo.ZoneInfo(schedule_zone)
    dst_days = {
        d.date()
        for d in airflow
        if d.astimezone(tz).utcoffset() != (d - dt.timedelta(days=1)).astimezone(tz).utcoffset()
    }
    checked = (
        airflow
        if len(airflow) < 1000
        else sorted(set(airflow[::7]) | {t for t in airflow if t.date() in dst_days})
    )
    for fire in checked:
        assert render_root_arg(dag, spec, param, fire) == expected_value(expected, fire, job_zone), fire
    # Cross-check the expectation with a real `date` in /bin/sh at a few instants (DST days included).
    samples = {airflow[0], airflow[-1], airflow[len(airflow) // 2]}
    samples |= {
        t
        for t in airflow
        if t.astimezone(zoneinfo.ZoneInfo(schedule_zone)).strftime("%m-%d")
        in ("03-29", "10-25", "03-08", "11-01", "04-05", "10-04")
    }
    for fire in sorted(samples)[:12]:
        assert shell_date(expected, fire, job_zone) == render_root_arg(dag, spec, param, fire), fire


def test_day_parameters_bind_so_upstream_dates_follow(migrated) -> None:
    """`--date $(date -d yesterday +%F)` on a DateParameter: Reconcile's upstream Extract follows too."""
    from luigi_fargate.spec import PipelineSpec

    planned, numbers, jobs, _ = migrated
    index = next(i for i, c in enumerate(CORPUS) if c[1].startswith("@daily"))  # -d '1 day ago'
    spec = PipelineSpec.load(jobs[numbers[index]].json_path)
    assert spec.bindings == {"date": "ds_local-1d"}
    extract = [t for t in spec.tasks if t.family == "Extract"][0]
    assert any(p.template for p in extract.params)


@pytest.mark.parametrize(
    ("family", "binding"),
    [
        ("Reconcile", {"date": "ds"}),  # CRON_TZ=America/New_York on a UTC host: `date` prints the UTC day
        ("Reconcile", {"date": "ds@Asia/Tokyo"}),
        ("CronMonthlyRollup", {"date_interval": "ds-1d"}),
        ("CronWeeklyRollup", {"week": "ds_local-1d"}),
        ("CronMonthClose", {"month": "ds-1d"}),
    ],
)
def test_dates_bind_in_the_zone_date_ran_in_and_upstream_follows(migrated, family: str, binding: dict) -> None:
    """Bindings carry `date`'s zone, intervals and ISO weeks bind like --bind: every Extract upstream follows."""
    from luigi_fargate.spec import PipelineSpec

    _, numbers, jobs, _ = migrated
    specs = [PipelineSpec.load(jobs[n].json_path) for n in numbers]
    spec = next(s for s in specs if s.node(s.root).family == family and s.bindings == binding)
    extracts = [t for t in spec.tasks if t.family == "Extract"]
    assert extracts and all(p.template for t in extracts for p in t.params), [t.params for t in extracts]


def test_a_whole_job_timeout_becomes_the_runs_dagrun_timeout(migrated) -> None:
    """cron's `timeout 2h` bounds the whole job: Airflow's dagrun_timeout bounds the whole run, not each task."""
    from airflow_bridge.dag_builder import build_dag

    _, numbers, jobs, _ = migrated
    index = next(i for i, c in enumerate(CORPUS) if " timeout 2h " in c[1])
    dag = build_dag(jobs[numbers[index]].json_path)
    assert dag.dagrun_timeout == dt.timedelta(hours=2)
    assert {t.execution_timeout for t in dag.tasks} == {None}
