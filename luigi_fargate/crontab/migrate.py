"""``crontab migrate`` and ``crontab rollback``: move jobs to Airflow a few at a time, and back.

Order of writes, so that a failure leaves either the old state or the new one:
every selected job is exported in memory first (a job that fails stops
everything, nothing written); then the backup of the crontab's exact bytes,
the DAG files, the state file, and last the crontab itself, each replaced
atomically. If a later write fails, the earlier ones are undone.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luigi_fargate.atomic_file import write_atomically
from luigi_fargate.crontab.parse import read_crontab
from luigi_fargate.crontab.plan import MARKER, PlannedLine, PlanOptions, plan_crontab
from luigi_fargate.errors import UserError
from luigi_fargate.spec import DagDefaults, RunnerKind, environment

STATE_VERSION = 1


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


@dataclass
class MigratedJob:
    line: int
    dag_id: str
    py_path: str
    json_path: str
    findings: list[str] = field(default_factory=list)


def state_path_for(crontab: Path, explicit: Path | None = None) -> Path:
    return explicit or crontab.with_name(crontab.name + ".luigi-fargate.json")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Readers see old or new content; a new file (backup, state) is private to its owner."""
    write_atomically(path, data, new_file_mode=0o600)


def select_jobs(planned: list[PlannedLine], lines: list[int], patterns: list[str]) -> list[PlannedLine]:
    """The jobs to migrate: by line number and/or glob; a selected line that can't move is an error."""
    by_number = {p.number: p for p in planned}
    chosen: dict[int, PlannedLine] = {}
    for n in lines:
        p = by_number.get(n)
        if p is None:
            raise UserError(f"--line {n}: the crontab has {len(planned)} lines; pick one from `crontab plan`")
        if p.status != "migrate":
            why = "; ".join(p.reasons) or p.status
            raise UserError(f"--line {n}: can't be migrated ({p.status}: {why}); see `crontab plan`")
        chosen[n] = p
    for pattern in patterns:
        hits = [
            p for p in planned
            if p.status == "migrate" and any(
                fnmatch.fnmatchcase(s, pattern) for s in (p.dag_id or "", f"{p.module}.{p.family}", p.text)
            )
        ]  # fmt: skip
        if not hits:
            raise UserError(f"--select {pattern!r}: matches no migratable job; `crontab plan` lists DAG ids")
        chosen.update((p.number, p) for p in hits)
    if not lines and not patterns:
        raise UserError("nothing selected: pass --line N or --select PATTERN (e.g. --select 'billing_*')")
    return [chosen[n] for n in sorted(chosen)]


def _bindings_and_templates(p: PlannedLine) -> tuple[dict[str, str], dict[str, str]]:
    """Day bindings for real DateParameters (upstream dates follow), raw templates for the rest."""
    import importlib

    import luigi
    from luigi.task_register import Register, TaskClassException

    try:
        importlib.import_module(p.module or "")
        cls = Register.get_task_cls(p.family or "")
    except (ImportError, TaskClassException) as exc:
        raise UserError(
            f"line {p.number}: can't load {p.module}.{p.family} ({exc}); run migrate where the job's code imports"
        ) from None
    params = dict(cls.get_params())
    bindings: dict[str, str] = {}
    templates: dict[str, str] = {}
    for name, template in p.param_templates.items():
        if name not in params:
            raise UserError(f"line {p.number}: {p.family} has no parameter {name!r}; fix the crontab line")
        if name in p.day_bindings and type(params[name]) is luigi.DateParameter:
            bindings[name] = p.day_bindings[name]
        else:
            templates[name] = template
    return bindings, templates


def _export_options(
    p: PlannedLine, options: MigrateOptions, now: dt.datetime
) -> tuple[Any, list[str], dict[str, str]]:
    from luigi_fargate.export.builder import ExportOptions

    bindings, templates = _bindings_and_templates(p)
    defaults = DagDefaults(email=list(p.emails), execution_timeout_seconds=p.timeout_seconds or None)
    env = dict(p.env)
    if options.runner_lock:  # the DAG's runner takes the same lock as the cron line
        env[environment.LOCK] = options.runner_lock
    import zoneinfo

    start = options.start_date or now.astimezone(zoneinfo.ZoneInfo(p.timezone or "UTC")).date().isoformat()
    export_options = ExportOptions(
        dag_id=p.dag_id, schedule=p.cron, timezone=p.timezone or "UTC", bindings=bindings, runner=RunnerKind(options.runner), cwd=p.cwd,
        start_date=start, catchup=False, defaults=defaults, tags=["crontab"], env=env,
        root_templates=templates,
    )  # fmt: skip
    samples = dict(zip(p.sample_args[::2], p.sample_args[1::2], strict=False))
    return (
        export_options,
        list(p.sample_args),
        {n: samples[f"--{n.replace('_', '-')}"] for n in templates if f"--{n.replace('_', '-')}" in samples},
    )


def migrate(crontab: Path, plan_options: PlanOptions, options: MigrateOptions) -> list[MigratedJob]:
    from luigi_fargate.export.api import plan_export
    from luigi_fargate.export.writer import write_spec_files

    data, text = read_crontab(crontab)
    now = plan_options.now or dt.datetime.now(dt.UTC)
    planned = plan_crontab(text, plan_options)
    chosen = select_jobs(planned, options.lines, options.select)

    # 1. Export everything in memory; any failure stops before a byte is written.
    exports = []
    failures: list[str] = []
    for p in chosen:
        try:
            export_options, args, fixed_samples = _export_options(p, options, now)
            plan = plan_export(p.module or "", p.family or "", args, export_options)
            _check_upstream_follow(p, plan, fixed_samples)
            exports.append((p, plan))
        except UserError as exc:
            failures.append(
                exc.message if exc.message.startswith("line ") else f"line {p.number}: {exc.message}"
            )
    if failures:
        raise UserError("; ".join(failures) + " (nothing was written)")

    # 2. The new crontab text.
    replaced = {p.number: _replacement(p, options) for p, _ in exports}
    new_text = rewrite_lines(text, replaced)
    new_data = new_text.encode("utf-8", errors="surrogateescape")

    # 3. Backup, state, DAGs, crontab, undoing on failure.
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    backup = crontab.with_name(f"{crontab.name}.luigi-fargate-backup-{stamp}")
    n = 1
    while backup.exists():  # never overwrite an earlier backup (two migrates in one second)
        n += 1
        backup = crontab.with_name(f"{crontab.name}.luigi-fargate-backup-{stamp}-{n}")
    state_path = state_path_for(crontab, options.state_path)
    state = load_state(state_path, crontab)
    old_state = state_path.read_text(encoding="utf-8") if state_path.exists() else None
    state_written = False
    written: list[Path] = []
    jobs: list[MigratedJob] = []
    try:
        write_bytes_atomically(backup, data)
        written.append(backup)
        for p, plan in exports:
            json_path, py_path = write_spec_files(plan.spec, options.out_dir)
            written += [py_path, json_path]
            jobs.append(
                MigratedJob(
                    p.number, plan.spec.dag_id, str(py_path), str(json_path), [str(f) for f in plan.findings]
                )
            )
        state["steps"].append({
            "at": now.isoformat(), "mode": "cutover" if options.cutover else "comment",
            "backup": str(backup), "before_sha256": sha256(data), "after_sha256": sha256(new_data),
            "lines": {str(p.number): p.text for p, _ in exports},
            "replaced": {str(n): t for n, t in replaced.items()},
            "dags": [j.__dict__ for j in jobs],
        })  # fmt: skip
        _write_state(state_path, state)
        state_written = True
        write_bytes_atomically(crontab, new_data)
    except (OSError, UserError) as exc:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        if state_written:
            if old_state is None:
                state_path.unlink(missing_ok=True)
            else:
                _write_state_text(state_path, old_state)
        why = exc.message if isinstance(exc, UserError) else f"{exc.strerror}: {exc.filename}"
        raise UserError(f"{crontab}: can't write ({why}); nothing was changed") from None
    return jobs


def _check_upstream_follow(p: PlannedLine, plan: Any, fixed_samples: dict[str, str]) -> None:
    """A templated non-date parameter doesn't move the upstream tasks derived from it: refuse."""
    root_id = plan.spec.root
    for node in plan.spec.tasks:
        if node.id == root_id:
            continue
        for name, sample in fixed_samples.items():
            if sample and sample in (param.value for param in node.params):
                raise UserError(
                    f"line {p.number}: upstream task {node.task_id} takes --{name}'s value {sample!r}, which would stay "
                    f"fixed in Airflow; make {name} a luigi.DateParameter (then it follows the run date) or keep the job in cron"
                )


def _replacement(p: PlannedLine, options: MigrateOptions) -> str:
    if options.cutover:
        return runner_line(p, options)
    return f"{MARKER} dag={p.dag_id} {p.text}"


def runner_line(p: PlannedLine, options: MigrateOptions) -> str:
    """The job, run through ``luigi-fargate run`` so cron and Airflow share the lock and completion check."""
    inv = p.invocation
    assert inv is not None
    exe = (
        options.runner_command
        or shutil.which("luigi-fargate")
        or str(Path(sys.executable).with_name("luigi-fargate"))
    )
    runner_opts = ["--allow-any"] + (["--lock", options.runner_lock] if options.runner_lock else [])
    words = [shlex.quote(exe), "run", *runner_opts, shlex.quote(inv.module), shlex.quote(inv.family)]
    for word in inv.params:
        pieces = re.split(r"(__LFSUB\d+__)", word)
        if len(pieces) == 1:
            words.append(shlex.quote(word))
        else:
            quoted = "".join(inv.substitutions.get(x) or re.sub(r'(["\\$`])', r"\\\1", x) for x in pieces)
            words.append(f'"{quoted}"')
    env = [f"{k}={shlex.quote(v)}" for k, v in inv.env.items()]
    command = " ".join(env + words) + inv.redirects
    if inv.cwd:
        command = f"cd {shlex.quote(inv.cwd)} && {command}"
    indent = p.text[: len(p.text) - len(p.text.lstrip())]
    return f"{indent}{p.head} {command.replace('%', chr(92) + '%')}"


def rewrite_lines(text: str, replacements: dict[int, str]) -> str:
    """``text`` with whole lines replaced by number, every line ending kept as it was."""
    out = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if number in replacements:
            body = line.rstrip("\r\n")
            line = replacements[number] + line[len(body) :]
        out.append(line)
    return "".join(out)


def load_state(path: Path, crontab: Path) -> dict[str, Any]:
    if not path.exists():
        return {"version": STATE_VERSION, "crontab": str(crontab), "steps": []}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"{path}: unreadable migration state ({exc}); restore it from the backup next to the crontab"
        ) from None
    if (
        not isinstance(state, dict)
        or state.get("version") != STATE_VERSION
        or not isinstance(state.get("steps"), list)
    ):
        raise UserError(
            f"{path}: not a luigi-fargate migration state (version {STATE_VERSION}); check --state"
        )
    return state


def _write_state(path: Path, state: dict[str, Any]) -> None:
    _write_state_text(path, json.dumps(state, indent=1) + "\n")


def _write_state_text(path: Path, text: str) -> None:
    write_atomically(path, text)


@dataclass
class RollbackResult:
    steps: int
    exact: bool  # restored from the backup byte for byte (no edits since migrate)
    removed_dags: list[str]
    restored_lines: list[int]


def rollback(
    crontab: Path, *, state_path: Path | None = None, all_steps: bool = False, keep_dags: bool = False
) -> RollbackResult:
    """Undo the last migrate (or all of them): the crontab's bytes come back, the DAG files go."""
    path = state_path_for(crontab, state_path)
    if not path.exists():
        raise UserError(
            f"{crontab}: no migration to roll back ({path} not found); pass --state if it lives elsewhere"
        )
    state = load_state(path, crontab)
    if not state["steps"]:
        raise UserError(f"{path}: no migration steps left to roll back")
    data, text = read_crontab(crontab)
    steps = list(reversed(state["steps"])) if all_steps else [state["steps"][-1]]
    exact = True
    restored: list[int] = []
    for step in steps:
        if sha256(data) == step["after_sha256"]:
            backup = Path(step["backup"])
            try:
                before = backup.read_bytes()
            except OSError as exc:
                raise UserError(
                    f"{backup}: can't read the backup ({exc.strerror}); nothing was changed"
                ) from None
            if sha256(before) != step["before_sha256"]:
                raise UserError(f"{backup}: the backup was modified since migrate; nothing was changed")
            data = before
        else:  # edited since migrate: put the migrated lines back, keep the other edits
            exact = False
            data = _undo_lines(data, step).encode("utf-8", errors="surrogateescape")
        restored += [int(n) for n in step["lines"]]
    write_bytes_atomically(crontab, data)
    removed: list[str] = []
    remaining = state["steps"][: len(state["steps"]) - len(steps)]
    # A DAG an earlier step still stands for (a --cutover job migrated again) stays.
    still_used = {f for step in remaining for dag in step["dags"] for f in (dag["py_path"], dag["json_path"])}
    if not keep_dags:
        for step in steps:
            for dag in step["dags"]:
                for f in (dag["py_path"], dag["json_path"]):
                    if f not in still_used and Path(f).exists():
                        Path(f).unlink()
                        removed.append(f)
    state["steps"] = remaining
    if state["steps"]:
        _write_state(path, state)
    else:
        path.unlink()
    return RollbackResult(len(steps), exact, removed, sorted(restored))


def _undo_lines(data: bytes, step: dict[str, Any]) -> str:
    """Put back each line migrate replaced, wherever it is now; other edits stay."""
    text = data.decode("utf-8", errors="surrogateescape")
    back = {step["replaced"][n]: step["lines"][n] for n in step["lines"]}
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if body in back:
            line = back.pop(body) + line[len(body) :]
        out.append(line)
    return "".join(out)
