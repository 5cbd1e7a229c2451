"""`crontab rollback` and `crontab status`: from any directory, three-way, hash-checked, never half."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from luigi_fargate.crontab.migrate import MigrateOptions, migrate
from luigi_fargate.crontab.plan import MARKER, PlanOptions
from luigi_fargate.crontab.rollback import rollback
from luigi_fargate.crontab.status import crontab_status
from luigi_fargate.errors import UserError
from tests.conftest import base_env, luigi_fargate
from tests.crontab.conftest import HERE

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
RECONCILE = "15 18 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)"
SNAPSHOT = "30 2 * * * luigi --module cronjobs Snapshot --stamp $(date +\\%Y\\%m\\%d)"
TEXT = f"MAILTO=ops@example.com\n{RECONCILE}\n# keep\n{SNAPSHOT}\n"


def _migrate(crontab: Path, lines: list[int], **kw) -> None:
    migrate(crontab, PlanOptions(now=NOW), MigrateOptions(out_dir=crontab.parent / "dags", lines=lines, **kw))


def _everything(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_edited_crontab_gets_the_migrated_lines_back_when_they_are_unchanged(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(TEXT)
    _migrate(crontab, [2, 4])
    crontab.write_text("# added on top\n" + crontab.read_text().replace("# keep", "# kept, edited") + "0 9 * * * /bin/true\n")
    result = rollback(crontab)
    assert not result.exact and result.restored_lines == [2, 4]
    assert crontab.read_text() == "# added on top\n" + TEXT.replace("# keep", "# kept, edited") + "0 9 * * * /bin/true\n"
    assert not list((tmp_path / "dags").iterdir())


def test_an_edited_migrated_line_refuses_the_whole_rollback_and_prints_what_to_restore(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(TEXT)
    _migrate(crontab, [2, 4])
    edited = crontab.read_text().replace(f"{MARKER} dag=cronjobs_snapshot", "# someone's note")
    crontab.write_text(edited)
    before = _everything(tmp_path)
    proc = luigi_fargate("crontab", "rollback", str(crontab), env=base_env(PYTHONPATH=str(HERE)))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "1 line(s) migrate wrote were edited or removed since; nothing was changed" in proc.stderr
    assert f"(was line 4) {SNAPSHOT}" in proc.stderr
    assert _everything(tmp_path) == before  # not the other line, not the DAGs, not the state


def test_rollback_works_from_any_directory(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "jobs.cron").write_text(TEXT)
    env = base_env(PYTHONPATH=str(HERE))
    proc = luigi_fargate("crontab", "migrate", "jobs.cron", "--line", "2", "--out", "dags", cwd=tmp_path / "a", env=env)
    assert proc.returncode == 0, proc.stderr
    state = json.loads((tmp_path / "a" / "jobs.cron.luigi-fargate.json").read_text())
    assert all(Path(f).is_absolute() for f in state["steps"][0]["dags"][0]["files"])
    back = luigi_fargate("crontab", "rollback", "../a/jobs.cron", cwd=tmp_path / "b", env=env)
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "a" / "jobs.cron").read_text() == TEXT and not list((tmp_path / "a" / "dags").iterdir())


def test_a_dag_changed_since_migrate_is_left_and_named(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(TEXT)
    _migrate(crontab, [2, 4])
    changed = tmp_path / "dags" / "cronjobs_snapshot.json"
    changed.write_text(changed.read_text().replace('"luigi-fargate"', '"luigi-fargate", "re-exported"'))
    result = rollback(crontab)
    assert crontab.read_text() == TEXT
    assert sorted(Path(f).name for f in result.removed_dags) == ["cronjobs_reconcile.json", "cronjobs_reconcile.py"]
    assert sorted(p.name for p in (tmp_path / "dags").iterdir()) == ["cronjobs_snapshot.json", "cronjobs_snapshot.py"]
    assert any("cronjobs_snapshot.json: changed since migrate wrote it" in f for f in result.left_dags)
    assert any("cronjobs_snapshot.py: kept with the rest of its DAG" in f for f in result.left_dags)


def test_cutover_then_final_migrate_rollback_puts_the_cutover_dag_back(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(TEXT)
    _migrate(crontab, [2], cutover=True, runner_lock="luigid://127.0.0.1:8082")
    cutover_spec = (tmp_path / "dags" / "cronjobs_reconcile.json").read_bytes()
    assert [j.runs_in for j in crontab_status(crontab).jobs] == ["cron+airflow (cutover)", "cron"]
    _migrate(crontab, [2])  # final: no lock in the DAG's environment any more
    assert (tmp_path / "dags" / "cronjobs_reconcile.json").read_bytes() != cutover_spec
    status = crontab_status(crontab)
    assert [(j.runs_in, [f.verdict for f in j.files]) for j in status.jobs] == [
        ("airflow", ["matches", "matches"]), ("cron", [])]  # fmt: skip
    rollback(crontab)
    assert (tmp_path / "dags" / "cronjobs_reconcile.json").read_bytes() == cutover_spec
    rollback(crontab)
    assert crontab.read_text() == TEXT and not list((tmp_path / "dags").iterdir())


def test_status_reports_changed_and_missing_dag_files(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(TEXT)
    _migrate(crontab, [2, 4])
    (tmp_path / "dags" / "cronjobs_reconcile.py").unlink()
    (tmp_path / "dags" / "cronjobs_snapshot.json").write_text("{}")
    env = base_env(PYTHONPATH=str(HERE))
    proc = luigi_fargate("crontab", "status", str(crontab), "--format", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    jobs = {j["line"]: j for j in json.loads(proc.stdout)["jobs"]}
    assert jobs[2]["runs_in"] == "nowhere" and "missing" in jobs[2]["problem"]
    assert jobs[4]["runs_in"] == "airflow" and jobs[4]["problem"] == "DAG files changed since migrate wrote them"
    table = luigi_fargate("crontab", "status", str(crontab), env=env)
    assert table.returncode == 0 and "cronjobs_snapshot.json: changed" in table.stdout


def test_a_state_of_another_crontab_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a.cron", tmp_path / "b.cron"
    a.write_text(TEXT)
    b.write_text(TEXT)
    _migrate(a, [2])
    with pytest.raises(UserError, match="records migrations of .*a.cron, not .*b.cron"):
        rollback(b, state_path=tmp_path / "a.cron.luigi-fargate.json")


def test_a_version_1_state_still_rolls_back_and_leaves_unchecksummed_dags(tmp_path: Path, monkeypatch) -> None:
    """States written before content hashes: paths as given (relative), no hashes; nothing unverified is deleted."""
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(TEXT)
    _migrate(crontab, [2])
    v2 = json.loads((tmp_path / "jobs.cron.luigi-fargate.json").read_text())
    step = v2["steps"][0]
    (dag,) = step["dags"]
    json_path, py_path = sorted(dag["files"])
    monkeypatch.chdir(tmp_path)
    v1 = {"version": 1, "crontab": "jobs.cron", "steps": [{
        "at": step["at"], "mode": "comment", "backup": Path(step["backup"]).name,
        "before_sha256": step["before_sha256"], "after_sha256": step["after_sha256"],
        "lines": {"2": step["lines"]["2"]["before"]}, "replaced": {"2": step["lines"]["2"]["after"]},
        "dags": [{"line": 2, "dag_id": dag["dag_id"], "py_path": "dags/cronjobs_reconcile.py",
                  "json_path": "dags/cronjobs_reconcile.json", "findings": []}]}]}  # fmt: skip
    (tmp_path / "jobs.cron.luigi-fargate.json").write_text(json.dumps(v1))
    result = rollback(Path("jobs.cron"))
    assert result.exact and crontab.read_text() == TEXT and result.removed_dags == []
    assert all("no checksum recorded" in f for f in result.left_dags) and Path(json_path).exists() and Path(py_path).exists()
