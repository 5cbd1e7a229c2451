"""The ``luigi-fargate`` command line.

Each subcommand lives in its own module with a ``register(subparsers, common)``
function; heavy imports (luigi, networkx, boto3, rich) happen inside the
handlers, so ``luigi-fargate run`` in a container starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence

from luigi_fargate import __version__
from luigi_fargate.errors import UserError

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS = (
    "export",
    "run",
    "graph",
    "verify",
    "pools",
    "sizes",
    "cost",
    "ecs",
    "crontab",
    "locks",
    "task_definitions",
    "deploy",
    "entrypoint_path",
)


def _build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: the subcommand's copy of -v must not reset one given before the subcommand.
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="show tracebacks and debug logs")
    parser = argparse.ArgumentParser(
        prog="luigi-fargate",
        description="Run Luigi pipelines on Airflow, one Fargate container per Luigi task.",
        parents=[common],
        # Abbreviations off: while looking for its own options, this parser scans every word, the
        # ones after ``run`` too, and must not stop at a task's value such as ``--ver`` ("ambiguous").
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"luigi-fargate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"luigi_fargate.cli.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not built yet
            if exc.name != f"luigi_fargate.cli.{name}":
                raise
            continue
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    args, extra = parser.parse_known_args(args_list)
    verbose = args.verbose = bool(getattr(args, "verbose", False))
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return int(handler(args) or 0)
    except UserError as exc:
        if verbose:
            traceback.print_exc()
        print(f"luigi-fargate: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("luigi-fargate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last-resort message instead of a traceback
        if verbose:
            traceback.print_exc()
        print(
            f"luigi-fargate: error: unexpected {type(exc).__name__}: {exc} (rerun with -v for the traceback)",
            file=sys.stderr,
        )
        return 1
