"""``luigi-fargate sizes suggest``: Fargate sizes from what the runs used (usage events), with what they'd save."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError

_CENT = Decimal("0.01")

if TYPE_CHECKING:
    from luigi_fargate.sizes.suggest import SizingRule, Suggestion
    from luigi_fargate.sizes.usage import MeasuredRun


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "sizes", parents=[common], allow_abbrev=False, help="right-size task families from measured runs (suggest)",
        description="Fargate sizes from the runner's usage events.",
    )  # fmt: skip
    actions = p.add_subparsers(dest="sizes_action", metavar="ACTION", required=True)
    s = actions.add_parser(
        "suggest",
        parents=[common],
        allow_abbrev=False,
        help="propose the smallest Fargate size per family (or parameter value) from usage events",
        description=(
            "Read the runner's usage events (runs that ran their task only), group them per Luigi family, and per "
            "parameter value where one parameter splits the family's sizes, and propose the smallest valid Fargate size: "
            "the percentile of peak memory and of vCPUs used (CPU seconds / wall seconds) times the headroom. Also shows "
            "the size now and the monthly saving at the observed runs per day (docs/sizing-and-cost.md)."
        ),
    )
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", nargs="+", metavar="FILE", help="events files (LUIGI_FARGATE_EVENTS_FILE) or saved JSON logs")
    source.add_argument("--log-group", metavar="NAME", help="read the usage events from this CloudWatch log group (the runner logging --log-format json)")
    s.add_argument("--since", metavar="WHEN", help="with --log-group: from WHEN, a date, an ISO time or an age (default: 30d)")
    s.add_argument("--until", metavar="WHEN", help="with --log-group: up to WHEN (default: now)")
    s.add_argument("--region", help="with --log-group: AWS region (default: [luigi_fargate] region)")
    s.add_argument("--specs", nargs="+", default=[], metavar="SPEC_OR_DIR", help="exported specs: the families' sizes now, when the events don't carry them")
    s.add_argument("--percentile", type=float, default=95.0, metavar="P", help="percentile of the runs to size for, nearest rank (default: 95)")
    s.add_argument("--headroom", type=float, metavar="X", help="multiply the measured use by X (default: [luigi_fargate] sizes_headroom, 1.25)")
    s.add_argument("--min-runs", type=int, metavar="N", help="suggest nothing below N runs (default: [luigi_fargate] sizes_min_runs, 5)")
    s.add_argument("--format", choices=("table", "json"), default="table", help="table (default) or json, on stdout")
    s.add_argument("--write", metavar="FILE", help="also write [luigi_fargate.family.X] sections to FILE (a new file) for review")
    s.set_defaults(handler=run_suggest)


def _rule(args: argparse.Namespace, configured_headroom: float, configured_min_runs: int) -> SizingRule:
    from luigi_fargate.sizes.suggest import SizingRule

    if not 0 < args.percentile <= 100:
        raise UserError(f"--percentile={args.percentile:g}: expected a percentile above 0 and at most 100, e.g. 95")
    headroom = configured_headroom if args.headroom is None else args.headroom
    if not 1 <= headroom <= 10:
        raise UserError(f"--headroom={headroom:g}: expected a multiplier from 1 to 10, e.g. 1.25")
    min_runs = configured_min_runs if args.min_runs is None else args.min_runs
    if min_runs < 1:
        raise UserError(f"--min-runs={min_runs}: expected a whole number of 1 or more")
    return SizingRule(args.percentile, headroom, min_runs)


def _runs(args: argparse.Namespace, region: str | None) -> list[MeasuredRun]:
    from luigi_fargate.cost.period import moment, period
    from luigi_fargate.sizes.usage import runs_from_files

    if args.events:
        return runs_from_files(args.events)
    from luigi_fargate.sizes.cloudwatch import runs_from_log_group

    since, until = period(args.since or "30d", args.until)
    region = args.region or region
    if not region:
        raise UserError("--log-group: no region; pass --region or set [luigi_fargate] region")
    return runs_from_log_group(args.log_group, region, since or moment("--since", "30d"), until)  # type: ignore[arg-type]


def as_json(suggestions: list[Suggestion]) -> list[dict[str, object]]:
    return [{
        "family": s.family, "pattern": s.pattern or None, "runs": s.runs,
        "memory_p50_mb": round(s.memory_p50, 1), "memory_p95_mb": round(s.memory_p95, 1), "memory_max_mb": round(s.memory_max, 1),
        "cpu_use_vcpu": round(s.cpu_use, 3),
        "current_cpu": s.current.cpu if s.current else None, "current_memory": s.current.memory if s.current else None,
        "suggested_cpu": s.suggested.cpu if s.suggested else None, "suggested_memory": s.suggested.memory if s.suggested else None,
        "monthly_saving_usd": str(s.monthly_saving.quantize(_CENT)) if s.monthly_saving is not None else None,
        "note": s.note or None,
    } for s in suggestions]  # fmt: skip


def _size(size: object) -> str:
    return "" if size is None else f"{size.cpu}/{size.memory}"  # type: ignore[attr-defined]


def _print_table(suggestions: list[Suggestion], rule: SizingRule) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Fargate sizes from measured runs: p{rule.percentile:g} x {rule.headroom:g} (cpu units/MiB)")
    for name in ("family", "runs", "memory p50", "p95", "max", f"CPU p{rule.percentile:g}", "size now", "suggested", "saving / month"):
        table.add_column(name, justify="left" if name == "family" else "right")
    for s in suggestions:
        saving = "" if s.monthly_saving is None else f"{s.monthly_saving.quantize(_CENT):,.2f}"
        table.add_row(
            escape(s.family + (f" [{s.pattern}]" if s.pattern else "")), str(s.runs), f"{s.memory_p50:.0f}", f"{s.memory_p95:.0f}",
            f"{s.memory_max:.0f}", f"{s.cpu_use:.2f}", _size(s.current), _size(s.suggested) or s.note, saving,
        )  # fmt: skip
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console.width = 160  # a file or a pipe: don't squeeze the table into 80 columns
    console.print(table)


def run_suggest(args: argparse.Namespace) -> int:
    from luigi_fargate import config
    from luigi_fargate.cost.pricing import pricing_from
    from luigi_fargate.sizes.config_file import config_text, write_new_config
    from luigi_fargate.sizes.current import current_sizes
    from luigi_fargate.sizes.suggest import suggest

    configuration = config.load()
    rule = _rule(args, configuration.get("sizes_headroom"), configuration.get("sizes_min_runs"))
    runs = _runs(args, configuration.get("region"))
    if not runs:
        where = f"log group {args.log_group}" if args.log_group else " ".join(args.events)
        raise UserError(f"{where}: no usage events of runs that ran a task; the runner writes them (LUIGI_FARGATE_EVENTS_FILE or --log-format json)")
    suggestions = suggest(runs, rule, current_sizes(configuration, args.specs), pricing_from(configuration))
    if args.write:
        write_new_config(args.write, config_text(suggestions, rule))
        print(f"wrote {args.write}: review it, then copy its sections into luigi.cfg", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(json.dumps(as_json(suggestions), indent=1) + "\n")
    else:
        _print_table(suggestions, rule)
    return 0
