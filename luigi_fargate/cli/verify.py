"""``luigi-fargate verify SPEC --from DATE --to DATE``: prove, before cutover, that the DAG runs Luigi's graph on every date.

The logic is :func:`luigi_fargate.introspect.verify.verify_dates`; this module
checks the command line and prints.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from luigi_fargate.cli import checks
from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    import datetime as dt

    from luigi_fargate.spec import PipelineSpec

#: Runs above which a progress bar is shown (when stderr is a terminal).
PROGRESS_FROM = 20


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "verify",
        parents=[common],
        allow_abbrev=False,
        help="check that a DAG runs Luigi's graph on every run date of a range",
        description=(
            "For every run of the DAG from --from to --to (its schedule's fire times; without a schedule, one run "
            "per period of the bound parameter), build Luigi's graph of the root for that run's date (deps() "
            "only: nothing is run, complete() is never called) and compare it with what the DAG runs then. "
            "Prints one line per date that differs; exit 0 if none does, 1 if some do. Imports the pipeline's "
            "code like export (run it where export runs, with the same PYTHONPATH)."
        ),
    )
    p.add_argument("spec", metavar="SPEC", help="the exported spec, e.g. dags/pipeline_report.json")
    p.add_argument("--from", dest="start", required=True, metavar="DATE", help="first date, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, metavar="DATE", help="last date, YYYY-MM-DD (included)")
    p.set_defaults(handler=run_verify)


def _load(path: str) -> PipelineSpec:
    from luigi_fargate.spec import PipelineSpec, SpecError

    try:
        return PipelineSpec.load(path)
    except SpecError as exc:
        raise UserError(f"SPEC {exc}") from None


def _dates(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    start, end = checks.iso_date("--from", args.start), checks.iso_date("--to", args.end)
    if end < start:
        raise UserError(f"--to {args.end} is before --from {args.start}; give the range's first date with --from")
    return start, end


def run_verify(args: argparse.Namespace) -> int:
    from luigi_fargate.introspect.verify import run_instants, unchecked_tasks, verify_dates

    start, end = _dates(args)
    spec = _load(args.spec)
    if spec.graph is None or spec.graph.run_date is None:
        verify_dates(spec, [])  # raises the one-line error naming the fix
    runs = run_instants(spec, start, end)
    if sys.stderr.isatty() and len(runs) >= PROGRESS_FROM:
        from rich.console import Console
        from rich.progress import Progress

        # On stderr (stdout keeps only the differing runs); no refresh thread, as verify forks workers.
        with Progress(console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
            job = bar.add_task(f"verifying {spec.dag_id}", total=len(runs))
            differing = verify_dates(spec, runs, on_run=lambda: bar.update(job, advance=1, refresh=True))
    else:
        differing = verify_dates(spec, runs)
    for d in differing:
        print(d.line())
    unchecked = unchecked_tasks(spec)
    if unchecked:
        print(f"note: {len(unchecked)} task(s) have hand-written templates, not checked: {', '.join(unchecked[:3])}", file=sys.stderr)
    verdict = f"{len(differing)} of {len(runs)} runs differ" if differing else f"all {len(runs)} runs match"
    print(f"verified DAG {spec.dag_id} from {start} to {end}: {verdict}", file=sys.stderr)
    return 1 if differing else 0
