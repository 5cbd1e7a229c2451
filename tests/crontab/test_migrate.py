"""`crontab migrate` / `rollback`: atomic, reversible byte for byte, nothing written half way."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luigi_fargate.crontab.migrate import MigrateOptions, migrate
from luigi_fargate.crontab.parse import split_percent
from luigi_fargate.crontab.plan import MARKER, PlanOptions, plan_crontab
from luigi_fargate.crontab.rollback import rollback
from luigi_fargate.errors import UserError
from tests.conftest import BIN, base_env, luigi_fargate
from tests.crontab.conftest import HERE

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
JOB = "15 18 * * * cd /tmp && luigi --module cronjobs Reconcile --date $(date +\\%F) >> /dev/null 2>&1"
SNAP = "30 2 * * 1-5 luigi --module cronjobs Snapshot --stamp `date -d yesterday +\\%Y\\%m\\%d`"
OTHER_LINES = [
    "# a comment", "", "   ", "MAILTO=ops@example.com", "SHELL=/bin/sh", "0 0 L * * /usr/bin/backup.sh",
    "@reboot /usr/bin/warmup", "not a cron line", "*/5 * * * * echo 'x' | tee /tmp/y", "  # indented comment",
    "0 1 * * * echo 100%", "ZÜRICH_MODE=ja ✓", "\t0 2 * * *\tluigi --module cronjobs Snapshot --stamp x",
]  # fmt: skip


def _options(tmp: Path, **kw) -> MigrateOptions:
    return MigrateOptions(out_dir=tmp / "dags", **kw)


def _line_of(text: str, needle: str) -> int:
    return [i for i, line in enumerate(text.splitlines(), start=1) if line == needle][0]


crontab_lines = st.lists(st.sampled_from(OTHER_LINES), max_size=8)
endings = st.sampled_from(["\n", "\r\n"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=crontab_lines,
    after=crontab_lines,
    eol=endings,
    final_eol=st.booleans(),
    junk=st.binary(max_size=6),
)
def test_migrate_then_rollback_restores_the_bytes(
    tmp_path_factory, before, after, eol, final_eol, junk
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    lines = [*before, JOB, *after]
    junk_line = b"# " + junk.replace(b"\n", b"").replace(b"\r", b"")  # maybe not UTF-8
    data = eol.join(lines).encode() + eol.encode() + junk_line + (eol.encode() if final_eol else b"")
    crontab = tmp / "jobs.cron"
    crontab.write_bytes(data)
    jobs = migrate(crontab, PlanOptions(now=NOW), _options(tmp, lines=[len(before) + 1])).jobs
    changed = crontab.read_bytes()
    assert changed != data and changed.count(MARKER.encode()) == 1
    assert Path(jobs[0].py_path).exists()
    result = rollback(crontab)
    assert result.exact and crontab.read_bytes() == data
    assert not Path(jobs[0].py_path).exists() and not (tmp / "jobs.cron.luigi-fargate.json").exists()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_plan_never_crashes_and_reports_every_line(text: str) -> None:
    planned = plan_crontab(text, PlanOptions(now=NOW))
    # Cron's lines: only "\n" ends one (form feed, lone CR, U+2028 and NEL don't).
    assert len(planned) == text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    for p in planned:
        if p.status in ("malformed", "not-migratable", "not-luigi"):
            assert p.reasons


def test_steps_roll_back_one_at_a_time_and_edits_survive(tmp_path: Path) -> None:
    original = f"MAILTO=ops@example.com\n{JOB}\n{SNAP}\n"
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(original)
    migrate(crontab, PlanOptions(now=NOW), _options(tmp_path, select=["cronjobs_reconcile"]))
    after_first = crontab.read_bytes()
    migrate(crontab, PlanOptions(now=NOW), _options(tmp_path, lines=[3]))
    assert crontab.read_text().count(MARKER) == 2
    assert sorted(p.name for p in (tmp_path / "dags").iterdir()) == [
        "cronjobs_reconcile.json", "cronjobs_reconcile.py", "cronjobs_snapshot.json", "cronjobs_snapshot.py"]  # fmt: skip
    assert rollback(crontab).restored_lines == [3] and crontab.read_bytes() == after_first
    # The team edits the crontab after migrating: rollback puts the job back and keeps the edit.
    crontab.write_text("# new job below\n" + crontab.read_text() + "0 9 * * * /usr/bin/report\n")
    result = rollback(crontab)
    assert not result.exact
    assert crontab.read_text() == f"# new job below\n{original}0 9 * * * /usr/bin/report\n"
    with pytest.raises(UserError, match="no migration to roll back"):
        rollback(crontab)


def test_a_failing_job_means_nothing_is_written(tmp_path: Path) -> None:
    text = f"{JOB}\n0 1 * * * luigi --module no_such_module Task --date $(date +\\%F)\n"
    text += "0 0 * * * luigi --module cronjobs Derived --day $(date +\\%Y\\%m\\%d)\n"
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(text)
    with pytest.raises(UserError) as info:
        migrate(crontab, PlanOptions(now=NOW), _options(tmp_path, lines=[1, 2, 3]))
    assert "--line 2: can't be migrated (not-migratable: module 'no_such_module' not found" in info.value.message
    # a string day its upstream copies
    assert "--line 3: can't be migrated (not-migratable: upstream task Snapshot takes stamp=" in info.value.message
    assert crontab.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.cron"]


def test_unwritable_out_dir_leaves_everything_as_it_was(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(JOB + "\n")
    (tmp_path / "afile").write_text("")
    with pytest.raises(UserError, match="nothing was changed"):
        migrate(crontab, PlanOptions(now=NOW), MigrateOptions(out_dir=tmp_path / "afile" / "dags", lines=[1]))
    assert crontab.read_text() == JOB + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "jobs.cron"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"lines": [9]}, "the crontab has 2 lines"), ({"lines": [1]}, "can't be migrated (env"),
     ({"select": ["nomatch*"]}, "matches no migratable job"), ({}, "nothing selected")],
)  # fmt: skip
def test_selection_errors_are_one_line(tmp_path: Path, kw: dict, message: str) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text("CRON_TZ=UTC\n" + JOB + "\n")
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        migrate(crontab, PlanOptions(now=NOW), _options(tmp_path, **kw))


def test_cutover_line_runs_through_the_runner_from_real_cron_shell(tmp_path: Path) -> None:
    """--cutover keeps the job in cron via `luigi-fargate run`; /bin/sh runs it as cron would."""
    data = tmp_path / "data"
    text = f"CRON_DATA={data}\nTZ=UTC\n{JOB}\n"
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(text)
    env = base_env(PYTHONPATH=str(HERE))
    proc = luigi_fargate("crontab", "migrate", str(crontab), "--line", "3", "--cutover", "--out", str(tmp_path / "dags"),
                         "--runner-lock", f"file://{tmp_path / 'locks'}", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    line = crontab.read_text().splitlines()[2]
    assert line.startswith("15 18 * * * cd /tmp && ") and f"{BIN}/luigi-fargate run --allow-any" in line
    assert '--date "$(date +\\%F)"' in line
    # Cron's own treatment: % rules, then /bin/sh -c with the crontab's environment.
    command, stdin = split_percent(line.split(None, 5)[5])
    assert stdin is None
    today = dt.datetime.now(dt.UTC).date()
    (data).mkdir()
    (data / f"extract-{today - dt.timedelta(days=1)}.txt").write_text("x\n")
    run = subprocess.run(
        ["/bin/sh", "-c", command],
        env={**env, "CRON_DATA": str(data), "TZ": "UTC"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert (data / f"reconcile-{today}.txt").read_text().startswith(f"{today} cwd=/tmp")
    # The rewritten line is still recognized, and rollback restores the original bytes.
    planned = plan_crontab(crontab.read_text(), PlanOptions())
    assert planned[2].status == "migrate" and planned[2].family == "Reconcile"
    back = luigi_fargate("crontab", "rollback", str(crontab), env=env)
    assert back.returncode == 0, back.stderr
    assert "byte for byte" in back.stdout and crontab.read_text() == text
    state_files = list(tmp_path.glob("*.luigi-fargate.json"))
    assert state_files == []


def test_state_file_records_what_was_done(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(JOB + "\n")
    migrate(crontab, PlanOptions(now=NOW), _options(tmp_path, lines=[1]))
    state = json.loads((tmp_path / "jobs.cron.luigi-fargate.json").read_text())
    step = state["steps"][0]
    assert step["lines"] == {"1": {"before": JOB, "after": f"{MARKER} dag=cronjobs_reconcile {JOB}"}}
    assert state["crontab"] == str(crontab) and Path(step["backup"]).is_absolute()
    assert Path(step["backup"]).read_text() == JOB + "\n"
    (dag,) = step["dags"]
    assert dag["dag_id"] == "cronjobs_reconcile" and dag["previous"] == {}
    for path, digest in dag["files"].items():  # absolute paths, and the hash of what was written
        assert Path(path).is_absolute() and hashlib.sha256(Path(path).read_bytes()).hexdigest() == digest
    spec = json.loads((tmp_path / "dags" / "cronjobs_reconcile.json").read_text())
    assert spec["schedule"] == {"cron": "15 18 * * *", "timezone": "UTC"} and spec["runner"]["cwd"] == "/tmp"


def test_cutover_then_final_migrate_then_rollbacks(tmp_path: Path) -> None:
    """The documented sequence: cutover, then comment out; each rollback steps back one stage."""
    original = f"CRON_TZ=UTC\n{JOB}\n"
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(original)
    migrate(
        crontab,
        PlanOptions(now=NOW),
        _options(tmp_path, lines=[2], cutover=True, runner_lock="luigid://127.0.0.1:8082"),
    )
    cutover = crontab.read_text()
    assert "luigi-fargate run --allow-any --lock luigid://127.0.0.1:8082 cronjobs Reconcile" in cutover
    spec = json.loads((tmp_path / "dags" / "cronjobs_reconcile.json").read_text())
    assert spec["env"]["LUIGI_FARGATE_LOCK"] == "luigid://127.0.0.1:8082"
    planned = plan_crontab(cutover, PlanOptions())[1]
    assert planned.status == "migrate" and any("--cutover line" in c for c in planned.changes)

    migrate(crontab, PlanOptions(now=NOW), _options(tmp_path, lines=[2]))
    assert crontab.read_text().startswith(
        f"CRON_TZ=UTC\n{MARKER} dag=cronjobs_reconcile 15 18 * * * cd /tmp && "
    )
    rollback(crontab)
    assert crontab.read_text() == cutover and (tmp_path / "dags" / "cronjobs_reconcile.py").exists()
    rollback(crontab)
    assert crontab.read_text() == original and not (tmp_path / "dags" / "cronjobs_reconcile.py").exists()


def test_mailto_becomes_a_failure_notifier_on_every_task(tmp_path, monkeypatch):
    """MAILTO travels as Airflow 3's SmtpNotifier, not the deprecated email_on_failure (given an SMTP connection)."""
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", "smtp://mail.example.com:25")
    monkeypatch.setattr("airflow_bridge.notifiers._known_connections", {})
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from airflow_bridge.dag_builder import build_dag
    from luigi_fargate.atomic_file import write_atomically
    from luigi_fargate.spec import DagDefaults, PipelineSpec, TaskNode

    spec = PipelineSpec(
        dag_id="mailed", root="A", defaults=DagDefaults(email=["ops@example.com"]),
        tasks=[TaskNode(id="A", task_id="A_1", module="m", family="A")],
    )  # fmt: skip
    write_atomically(tmp_path / "mailed.json", spec.to_json())
    task = build_dag(tmp_path / "mailed.json").get_task("A")
    (notifier,) = [cb for cb in task.on_failure_callback if isinstance(cb, SmtpNotifier)]
    assert notifier.to == ["ops@example.com"]
    assert not task.email_on_failure or not task.email
