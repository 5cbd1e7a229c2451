"""``crontab migrate``: move selected jobs to Airflow, all or nothing, crash-safe.

Every selected line goes through the same decision as ``crontab plan``
(:mod:`luigi_fargate.crontab.decide`): its export is made in memory and checked
first; if any selected line is refused, nothing is written. Then one journaled
group of writes (:mod:`luigi_fargate.crontab.journal`), in this order:
the backup of the crontab's exact bytes, each DAG's spec (``.json``, which
Airflow ignores on its own), the state, the crontab (the point of no return),
and each DAG's ``.py`` stub (what Airflow discovers). A job is never in cron
and Airflow at once, except by design through ``--cutover``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from luigi_fargate.crontab.cutover import (
    check_lock_url,
    check_runner_command,
    default_runner_command,
    runner_line,
)
from luigi_fargate.crontab.decide import VERIFY_FIRES, DagFolder, Decided, ExportSettings, decide_line
from luigi_fargate.crontab.journal import Write, exclusive, recover, run_group
from luigi_fargate.crontab.parse import read_crontab
from luigi_fargate.crontab.plan import MARKER, PlannedLine, PlanOptions, Status, plan_crontab
from luigi_fargate.crontab.state import StatePaths, absolute, b64, load_state, sha256, state_bytes
from luigi_fargate.errors import UserError


@dataclass
class MigrateOptions:
    out_dir: Path
    lines: list[int] = field(default_factory=list)
    select: list[str] = field(default_factory=list)  # globs on DAG id, MODULE.Family or the line
    cutover: bool = False  # keep the line in cron, run through `luigi-fargate run` (shared lock)
    runner: str = "local"
    runner_command: str | None = None  # absolute path of luigi-fargate for cron lines
    runner_lock: str | None = None  # --lock URL for cron lines (must be the one the DAG's runner uses)
    state_path: Path | None = None
    start_date: str | None = None  # DAG start date (default: the migration day in the job's zone)
    verify_fires: int = VERIFY_FIRES  # fire times, the first included, that verify checks (0: none)


@dataclass
class MigratedJob:
    line: int
    dag_id: str
    py_path: str
    json_path: str
    findings: list[str] = field(default_factory=list)


@dataclass
class MigrateResult:
    jobs: list[MigratedJob]
    recovered: str | None = None  # what an interrupted earlier command left, and how it was resolved


def select_lines(planned: list[PlannedLine], lines: list[int], patterns: list[str]) -> list[PlannedLine]:
    """The lines to migrate: by number and/or glob; a selected line the static plan refuses is an error."""
    if not lines and not patterns:
        raise UserError("nothing selected: pass --line N or --select PATTERN (e.g. --select 'billing_*')")
    by_number = {p.number: p for p in planned}
    chosen: dict[int, PlannedLine] = {}
    for n in lines:
        p = by_number.get(n)
        if p is None:
            raise UserError(f"--line {n}: the crontab has {len(planned)} lines; pick one from `crontab plan`")
        chosen[n] = p
    for pattern in patterns:
        hits = [
            p for p in planned
            if p.status == Status.MIGRATE and any(
                fnmatch.fnmatchcase(s, pattern) for s in (p.dag_id or "", f"{p.module}.{p.family}", p.text)
            )
        ]  # fmt: skip
        if not hits:
            raise UserError(f"--select {pattern!r}: matches no migratable job; `crontab plan` lists DAG ids")
        chosen.update((p.number, p) for p in hits)
    return [chosen[n] for n in sorted(chosen)]


def refusal(p: PlannedLine, by_number: bool) -> str:
    """The one-line message for a selected line that can't move (the plan's reasons, redacted)."""
    why = "; ".join(p.reasons) or str(p.status)
    where = f"--line {p.number}" if by_number else f"line {p.number}"
    return f"{where}: can't be migrated ({p.status}: {why}); see `crontab plan`"


def _decide_selected(chosen: list[PlannedLine], settings: ExportSettings, folder: DagFolder,
                     by_number: set[int]) -> list[Decided]:  # fmt: skip
    decided, failures = [], []
    for p in chosen:
        export = decide_line(p, settings, folder) if p.status == Status.MIGRATE else None
        if export is None:
            failures.append(refusal(p, p.number in by_number))
        else:
            decided.append(Decided(p, export))
    if failures:
        raise UserError("; ".join(failures) + " (nothing was written)")
    return decided


def migrate(crontab: Path, plan_options: PlanOptions, options: MigrateOptions) -> MigrateResult:
    paths = StatePaths.for_crontab(crontab, options.state_path)
    runner_command = check_runner_command(options.runner_command or default_runner_command())
    if options.runner_lock:
        check_lock_url(options.runner_lock)
    now = plan_options.now or dt.datetime.now(dt.UTC)
    with exclusive(paths):
        recovered = recover(paths)
        data, text = read_crontab(paths.crontab)
        state = load_state(paths)
        out = absolute(options.out_dir)
        settings = ExportSettings(options.runner, options.runner_lock, options.start_date, now, options.verify_fires)
        planned = plan_crontab(text, plan_options)
        chosen = select_lines(planned, options.lines, options.select)
        decided = _decide_selected(chosen, settings, DagFolder(out, state), set(options.lines))
        replaced = {
            d.line.number: runner_line(d.line, runner_command, options.runner_lock)
            if options.cutover else f"{MARKER} dag={d.line.dag_id} {d.line.text}"
            for d in decided
        }  # fmt: skip
        new_data = rewrite_lines(text, replaced).encode("utf-8", errors="surrogateescape")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--out {str(out)!r}: can't create it ({exc.strerror}); choose a writable directory (nothing was changed)") from None
        jobs, writes, commit = _writes(paths, state, decided, replaced, data, new_data, out, now, options.cutover)
        lines = ", ".join(str(d.line.number) for d in decided)
        try:
            run_group(paths, "migrate", writes, commit, f"migrate of line(s) {lines}")
        except OSError as exc:
            raise UserError(f"{paths.crontab}: can't write ({exc.strerror}: {exc.filename}); nothing was changed") from None
    return MigrateResult(jobs, recovered)


def _writes(paths: StatePaths, state: dict, decided: list[Decided], replaced: dict[int, str], data: bytes,
            new_data: bytes, out: Path, now: dt.datetime, cutover: bool) -> tuple[list[MigratedJob], list[Write], int]:  # fmt: skip
    """The group of writes, in crash-safe order, and the index of the crontab write."""
    from luigi_fargate.export.writer import DAG_STUB

    backup = _backup_path(paths.crontab, now)
    specs, stubs, jobs, dags = [], [], [], []
    for d in decided:
        spec = d.export.spec
        json_path, py_path = out / f"{spec.dag_id}.json", out / f"{spec.dag_id}.py"
        json_bytes, py_bytes = spec.to_json().encode("utf-8"), DAG_STUB.format(dag_id=spec.dag_id).encode("utf-8")
        specs.append(Write(json_path, json_bytes))
        stubs.append(Write(py_path, py_bytes))
        previous = {str(f): b64(f.read_bytes()) for f in (json_path, py_path) if f.exists()}
        dags.append({"line": d.line.number, "dag_id": spec.dag_id, "previous": previous,
                     "files": {str(json_path): sha256(json_bytes), str(py_path): sha256(py_bytes)}})  # fmt: skip
        jobs.append(MigratedJob(d.line.number, spec.dag_id, str(py_path), str(json_path), [str(f) for f in d.export.findings]))
    state["steps"].append({
        "at": now.isoformat(), "mode": "cutover" if cutover else "comment", "backup": str(backup),
        "before_sha256": sha256(data), "after_sha256": sha256(new_data),
        "lines": {str(d.line.number): {"before": d.line.text, "after": replaced[d.line.number]} for d in decided},
        "dags": dags,
    })  # fmt: skip
    writes = [Write(backup, data, 0o600), *specs, Write(paths.state, state_bytes(state), 0o600),
              Write(paths.crontab, new_data, 0o600), *stubs]  # fmt: skip
    return jobs, writes, 2 + len(specs)


def _backup_path(crontab: Path, now: dt.datetime) -> Path:
    """A new file next to the crontab: never overwrite an earlier backup (two migrates in one second)."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    backup = crontab.with_name(f"{crontab.name}.luigi-fargate-backup-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = crontab.with_name(f"{crontab.name}.luigi-fargate-backup-{stamp}-{n}")
    return backup


def rewrite_lines(text: str, replacements: dict[int, str]) -> str:
    """``text`` with whole lines replaced by number (lines as cron counts them), every ending kept."""
    pieces = text.split("\n")
    for index, piece in enumerate(pieces):
        if index + 1 in replacements:
            pieces[index] = replacements[index + 1] + ("\r" if piece.endswith("\r") else "")
    return "\n".join(pieces)
