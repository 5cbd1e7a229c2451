"""``luigi-fargate export MODULE.Task [luigi params]``: a Luigi graph as an Airflow DAG."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from luigi_fargate.cli import checks
from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    from luigi_fargate.export.builder import ExportOptions


def add_task_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by export and graph: which task, and how to shape the DAG."""
    p.add_argument("task", metavar="MODULE.Task", help="root task, e.g. examples.pipeline.Report (Luigi params follow)")
    p.add_argument("--module", help="module to import, when the task family has dots of its own")
    p.add_argument("--dag-id", help="Airflow DAG id (default: <module>_<task in snake case>)")
    p.add_argument("--schedule", help="cron expression or preset such as @daily (default: no schedule)")
    p.add_argument("--timezone", default="UTC", help="time zone of --schedule (default: UTC)")
    p.add_argument(
        "--start-date",
        help="first run date, YYYY-MM-DD (default: the bound run date with --schedule, none without; "
        "an unscheduled DAG fails runs dated earlier)",
    )
    p.add_argument("--catchup", action="store_true", help="let Airflow run missed intervals since --start-date")
    p.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="PARAM=BINDING",
        help=(
            "make a root parameter follow the run date: BINDING = SOURCE[+-N[UNIT]...][@ZONE][:FORMAT]; "
            "SOURCE ds, ds_local, logical_date, data_interval_start, data_interval_end; UNIT s min h (elapsed) "
            "d w mo y (calendar, before truncation; none: whole periods of the parameter); ZONE an IANA zone; "
            "FORMAT strftime for string parameters. E.g. date=ds-1 (yesterday), month=ds-1d (the month "
            "containing yesterday), report=ds:%%m/%%d/%%Y, week=ds@Europe/Berlin:%%G-W%%V "
            "(default: the root's only date parameter -> ds; docs/concepts.md, Run dates)"
        ),
    )
    p.add_argument("--no-bind", action="store_true", help="keep every parameter fixed at its exported value")
    p.add_argument("--runner", choices=("local", "fargate"), default="local", help="where tasks run (default: local)")
    p.add_argument("--group-by", choices=("namespace", "family"), help="Airflow TaskGroups per task namespace or per family")
    p.add_argument(
        "--select", action="append", default=[], metavar="GLOB",
        help="export only these families (glob; +GLOB adds upstream, GLOB+ downstream); repeatable",
    )  # fmt: skip
    p.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB",
        help="leave these families out (same syntax); an excluded dependency becomes a completeness sensor",
    )  # fmt: skip


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "export",
        parents=[common],
        allow_abbrev=False,
        help="export a Luigi task graph as an Airflow DAG",
        description=(
            "Walk the Luigi graph of MODULE.Task (built from Luigi-style parameters, e.g. --date 2026-11-01) "
            "and write <dag_id>.json and <dag_id>.py into --out. Nothing is run and complete() is never called. "
            "A task parameter whose name clashes with an option here can be given as --Family-param."
        ),
    )
    add_task_arguments(p)
    p.add_argument("--out", default="dags", help="directory for the DAG files (default: ./dags)")
    p.set_defaults(handler=run_export, accepts_extra=True)


def options_from_args(args: argparse.Namespace) -> tuple[str, str, ExportOptions]:
    """(module, family, options) from the shared export/graph arguments, validated."""
    from luigi_fargate.export.builder import ExportOptions
    from luigi_fargate.introspect.bindings import parse_bindings
    from luigi_fargate.introspect.loader import check_dotted_name, split_task_ref
    from luigi_fargate.spec import RunnerKind

    if args.module:
        module, family = check_dotted_name(args.module, "module"), args.task
    else:
        module, family = split_task_ref(args.task)
    bindings = {} if args.no_bind else (parse_bindings(args.bind) if args.bind else None)
    if args.schedule:
        from croniter import croniter

        if not croniter.is_valid(args.schedule):
            raise UserError(f"--schedule {args.schedule!r}: not a cron expression; e.g. '15 18 * * *' or @daily")
    checks.time_zone("--timezone", args.timezone)
    if args.start_date:
        checks.iso_date("--start-date", args.start_date)
    options = ExportOptions(
        dag_id=args.dag_id,
        schedule=args.schedule,
        timezone=args.timezone,
        bindings=bindings,
        runner=RunnerKind(args.runner),
        start_date=args.start_date,
        catchup=args.catchup,
        group_by=getattr(args, "group_by", None),
        select=list(getattr(args, "select", []) or []),
        exclude=list(getattr(args, "exclude", []) or []),
    )
    return module, family, options


def run_export(args: argparse.Namespace) -> int:
    from luigi_fargate.export.api import export_pipeline

    module, family, options = options_from_args(args)
    result = export_pipeline(module, family, list(args.extra), options, args.out)
    for f in result.findings:
        print(f"luigi-fargate: warning: {f}", file=sys.stderr)
    spec = result.spec
    print(f"exported {len(spec.tasks)} Luigi tasks as DAG {spec.dag_id!r}: {result.py_path} (spec {result.json_path})")
    return 0
