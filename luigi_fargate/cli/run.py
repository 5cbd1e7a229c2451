"""``luigi-fargate run [runner options] MODULE FAMILY [--param VALUE ...]``: the container's one command.

One grammar, decided before anything is imported: the runner's own options
first, then MODULE and FAMILY, then only the family's parameters. argparse
reads the runner's options and nothing else: given the whole command line,
its ``parse_known_args`` would pick ``--allow`` out of the task's parameters
and read an option-like value (``--name -h``) as an option. So the words
after FAMILY stay raw here and are read later against the family's declared
parameters (``luigi_fargate.shim.params``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode

USAGE_HINT = "luigi-fargate run [runner options] MODULE FAMILY [--param VALUE ...]"


class RunArgumentParser(argparse.ArgumentParser):
    """The ``run`` subcommand: keeps its command line raw for :func:`handle`, reads runner options exactly."""

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None) -> Any:
        # Called by the top-level parser with everything after ``run``.
        namespace = namespace if namespace is not None else argparse.Namespace()
        namespace.run_argv = list(sys.argv[1:] if args is None else args)
        namespace.run_parser = self
        namespace.handler = handle
        return namespace, []

    def error(self, message: str) -> NoReturn:
        raise UserError(f"run: {message}; usage: {USAGE_HINT}")

    def _takes_value(self, option: str) -> bool:
        return self._option_string_actions[option].nargs != 0

    def split(self, argv: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
        """(runner options as exact words, [MODULE, FAMILY] (may be short), the words after FAMILY).

        A runner option's value is the next word whatever it looks like; the
        first word that isn't an option is MODULE; no option counts after it.
        """
        options: list[str] = []
        i = 0
        while i < len(argv) and argv[i].startswith("-"):
            name, eq, value = argv[i].partition("=")
            if name not in self._option_string_actions:
                raise UserError(f"run: unknown runner option {name!r}; see luigi-fargate run --help ({USAGE_HINT})")
            if not self._takes_value(name):
                if eq:
                    raise UserError(f"run: runner option {name} takes no value")
                options.append(name)
                i += 1
                continue
            if not eq:
                if i + 1 >= len(argv):
                    raise UserError(f"run: runner option {name} needs a value")
                value = argv[i + 1]
                i += 1
            options.append(f"{name}={value}")
            i += 1
        return options, list(argv[i : i + 2]), list(argv[i + 2 :])

    def parse_run(self, argv: Sequence[str]) -> argparse.Namespace | None:
        """The runner's options, MODULE and FAMILY; None after printing --help (no MODULE allowed then)."""
        options, positional, params = self.split(argv)
        if "-h" in options or "--help" in options:
            if positional:
                raise UserError(f"run: --help shows the usage and runs nothing; give it alone ({USAGE_HINT})")
            self.print_help()
            return None
        if len(positional) < 2:
            raise UserError(f"run: MODULE and FAMILY are required ({USAGE_HINT})")
        if positional[1].startswith("-"):
            # An option where FAMILY goes: runner options count only before MODULE, Luigi's never.
            name = positional[1].partition("=")[0]
            raise UserError(
                f"run: expected FAMILY after MODULE {positional[0]!r}, got the option {name}: runner options go "
                "before MODULE, Luigi's own options are not allowed",
                ExitCode.NOT_ALLOWED,
            )
        ns = super().parse_known_args([*options, "--", *positional], None)[0]
        ns.params = params
        return ns


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser_class = sub._parser_class  # noqa: SLF001 - argparse has no public way to pick one subparser's class
    sub._parser_class = RunArgumentParser  # noqa: SLF001
    try:
        p = sub.add_parser(
            "run",
            parents=[common],
            allow_abbrev=False,
            help="run exactly one Luigi task (the container entrypoint's command)",
            description=(
                "Rebuild one Luigi task from MODULE, FAMILY and its parameters and run only it: "
                "exit 0 if done or already complete, 4 if a dependency is incomplete (nothing is run), "
                "5 if it failed, 6 if its outputs are missing afterwards, 7 if its lock is held or lost, "
                "143 on SIGTERM. Runner options go before MODULE; after FAMILY come only the family's own "
                "parameters (--name VALUE, --name=VALUE, a bare --flag for a switch), whose values are never "
                "read as options."
            ),
        )
    finally:
        sub._parser_class = parser_class  # noqa: SLF001
    access = p.add_mutually_exclusive_group()
    access.add_argument("--allow", metavar="SPEC_OR_DIR", help="exported spec (or folder of specs) whose families may run; or $LUIGI_FARGATE_ALLOW (then --allow may only narrow it)")
    access.add_argument("--allow-any", action="store_true", help="run any family when no allowlist is set (local use only; refused when $LUIGI_FARGATE_ALLOW is set)")
    p.add_argument("--lock", metavar="URL", help="lock backend: file://DIR (default: a private folder per user), luigid://HOST:PORT, dynamodb://TABLE")
    p.add_argument("--on-locked", choices=("wait", "fail"), default="wait", help="when another runner holds the lock (default: wait)")
    p.add_argument("--lock-timeout", type=float, metavar="SECONDS", help="give up waiting for the lock after this long (exit 7)")
    p.add_argument("--lock-poll", type=float, default=1.0, metavar="SECONDS", help=argparse.SUPPRESS)
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="runner log lines (json: for CloudWatch)")
    p.add_argument("--graph-check", metavar="JSON", help="check this run's Luigi graph has the exported shape (exit 8 if not); or $LUIGI_FARGATE_GRAPH_CHECK (its root must be an allowlisted spec's)")
    p.add_argument("--check-complete", action="store_true", help="only check completeness: exit 0 if complete, else 4; runs and locks nothing (sensors)")
    p.add_argument("module", metavar="MODULE", help="Python module that defines the task (must be in the allowlist)")
    p.add_argument("family", metavar="FAMILY", help="Luigi task family")
    p.add_argument("params", metavar="--param VALUE", nargs="*", help="the family's parameters: --name VALUE, --name=VALUE, or --flag for a switch")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    parser: RunArgumentParser = args.run_parser
    ns = parser.parse_run(args.run_argv)
    if ns is None:
        return ExitCode.DONE

    from luigi_fargate.shim.request import RunRequest
    from luigi_fargate.shim.runner import run_or_exit_code

    return run_or_exit_code(
        RunRequest(
            module=ns.module,
            family=ns.family,
            params=tuple(ns.params),
            allow=ns.allow,
            allow_any=ns.allow_any,
            lock_url=ns.lock,
            on_locked=ns.on_locked,
            lock_timeout=ns.lock_timeout,
            lock_poll=ns.lock_poll,
            log_format=ns.log_format,
            verbose=bool(args.verbose or getattr(ns, "verbose", False)),
            graph_check=ns.graph_check,
            check_complete=ns.check_complete,
            runner_flags=frozenset(parser._option_string_actions),  # noqa: SLF001
        )
    )

