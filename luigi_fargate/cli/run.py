"""``luigi-fargate run MODULE FAMILY [luigi params]``: the container's one command."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "run",
        parents=[common],
        allow_abbrev=False,
        help="run exactly one Luigi task (the container entrypoint's command)",
        description=(
            "Rebuild one Luigi task from MODULE, FAMILY and Luigi-style parameters and run only it: "
            "exit 0 if done or already complete, 4 if a dependency is incomplete (nothing is run), "
            "5 if it failed, 6 if its outputs are missing afterwards, 7 if its lock is held or lost, "
            "143 on SIGTERM. Runner options go before MODULE."
        ),
    )
    p.add_argument("--allow", metavar="SPEC_OR_DIR", help="exported spec (or folder of specs) whose families may run; or $LUIGI_FARGATE_ALLOW")
    p.add_argument("--allow-any", action="store_true", help="run any family when no allowlist is given (local use only)")
    p.add_argument("--lock", metavar="URL", help="lock backend: file://DIR (default), luigid://HOST:PORT, dynamodb://TABLE")
    p.add_argument("--on-locked", choices=("wait", "fail"), default="wait", help="when another runner holds the lock (default: wait)")
    p.add_argument("--lock-timeout", type=float, metavar="SECONDS", help="give up waiting for the lock after this long (exit 7)")
    p.add_argument("--lock-poll", type=float, default=1.0, metavar="SECONDS", help=argparse.SUPPRESS)
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="runner log lines (json: for CloudWatch)")
    p.add_argument("--graph-check", metavar="JSON", help="check this run's Luigi graph has the exported shape (exit 8 if not); or $LUIGI_FARGATE_GRAPH_CHECK")
    p.add_argument("--check-complete", action="store_true", help="only check completeness: exit 0 if complete, else 4; runs and locks nothing (sensors)")
    p.add_argument("module", metavar="MODULE", help="Python module that defines the task")
    p.add_argument("family", metavar="FAMILY", help="Luigi task family")
    p.set_defaults(handler=handle, accepts_extra=True)


def handle(args: argparse.Namespace) -> int:
    from luigi_fargate.shim.runner import RunRequest, run_or_exit_code

    return run_or_exit_code(
        RunRequest(
            module=args.module,
            family=args.family,
            luigi_args=list(args.extra),
            allow=args.allow,
            allow_any=args.allow_any,
            lock_url=args.lock,
            on_locked=args.on_locked,
            lock_timeout=args.lock_timeout,
            lock_poll=args.lock_poll,
            log_format=args.log_format,
            verbose=args.verbose,
            graph_check=args.graph_check,
            check_complete=args.check_complete,
        )
    )
