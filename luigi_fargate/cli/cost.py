"""``luigi-fargate cost``: what the exported Fargate tasks cost over a period, per team, DAG, family or task.

Tries come from Airflow's REST API (``--airflow-url``, as ``ecs sweep`` logs
in) or a history file (``--history``); sizes, capacity and tags from the
exported specs; prices from ``[luigi_fargate]`` (docs/sizing-and-cost.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    from luigi_fargate.cost.history import TaskTry
    from luigi_fargate.cost.report import CostReport

FORMATS = ("table", "csv", "json")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from luigi_fargate.cli.ecs import PASSWORD_ENV, TOKEN_ENV

    p = sub.add_parser(
        "cost",
        parents=[common],
        allow_abbrev=False,
        help="what the Fargate tasks cost over a period, per team, DAG, family or task",
        description=(
            "Price every task instance try of the exported Fargate tasks the way Fargate bills (per second, one minute "
            "at least), from Airflow's history (REST API or --history FILE) and the sizes, capacity and tags in the "
            "specs, with the prices in [luigi_fargate] (docs/sizing-and-cost.md). Teams are the values of the team tag "
            "the operator sets on each ECS task, so the figures can be checked against the bill's cost allocation tags."
        ),
    )
    p.add_argument("specs", nargs="+", metavar="SPEC_OR_DIR", help="exported specs (or their folder): sizes, capacity and tags")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--history", metavar="FILE", help="task instance tries from a file: JSON lines, JSON (as the REST API returns) or CSV")
    source.add_argument("--airflow-url", metavar="URL", help="read the tries from this Airflow API server (default: [luigi_fargate] airflow_api_url)")
    p.add_argument("--airflow-user", metavar="NAME", help=f"log in as NAME with ${PASSWORD_ENV} (default: [luigi_fargate] airflow_api_user; or set ${TOKEN_ENV})")
    p.add_argument("--since", metavar="WHEN", help="count tries started at or after WHEN: a date, an ISO time or an age (30d)")
    p.add_argument("--until", metavar="WHEN", help="and before WHEN")
    p.add_argument("--by", choices=("team", "dag", "family", "task"), default="team", help="group the costs by (default: team)")
    p.add_argument("--team-tag", metavar="KEY", help="the tag that names a team (default: [luigi_fargate] team_tag, team)")
    p.add_argument("--format", choices=FORMATS, default="table", help="table (default), csv or json, on stdout")
    p.add_argument("--chart", metavar="FILE.png|FILE.svg", help="also draw cost per team per day (needs luigi-fargate[report])")
    p.set_defaults(handler=run_cost)


def _tries(args: argparse.Namespace, dag_ids: set[str], since, until, configured: dict) -> list[TaskTry]:
    from luigi_fargate.cli.ecs import PASSWORD_ENV, TOKEN_ENV
    from luigi_fargate.cost.airflow_api import TaskInstanceHistory
    from luigi_fargate.cost.history import latest_tries, read_history

    if args.history:
        return latest_tries(read_history(args.history))
    url = args.airflow_url or configured["airflow_api_url"]
    user = args.airflow_user or configured["airflow_api_user"]
    if not url:
        raise UserError("cost: no history; pass --history FILE or --airflow-url URL (or set [luigi_fargate] airflow_api_url)")
    token = os.environ.get(TOKEN_ENV)
    if not token and not user:
        raise UserError(f"cost: no Airflow credentials; set ${TOKEN_ENV}, or --airflow-user NAME with ${PASSWORD_ENV}")
    return TaskInstanceHistory(url, token=token, username=user, password=os.environ.get(PASSWORD_ENV)).tries(dag_ids, since, until)


def _print_table(report: CostReport, title: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title))
    for name, justify in ((report.grouping, "left"), ("tries", "right"), ("billed hours", "right"), ("cost (USD)", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for line in report.sorted_lines():
        table.add_row(escape(line.key), str(line.tries), f"{line.billed_seconds / 3600:.2f}", f"{line.cost:,.2f}")
    total = report.total
    table.add_section()
    table.add_row("total", str(total.tries), f"{total.billed_seconds / 3600:.2f}", f"{total.cost:,.2f}")
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console.width = 160  # a file or a pipe: don't squeeze the table into 80 columns
    console.print(table)


#: What a spreadsheet reads as the start of a formula in a CSV cell (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (a team tag ``=HYPERLINK(...)``) as text: quoted with ``'``."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _write(report: CostReport, fmt: str, title: str) -> None:
    if fmt == "table":
        _print_table(report, title)
        return
    rows = [{report.grouping: line.key, "tries": line.tries, "billed_seconds": line.billed_seconds, "cost_usd": str(line.cost)}
            for line in report.sorted_lines()]  # fmt: skip
    if fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=[report.grouping, "tries", "billed_seconds", "cost_usd"], lineterminator="\n")
        writer.writeheader()
        writer.writerows({**row, report.grouping: csv_cell(row[report.grouping])} for row in rows)
        return
    total = report.total
    out = {"by": report.grouping, "lines": rows, "total_usd": str(total.cost), "tries": total.tries, "skipped": report.skipped}
    sys.stdout.write(json.dumps(out, indent=1) + "\n")


def run_cost(args: argparse.Namespace) -> int:
    from luigi_fargate import config
    from luigi_fargate.cost.catalog import priced_tasks
    from luigi_fargate.cost.period import period
    from luigi_fargate.cost.pricing import pricing_from
    from luigi_fargate.cost.report import cost_report
    from luigi_fargate.fargate.settings import sweeper_settings

    configuration = config.load()
    if args.chart:
        from luigi_fargate.cost.chart import check_chart_target

        check_chart_target(args.chart)  # a wrong name or place fails before any work
    since, until = period(args.since, args.until)
    tasks = priced_tasks(args.specs, configuration, pricing_from(configuration))
    if not tasks:
        raise UserError(f"{' '.join(args.specs)}: no Fargate tasks in these specs; pass specs exported with --runner fargate")
    tries = _tries(args, {dag for dag, _ in tasks}, since, until, sweeper_settings(configuration))
    team_tag = args.team_tag or configuration.get("team_tag")
    report = cost_report(tries, tasks, grouping=args.by, team_tag=team_tag, since=since, until=until)
    span = f"{since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC" if since and until else "all history"
    _write(report, args.format, f"Fargate cost by {args.by}, {span}")
    for reason, count in sorted(report.skipped.items()):
        print(f"luigi-fargate: note: {count} tries left out: {reason}", file=sys.stderr)
    if args.chart:
        from luigi_fargate.cost.chart import write_team_day_chart

        write_team_day_chart(args.chart, report.team_days, f"Fargate cost per team ({team_tag} tag) per day")
        print(f"wrote {args.chart}", file=sys.stderr)
    return 0
