"""``luigi-fargate ecs sweep``: stop ECS tasks whose Airflow task instance is no longer running.

The cluster and region come from ``--cluster``/``--region`` or ``[luigi_fargate]``;
task instance states from Airflow's REST API (``--airflow-url`` or
``[luigi_fargate] airflow_api_url``, a token in ``$LUIGI_FARGATE_AIRFLOW_TOKEN``
or a user with ``$LUIGI_FARGATE_AIRFLOW_PASSWORD``) or from ``--states FILE``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    from luigi_fargate.fargate.sweep import Decision, StateSource

TOKEN_ENV = "LUIGI_FARGATE_AIRFLOW_TOKEN"
PASSWORD_ENV = "LUIGI_FARGATE_AIRFLOW_PASSWORD"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "ecs", parents=[common], allow_abbrev=False, help="ECS housekeeping: stop orphaned tasks (sweep)",
        description="ECS housekeeping for the tasks luigi-fargate's operators start.",
    )  # fmt: skip
    actions = p.add_subparsers(dest="ecs_action", metavar="ACTION", required=True)
    sweep = actions.add_parser(
        "sweep",
        parents=[common],
        allow_abbrev=False,
        help="stop ECS tasks whose Airflow task instance has finished (after a grace period)",
        description=(
            "List the cluster's running ECS tasks started by luigi-fargate operators (by their dag_id, "
            "airflow_task_id and airflow_run_id tags), ask Airflow for each task instance's state, and stop the "
            "tasks whose task instance has finished or is gone, once both are older than the grace period. "
            "Tasks whose state Airflow can't tell are kept."
        ),
    )
    sweep.add_argument("--cluster", help="ECS cluster (default: [luigi_fargate] cluster)")
    sweep.add_argument("--region", help="AWS region (default: [luigi_fargate] region)")
    sweep.add_argument("--grace-seconds", type=int, metavar="N", help="leave orphans younger than N s (default: [luigi_fargate] sweep_grace_seconds, 900)")
    sweep.add_argument("--airflow-url", metavar="URL", help="Airflow API server (default: [luigi_fargate] airflow_api_url)")
    sweep.add_argument("--airflow-user", metavar="NAME", help=f"log in as NAME with ${PASSWORD_ENV} (default: [luigi_fargate] airflow_api_user; or set ${TOKEN_ENV})")
    sweep.add_argument("--states", metavar="FILE", help="task instance states from a JSON file instead of Airflow ([{dag_id, run_id, task_id, state}])")
    sweep.add_argument("--dry-run", action="store_true", help="show what would be stopped, stop nothing")
    sweep.set_defaults(handler=run_sweep)


@dataclass(frozen=True)
class SweepSettings:
    cluster: str
    region: str
    grace_seconds: int
    airflow_url: str | None
    airflow_user: str | None


def _sweep_settings(args: argparse.Namespace) -> SweepSettings:
    """Options first, then ``[luigi_fargate]``; each checked like export checks them."""
    from luigi_fargate import validators as check
    from luigi_fargate.fargate.settings import sweeper_settings

    configured = sweeper_settings()
    cluster = args.cluster or configured["cluster"]
    region = args.region or configured["region"]
    if not cluster or not region:
        raise UserError("ecs sweep: no cluster/region; pass --cluster and --region or set [luigi_fargate] cluster and region")
    grace = int(configured["sweep_grace_seconds"] if args.grace_seconds is None else args.grace_seconds)
    if grace < 0:
        raise UserError(f"--grace-seconds={grace}: expected a whole number of seconds, 0 or more")
    return SweepSettings(
        check.cluster("--cluster", cluster), check.region("--region", region), grace,
        args.airflow_url or configured["airflow_api_url"], args.airflow_user or configured["airflow_api_user"],
    )  # fmt: skip


def _state_source(args: argparse.Namespace, url: str | None, user: str | None) -> StateSource:
    from luigi_fargate.fargate.sweep import AirflowRestApi, states_from_file

    if args.states:
        return states_from_file(args.states)
    if not url:
        raise UserError("ecs sweep: no Airflow to ask; pass --airflow-url (or set [luigi_fargate] airflow_api_url), or --states FILE")
    token = os.environ.get(TOKEN_ENV)
    if not token and not user:
        raise UserError(f"ecs sweep: no Airflow credentials; set ${TOKEN_ENV}, or --airflow-user NAME with ${PASSWORD_ENV}")
    return AirflowRestApi(url, token=token, username=user, password=os.environ.get(PASSWORD_ENV)).states


def run_sweep(args: argparse.Namespace) -> int:
    import boto3

    from luigi_fargate.fargate import sweep

    settings = _sweep_settings(args)
    states = _state_source(args, settings.airflow_url, settings.airflow_user)
    ecs = boto3.client("ecs", region_name=settings.region)
    runs = sweep.list_runs(ecs, settings.cluster)
    now = dt.datetime.now(dt.UTC)
    decisions = sweep.decide(runs, states, now, dt.timedelta(seconds=settings.grace_seconds))
    done = sweep.stop(ecs, settings.cluster, decisions, dry_run=args.dry_run)
    _print_table(done, now, args.dry_run)
    return 1 if any(d.action == "stop failed" for d in done) else 0


def _print_table(decisions: list[Decision], now: dt.datetime, dry_run: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"ECS tasks of luigi-fargate operators{' (dry run)' if dry_run else ''}")
    for column in ("ECS task", "DAG", "task", "run", "try", "ECS", "age", "Airflow", "action", "why"):
        table.add_column(column)
    for d in decisions:
        age = f"{int((now - d.run.created_at).total_seconds())} s" if d.run.created_at else "?"
        airflow = d.airflow.state or ("gone" if not d.airflow.found else "unknown" if not d.airflow.known else "none")
        table.add_row(d.run.arn.rsplit("/", 1)[-1], d.run.dag_id, d.run.task_id, d.run.run_id, d.run.try_number,
                      d.run.last_status, age, airflow, d.action, d.why)  # fmt: skip
    console = Console(file=sys.stdout, width=200)
    console.print(table)
    counts = {a: sum(d.action == a for d in decisions) for a in ("stopped", "would stop", "wait", "keep", "stop failed")}
    console.print(", ".join(f"{n} {a}" for a, n in counts.items() if n) or "no ECS tasks of luigi-fargate operators are running")
