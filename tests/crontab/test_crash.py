"""Kill a real `crontab migrate` / `rollback` at every write step, with SIGKILL, SIGTERM and SIGINT.

The process sends itself the signal just before write step K (the journal's
test hook, LUIGI_FARGATE_CRONTAB_CRASH_AT). Invariants: at the moment of the
kill no job is in cron and in Airflow at once; after the next command
(`status`, `rollback` or `migrate`, in turn) each job runs in exactly one
place: its cron line is active, or its line is marked migrated and its DAG
pair is there with the hashes the state recorded; no journal or temporary
file is left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import signal
from pathlib import Path

import pytest

from luigi_fargate.crontab.journal import CRASH_ENV
from luigi_fargate.crontab.migrate import MigrateOptions, migrate
from luigi_fargate.crontab.plan import MARKER, PlanOptions
from tests.conftest import base_env, luigi_fargate
from tests.crontab.conftest import HERE

JOBS = {
    "cronjobs_reconcile": "15 18 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)",
    "cronjobs_snapshot": "30 2 * * * luigi --module cronjobs Snapshot --stamp $(date +\\%Y\\%m\\%d)",
}
TEXT = "MAILTO=ops@example.com\n" + "\n# between\n".join(JOBS.values()) + "\n"
LINES = ["2", "4"]
#: migrate: journal, backup, 2 specs, state, crontab, 2 stubs, journal removal.
MIGRATE_STEPS = 9
#: rollback: journal, 2 stubs, crontab, 2 specs, state, journal removal.
ROLLBACK_STEPS = 8
SIGNALS = [signal.SIGKILL, signal.SIGTERM, signal.SIGINT]
NEXT = ["status", "rollback", "migrate"]


def _where(tmp: Path) -> dict[str, tuple[bool, bool, bool]]:
    """Per job: (cron line active, line marked migrated, DAG .py stub present)."""
    lines = (tmp / "jobs.cron").read_text().split("\n")
    return {
        dag: (line in lines, f"{MARKER} dag={dag} {line}" in lines, (tmp / "dags" / f"{dag}.py").exists())
        for dag, line in JOBS.items()
    }


def _never_both(tmp: Path) -> None:
    for dag, (cron, _, stub) in _where(tmp).items():
        assert not (cron and stub), f"{dag} is in cron and in Airflow at once"


def _exactly_one_place(tmp: Path) -> None:
    state_path = tmp / "jobs.cron.luigi-fargate.json"
    recorded: dict[str, str] = {}
    if state_path.exists():
        for step in json.loads(state_path.read_text())["steps"]:
            for dag in step["dags"]:
                recorded.update(dag["files"])
    for dag, (cron, marked, _) in _where(tmp).items():
        files = [tmp / "dags" / f"{dag}.json", tmp / "dags" / f"{dag}.py"]
        if cron:
            assert not marked and not any(f.exists() for f in files), f"{dag}: in cron, but DAG files left"
        else:
            assert marked, f"{dag}: neither in cron nor marked migrated"
            for f in files:
                assert f.exists() and hashlib.sha256(f.read_bytes()).hexdigest() == recorded[str(f)], f
    assert not (tmp / "jobs.cron.luigi-fargate.json.journal").exists()
    assert not [p for p in tmp.rglob(".*.tmp")], "temporary files left"


def _env(**extra: str) -> dict[str, str]:
    return base_env(PYTHONPATH=str(HERE), **extra)


def _migrate_args() -> list[str]:
    return ["crontab", "migrate", "jobs.cron", "--line", LINES[0], "--line", LINES[1], "--out", "dags",
            "--start-date", "2026-06-01"]  # fmt: skip


def _next_command(tmp: Path, which: str) -> None:
    args = {"status": ["crontab", "status", "jobs.cron"], "rollback": ["crontab", "rollback", "jobs.cron"],
            "migrate": _migrate_args()}[which]  # fmt: skip
    proc = luigi_fargate(*args, cwd=tmp, env=_env())
    assert "Traceback" not in proc.stderr, proc.stderr
    if proc.returncode != 0:  # e.g. nothing left to roll back, or the lines already migrated
        assert proc.returncode == 2 and proc.stderr.startswith("luigi-fargate: "), proc.stderr


def _check_exit(proc, sig: signal.Signals) -> None:
    expected = -signal.SIGKILL if sig == signal.SIGKILL else 128 + sig
    assert proc.returncode == expected, (proc.returncode, proc.stderr)
    if sig != signal.SIGKILL:  # held signals: the group was undone or finished, no journal left
        assert f"interrupted by {sig.name}" in proc.stderr


@pytest.mark.parametrize("step", range(MIGRATE_STEPS))
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_migrate_killed_at_every_write_step(tmp_path: Path, sig: signal.Signals, step: int) -> None:
    (tmp_path / "jobs.cron").write_text(TEXT)
    proc = luigi_fargate(*_migrate_args(), cwd=tmp_path, env=_env(**{CRASH_ENV: f"{step}:{sig.name}"}))
    _check_exit(proc, sig)
    _never_both(tmp_path)
    if sig != signal.SIGKILL:
        _exactly_one_place(tmp_path)  # already whole: SIGTERM/SIGINT are held during the writes
    _next_command(tmp_path, NEXT[step % 3])
    _exactly_one_place(tmp_path)


@pytest.mark.parametrize("step", range(ROLLBACK_STEPS))
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_rollback_killed_at_every_write_step(tmp_path: Path, sig: signal.Signals, step: int) -> None:
    (tmp_path / "jobs.cron").write_text(TEXT)
    now = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
    migrate(tmp_path / "jobs.cron", PlanOptions(now=now), MigrateOptions(out_dir=tmp_path / "dags", lines=[2, 4]))
    proc = luigi_fargate("crontab", "rollback", "jobs.cron", cwd=tmp_path, env=_env(**{CRASH_ENV: f"{step}:{sig.name}"}))
    _check_exit(proc, sig)
    _never_both(tmp_path)
    _next_command(tmp_path, NEXT[step % 3])
    _exactly_one_place(tmp_path)
    if sig == signal.SIGKILL and step > 0 and NEXT[step % 3] != "migrate":
        assert (tmp_path / "jobs.cron").read_text() == TEXT  # a journaled rollback cut short is finished
