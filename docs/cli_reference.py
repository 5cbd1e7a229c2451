"""Write docs/cli.md from the argparse definitions, so the reference can't drift from --help.

    .venv/bin/python docs/cli_reference.py > docs/cli.md

tests/test_docs.py fails when docs/cli.md is out of date.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal: fix it for stable output


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # noqa: SLF001 - argparse has no public API for this
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            return dict(action.choices)
    return {}


def _sections(parser: argparse.ArgumentParser, name: str, depth: int) -> list[str]:
    parser.prog = name
    out = [f"{'#' * depth} `{name}`", "", "```", parser.format_help().rstrip(), "```", ""]
    for sub_name, sub in _subparsers(parser).items():
        out += _sections(sub, f"{name} {sub_name}", min(depth + 1, 4))
    return out


def render() -> str:
    from luigi_fargate.cli import _build_parser

    parser = _build_parser()
    head = [
        "# CLI reference",
        "",
        "Generated from the command's own `--help` by `docs/cli_reference.py`; do not edit by hand.",
        "Task parameters follow Luigi's syntax (`--date 2026-11-01`, or `--Family-param value`).",
        "",
    ]
    return "\n".join(head + _sections(parser, "luigi-fargate", 2)).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
