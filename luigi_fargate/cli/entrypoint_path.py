"""``luigi-fargate entrypoint-path [--install DEST]``: the container entrypoint, for Dockerfiles.

The packaged ``entrypoint.sh`` is a template. ``--install DEST`` writes it
with this interpreter's absolute path baked in, so the image's entrypoint
never finds ``python`` or ``luigi-fargate`` through ``PATH``, which the
environment of a task (an ECS override) could point elsewhere.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from luigi_fargate.errors import UserError

#: The packaged template.
TEMPLATE = Path(__file__).resolve().parent.parent / "entrypoint.sh"
#: Replaced by the interpreter's absolute path (shell-quoted) when installing.
PLACEHOLDER = "@LUIGI_FARGATE_PYTHON@"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "entrypoint-path",
        parents=[common],
        allow_abbrev=False,
        help="print the path of the container entrypoint template, or install it (--install DEST) for a Dockerfile",
        description=(
            "Without options, print the path of the packaged entrypoint template. With --install DEST, write "
            "the entrypoint to DEST (mode 0755) with this Python's absolute path baked in: it runs "
            "`PYTHON -P -m luigi_fargate run ARGS` and never looks anything up through PATH."
        ),
    )
    p.add_argument("--install", metavar="DEST", help="write the ready-to-run entrypoint script to this file")
    p.set_defaults(handler=handle)


def render(python: str) -> str:
    """The entrypoint script that execs ``python``; ``python`` must be an absolute path."""
    if not os.path.isabs(python):
        raise UserError(f"the Python interpreter path {python!r} is not absolute; run luigi-fargate with an absolute interpreter path")
    text = TEMPLATE.read_text(encoding="utf-8")
    if text.count(PLACEHOLDER) != 1:
        raise UserError(f"the packaged entrypoint template {TEMPLATE} is damaged (no single {PLACEHOLDER}); reinstall luigi-fargate")
    return text.replace(PLACEHOLDER, shlex.quote(python))


def install(dest: Path, python: str) -> None:
    """Write the entrypoint for ``python`` to ``dest``, atomically, mode 0755."""
    from luigi_fargate.atomic_file import write_atomically

    if dest.is_dir():
        raise UserError(f"--install {dest}: is a directory; give the file to write, e.g. {dest / 'luigi-fargate-entrypoint'}")
    if not dest.parent.is_dir():
        raise UserError(f"--install {dest}: folder {dest.parent} does not exist; create it first")
    try:
        write_atomically(dest, render(python), new_file_mode=0o755)
        os.chmod(dest, 0o755)
    except OSError as exc:
        raise UserError(f"--install {dest}: cannot write it ({exc.strerror}); check the folder's permissions") from None


def handle(args: argparse.Namespace) -> int:
    if args.install is None:
        print(TEMPLATE)
        return 0
    # Not resolved: a virtualenv's python is a symlink whose own path selects the virtualenv.
    python = os.path.abspath(sys.executable) if sys.executable else ""
    dest = Path(args.install).absolute()
    install(dest, python)
    print(f"installed {dest}: runs {python} -P -m luigi_fargate run ARGS")
    return 0
