"""``luigi-fargate entrypoint-path``: where the container entrypoint script is, for Dockerfiles."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "entrypoint-path",
        parents=[common],
        allow_abbrev=False,
        help="print the path of the container entrypoint script (for COPY/cp in a Dockerfile)",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    print(Path(__file__).resolve().parent.parent / "entrypoint.sh")
    return 0
