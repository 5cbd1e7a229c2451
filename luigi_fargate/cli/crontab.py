"""``luigi-fargate crontab plan | migrate | rollback``: move crontab jobs to Airflow a few at a time."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from luigi_fargate.cli import checks


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "crontab",
        parents=[common],
        allow_abbrev=False,
        help="plan, migrate and roll back crontab jobs",
        description="Migrate Luigi jobs from a crontab file to Airflow DAGs, a few at a time. See docs/migration-guide.md.",
    )
    actions = p.add_subparsers(dest="crontab_action", metavar="ACTION")
    reading = argparse.ArgumentParser(add_help=False)
    reading.add_argument(
        "crontab",
        metavar="CRONTAB",
        help="crontab file (e.g. `crontab -l > my.cron`, or /etc/crontab with --system)",
    )
    reading.add_argument(
        "--system", action="store_true", help="system crontab format: a user column after the schedule"
    )
    reading.add_argument("--host-timezone", default="UTC", metavar="ZONE",
                         help="time zone of the machine cron runs on: schedules without CRON_TZ and `date` without TZ use it (default: UTC)")  # fmt: skip
    reading.add_argument("--wrapper", action="append", default=[], metavar="GLOB",
                         help="an in-house script that passes its arguments to luigi, e.g. '*/run-luigi.sh' (repeatable)")  # fmt: skip

    plan = actions.add_parser(
        "plan", parents=[common, reading], allow_abbrev=False, help="what would happen to every line"
    )
    plan.add_argument("--json", action="store_true", help="machine-readable plan")
    plan.set_defaults(handler=run_plan)

    mig = actions.add_parser("migrate", parents=[common, reading], allow_abbrev=False,
                             help="export selected jobs as DAGs and comment them out of the crontab")  # fmt: skip
    mig.add_argument(
        "--line",
        action="append",
        type=int,
        default=[],
        metavar="N",
        help="crontab line to migrate (repeatable)",
    )
    mig.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="GLOB",
        help="DAG id, MODULE.Family or line text glob (repeatable)",
    )
    mig.add_argument(
        "--out", required=True, metavar="DAGS_DIR", help="Airflow dags folder to write the DAG files into"
    )
    mig.add_argument("--cutover", action="store_true",
                     help="keep the lines in cron but run them through `luigi-fargate run`, sharing lock and completion checks with Airflow")  # fmt: skip
    mig.add_argument(
        "--runner-command",
        metavar="PATH",
        help="luigi-fargate executable for --cutover lines (default: this one)",
    )
    mig.add_argument(
        "--runner-lock",
        metavar="URL",
        help="--lock URL for --cutover lines; use the lock the DAG's runner uses",
    )
    mig.add_argument(
        "--state", metavar="FILE", help="migration state file (default: CRONTAB.luigi-fargate.json)"
    )
    mig.add_argument("--start-date", metavar="YYYY-MM-DD",
                     help="DAG start date: the first day Airflow may run or backfill (default: today in the job's zone)")  # fmt: skip
    mig.set_defaults(handler=run_migrate)

    rb = actions.add_parser(
        "rollback", parents=[common], allow_abbrev=False, help="undo the last migrate (or --all)"
    )
    rb.add_argument("crontab", metavar="CRONTAB")
    rb.add_argument(
        "--all", action="store_true", help="undo every migrate step, back to the original crontab"
    )
    rb.add_argument("--keep-dags", action="store_true", help="leave the exported DAG files in place")
    rb.add_argument(
        "--state", metavar="FILE", help="migration state file (default: CRONTAB.luigi-fargate.json)"
    )
    rb.set_defaults(handler=run_rollback)
    p.set_defaults(handler=lambda args: (p.print_help(sys.stderr), 2)[1])


def _plan_options(args: argparse.Namespace):
    from luigi_fargate.crontab.plan import PlanOptions

    checks.time_zone("--host-timezone", args.host_timezone)
    return PlanOptions(host_timezone=args.host_timezone, system=args.system, wrappers=tuple(args.wrapper))


def run_plan(args: argparse.Namespace) -> int:
    from luigi_fargate.crontab.parse import read_crontab
    from luigi_fargate.crontab.plan import plan_crontab

    _, text = read_crontab(args.crontab)
    planned = plan_crontab(text, _plan_options(args))
    if args.json:
        json.dump([p.to_dict() for p in planned], sys.stdout, indent=1, default=str)
        print()
        return 0
    _print_plan(planned, args.host_timezone)
    return 0


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
        if p.status == "migrate":
            params = " ".join(f"--{k} {v}" for k, v in (p.invocation.shown_params() if p.invocation else []))
            for k, t in p.param_templates.items():
                params += f"\n  {k} = {p.day_bindings.get(k) or t}"
            what = f"{p.module}.{p.family} {params}".rstrip()
            what += "".join(f"\n  env {k}={v}" for k, v in p.env.items())
            what += f"\n  cwd {p.cwd}" if p.cwd else ""
            what += f"\n  on failure mail {', '.join(p.emails)}" if p.emails else ""
            what += "".join(f"\n  ! {w}" for w in p.warnings)
        else:
            what = "; ".join(p.reasons)
        zone = p.timezone or ""
        if p.date_timezone and p.date_timezone != p.timezone:
            zone += f" (dates {p.date_timezone})"
        table.add_row(str(p.number), p.status, p.dag_id or "", p.cron or "", zone, what)
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
        state_path=Path(args.state) if args.state else None,
    )  # fmt: skip
    jobs = migrate(Path(args.crontab), _plan_options(args), options)
    how = "kept in cron through luigi-fargate run" if args.cutover else "commented out"
    for j in jobs:
        print(f"line {j.line}: DAG {j.dag_id!r} -> {j.py_path} ({how})")
        for f in j.findings:
            print(f"luigi-fargate: warning: line {j.line}: {f}", file=sys.stderr)
    print(f"migrated {len(jobs)} job(s); undo with: luigi-fargate crontab rollback {args.crontab}")
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    from luigi_fargate.crontab.migrate import rollback

    result = rollback(Path(args.crontab), state_path=Path(args.state) if args.state else None,
                      all_steps=args.all, keep_dags=args.keep_dags)  # fmt: skip
    how = (
        "byte for byte from the backup"
        if result.exact
        else "line by line (the crontab was edited since; other edits kept)"
    )
    print(f"restored lines {', '.join(map(str, result.restored_lines))} of {args.crontab} {how}")
    for f in result.removed_dags:
        print(f"removed {f}")
    return 0
