"""``luigi-fargate crontab plan | migrate | rollback | status``: move crontab jobs to Airflow a few at a time."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from luigi_fargate.cli import checks

#: ``crontab plan --format json``: bump when a field changes meaning (documented in docs/migration-guide.md).
PLAN_FORMAT_VERSION = 1


def _reading_options() -> argparse.ArgumentParser:
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument("crontab", metavar="CRONTAB",
                         help="crontab file (e.g. `crontab -l > my.cron`, or /etc/crontab with --system)")  # fmt: skip
    reading.add_argument("--system", action="store_true", help="system crontab format: a user column after the schedule")
    reading.add_argument("--host-timezone", default="UTC", metavar="ZONE",
                         help="time zone of the machine cron runs on: schedules without CRON_TZ and `date` without TZ use it (default: UTC)")  # fmt: skip
    reading.add_argument("--wrapper", action="append", default=[], metavar="GLOB",
                         help="an in-house script that passes its arguments to luigi, e.g. '*/run-luigi.sh' (repeatable)")  # fmt: skip
    reading.add_argument("--dag-id-prefix", default="", metavar="PREFIX",
                         help="prepended to every DAG id, e.g. 'billing_' when another crontab runs the same tasks")  # fmt: skip
    reading.add_argument("--state", metavar="FILE", help="migration state file (default: CRONTAB.luigi-fargate.json)")
    reading.add_argument("--verify-fires", type=_fire_count, default=None, metavar="N",
                         help="check the DAG against Luigi's graph at the next N fire times of each bound job "
                              "(default: 40; 0 skips it)")  # fmt: skip
    return reading


def _fire_count(text: str) -> int:
    """``--verify-fires N``: a whole number 0..10000 (argparse prints the message, exit 2)."""
    if not text.isdigit() or int(text) > 10_000:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number of fire times from 0 to 10000, e.g. 40")
    return int(text)


def _verify_fires(args: argparse.Namespace) -> int:
    """``--verify-fires``, else the default (kept in crontab.decide, which the parser doesn't import)."""
    from luigi_fargate.crontab.decide import VERIFY_FIRES

    return VERIFY_FIRES if args.verify_fires is None else args.verify_fires


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "crontab", parents=[common], allow_abbrev=False, help="plan, migrate, roll back and check crontab jobs",
        description="Migrate Luigi jobs from a crontab file to Airflow DAGs, a few at a time. See docs/migration-guide.md.",
    )  # fmt: skip
    actions = p.add_subparsers(dest="crontab_action", metavar="ACTION")
    reading = _reading_options()

    plan = actions.add_parser(
        "plan", parents=[common, reading], allow_abbrev=False, help="what would happen to every line",
        description="What migrate would do with every line. Like migrate, plan imports each Luigi job's module and "
        "builds its graph in memory (never calling complete() or run()), so run it where the jobs' code imports; "
        "a line plan calls 'migrate' is one migrate moves.",
    )  # fmt: skip
    plan.add_argument("--format", choices=("table", "json"), default="table",
                      help="table (default) or json: stable fields for reviewing plans in pull requests")  # fmt: skip
    plan.add_argument("--json", action="store_const", const="json", dest="format", help=argparse.SUPPRESS)
    plan.add_argument("--out", metavar="DAGS_DIR",
                      help="also check the DAG ids against the files in this dags folder, as migrate does")  # fmt: skip
    plan.set_defaults(handler=run_plan)

    mig = actions.add_parser("migrate", parents=[common, reading], allow_abbrev=False,
                             help="export selected jobs as DAGs and comment them out of the crontab")  # fmt: skip
    mig.add_argument("--line", action="append", type=int, default=[], metavar="N",
                     help="crontab line to migrate (repeatable)")  # fmt: skip
    mig.add_argument("--select", action="append", default=[], metavar="GLOB",
                     help="DAG id, MODULE.Family or line text glob (repeatable)")  # fmt: skip
    mig.add_argument("--out", required=True, metavar="DAGS_DIR", help="Airflow dags folder to write the DAG files into")
    mig.add_argument("--cutover", action="store_true",
                     help="keep the lines in cron but run them through `luigi-fargate run`, sharing lock and completion checks with Airflow")  # fmt: skip
    mig.add_argument("--runner-command", metavar="PATH",
                     help="absolute path of luigi-fargate for --cutover lines (default: this one)")  # fmt: skip
    mig.add_argument("--runner-lock", metavar="URL",
                     help="lock URL (file://, luigid://, dynamodb://) for --cutover lines and the DAG's runner")  # fmt: skip
    mig.add_argument("--start-date", metavar="YYYY-MM-DD",
                     help="DAG start date: the first day Airflow may run or backfill (default: today in the job's zone)")  # fmt: skip
    mig.set_defaults(handler=run_migrate)

    rb = actions.add_parser("rollback", parents=[common], allow_abbrev=False, help="undo the last migrate (or --all)")
    rb.add_argument("crontab", metavar="CRONTAB")
    rb.add_argument("--all", action="store_true", help="undo every migrate step, back to the original crontab")
    rb.add_argument("--keep-dags", action="store_true", help="leave the exported DAG files in place")
    rb.add_argument("--state", metavar="FILE", help="migration state file (default: CRONTAB.luigi-fargate.json)")
    rb.set_defaults(handler=run_rollback)

    st = actions.add_parser(
        "status", parents=[common], allow_abbrev=False, help="where each job runs now, and its DAG files",
        description="For each job line: cron, Airflow, or both (--cutover); its DAG files and whether they match "
        "what migrate wrote. Finishes or undoes an interrupted migrate or rollback first, and says so.",
    )  # fmt: skip
    st.add_argument("crontab", metavar="CRONTAB")
    st.add_argument("--state", metavar="FILE", help="migration state file (default: CRONTAB.luigi-fargate.json)")
    st.add_argument("--format", choices=("table", "json"), default="table", help="table (default) or json")
    st.set_defaults(handler=run_status)
    p.set_defaults(handler=lambda args: (p.print_help(sys.stderr), 2)[1])


def _plan_options(args: argparse.Namespace):
    from luigi_fargate.crontab.plan import PlanOptions

    checks.time_zone("--host-timezone", args.host_timezone)
    prefix = args.dag_id_prefix
    if prefix and not all(c.isalnum() or c in "_.-" for c in prefix):
        from luigi_fargate.errors import UserError

        raise UserError(f"--dag-id-prefix {prefix!r}: use letters, digits, '_', '.', '-'")
    return PlanOptions(host_timezone=args.host_timezone, system=args.system, wrappers=tuple(args.wrapper),
                       dag_id_prefix=prefix)  # fmt: skip


def run_plan(args: argparse.Namespace) -> int:
    from luigi_fargate.crontab.decide import DagFolder, ExportSettings, decide_crontab
    from luigi_fargate.crontab.journal import pending_group
    from luigi_fargate.crontab.parse import read_crontab
    from luigi_fargate.crontab.state import StatePaths, absolute, load_state

    options = _plan_options(args)
    paths = StatePaths.for_crontab(args.crontab, args.state)
    _, text = read_crontab(args.crontab)
    if pending_group(paths):
        print(f"luigi-fargate: warning: an interrupted migrate or rollback left {paths.journal}; "
              f"`luigi-fargate crontab status {args.crontab}` finishes or undoes it", file=sys.stderr)  # fmt: skip
    folder = DagFolder(absolute(args.out), load_state(paths)) if args.out else None
    planned, _ = decide_crontab(text, options, ExportSettings(verify_fires=_verify_fires(args)), folder)
    if args.format == "json":
        doc = {"format_version": PLAN_FORMAT_VERSION, "crontab": str(paths.crontab),
               "host_timezone": args.host_timezone, "lines": [p.to_dict() for p in planned]}  # fmt: skip
        json.dump(doc, sys.stdout, indent=1)
        print()
        return 0
    _print_plan(planned, args.host_timezone)
    return 0


def _describe(p) -> str:
    """The "task / why" cell of a plan row (secrets redacted)."""
    from luigi_fargate.crontab.plan import Status
    from luigi_fargate.crontab.secrets import redact

    if p.status != Status.MIGRATE:
        return redact("; ".join(p.reasons))
    params = " ".join(f"--{k} {v}" for k, v in (p.invocation.shown_params() if p.invocation else []))
    what = f"{p.module}.{p.family} {params}".rstrip()
    what += "".join(f"\n  {k} = {p.day_bindings.get(k) or t}" for k, t in p.param_templates.items())
    what += "".join(f"\n  env {k}={v}" for k, v in p.env.items())
    what += f"\n  cwd {p.cwd}" if p.cwd else ""
    what += "".join(f"\n  changes: {c}" for c in p.changes)
    what += "".join(f"\n  ! {w}" for w in p.warnings)
    return redact(what)


def _print_plan(planned, host_timezone: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False)
    table = Table(title=f"crontab plan (host time zone {host_timezone})", show_lines=False)
    for col in ("line", "status", "DAG id", "schedule", "zone", "task / why"):
        table.add_column(col, overflow="fold")
    for p in planned:
        if p.status in ("blank", "comment", "env"):
            continue
        zone = p.timezone or ""
        if p.date_timezone and p.date_timezone != p.timezone:
            zone += f" (dates {p.date_timezone})"
        table.add_row(str(p.number), str(p.status), p.dag_id or "", p.cron or "", zone, _describe(p))
    console.print(table, markup=False)
    counts: dict[str, int] = {}
    for p in planned:
        counts[p.status] = counts.get(p.status, 0) + 1
    jobs = ("migrate", "not-migratable", "not-luigi", "malformed", "migrated")
    print(", ".join(f"{counts[s]} {s}" for s in jobs if s in counts) or "no jobs")


def run_migrate(args: argparse.Namespace) -> int:
    from luigi_fargate.crontab.migrate import MigrateOptions, migrate

    if args.start_date:
        checks.iso_date("--start-date", args.start_date)
    options = MigrateOptions(
        start_date=args.start_date,
        out_dir=Path(args.out), lines=args.line, select=args.select, cutover=args.cutover,
        runner_command=args.runner_command, runner_lock=args.runner_lock,
        state_path=Path(args.state) if args.state else None, verify_fires=_verify_fires(args),
    )  # fmt: skip
    result = migrate(Path(args.crontab), _plan_options(args), options)
    _print_recovered(result.recovered)
    how = "kept in cron through luigi-fargate run" if args.cutover else "commented out"
    for j in result.jobs:
        print(f"line {j.line}: DAG {j.dag_id!r} -> {j.py_path} ({how})")
        for f in j.findings:
            print(f"luigi-fargate: warning: line {j.line}: {f}", file=sys.stderr)
    print(f"migrated {len(result.jobs)} job(s); undo with: luigi-fargate crontab rollback {args.crontab}")
    return 0


def _print_recovered(recovered: str | None) -> None:
    if recovered:
        print(f"luigi-fargate: note: {recovered}", file=sys.stderr)


def run_rollback(args: argparse.Namespace) -> int:
    from luigi_fargate.crontab.rollback import rollback

    result = rollback(Path(args.crontab), state_path=Path(args.state) if args.state else None,
                      all_steps=args.all, keep_dags=args.keep_dags)  # fmt: skip
    _print_recovered(result.recovered)
    how = "byte for byte from the backup" if result.exact else "line by line (the crontab was edited since; other edits kept)"
    print(f"restored lines {', '.join(map(str, result.restored_lines))} of {args.crontab} {how}")
    for f in result.removed_dags:
        print(f"removed {f}")
    for f in result.left_dags:
        print(f"luigi-fargate: warning: left {f}", file=sys.stderr)
    return 0


def run_status(args: argparse.Namespace) -> int:
    from luigi_fargate.crontab.status import crontab_status

    status = crontab_status(Path(args.crontab), Path(args.state) if args.state else None)
    _print_recovered(status.recovered)
    if args.format == "json":
        doc = {"recovered": status.recovered, "jobs": [j.to_dict() for j in status.jobs], "orphans": status.orphans}
        json.dump(doc, sys.stdout, indent=1)
        print()
        return 0
    from rich.console import Console
    from rich.table import Table

    from luigi_fargate.crontab.secrets import redact

    table = Table(title=f"crontab status of {args.crontab}")
    for col in ("line", "runs in", "DAG id", "DAG files", "job"):
        table.add_column(col, overflow="fold")
    for j in status.jobs:
        files = "\n".join(f"{Path(f.path).name}: {f.verdict}" for f in j.files)
        job = redact(j.text) + (f"\n! {j.problem}" if j.problem else "")
        table.add_row(str(j.line), j.runs_in, j.dag_id or "", files, job)
    Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False).print(table, markup=False)
    for orphan in status.orphans:
        print(f"luigi-fargate: warning: {orphan}", file=sys.stderr)
    return 0
