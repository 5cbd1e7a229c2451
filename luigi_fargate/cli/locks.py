"""``luigi-fargate locks list|show|break|init``: look at and repair the task locks.

The backend is the one ``luigi-fargate run`` would use: ``--lock URL``, then
``$LUIGI_FARGATE_LOCK``, then ``[luigi_fargate] lock`` in Luigi's config.
"""

from __future__ import annotations

import argparse
import sys
import time

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "locks",
        parents=[common],
        allow_abbrev=False,
        help="list, show, break the task locks; create the DynamoDB lock table",
        description=(
            "Inspect the locks that keep one Luigi task from running twice at once. "
            "The lock backend is --lock URL, else $LUIGI_FARGATE_LOCK, else [luigi_fargate] lock in luigi.cfg."
        ),
    )
    lock_opt = argparse.ArgumentParser(add_help=False)
    lock_opt.add_argument(
        "--lock", metavar="URL", help="file://DIR, luigid://HOST:PORT or dynamodb://TABLE?region=R"
    )
    actions = p.add_subparsers(dest="locks_action", metavar="ACTION", required=True)

    ls = actions.add_parser("list", parents=[common, lock_opt], allow_abbrev=False, help="the locks held now")
    ls.set_defaults(handler=handle_list)

    show = actions.add_parser(
        "show", parents=[common, lock_opt], allow_abbrev=False, help="one lock, by task id"
    )
    show.add_argument("key", metavar="TASK_ID")
    show.set_defaults(handler=handle_show)

    brk = actions.add_parser(
        "break",
        parents=[common, lock_opt],
        allow_abbrev=False,
        help="free a lock whatever its holder (the holder exits 7 at its next heartbeat)",
        description=(
            "Free the lock on TASK_ID. A holder with a heartbeat (luigid, dynamodb) notices at its next "
            "renewal and stops with exit 7; a file-lock holder keeps running, so only break a file lock "
            "whose holder is gone. Asks for confirmation unless --yes."
        ),
    )
    brk.add_argument("key", metavar="TASK_ID")
    brk.add_argument("--yes", "-y", action="store_true", help="don't ask for confirmation")
    brk.set_defaults(handler=handle_break)

    init = actions.add_parser(
        "init",
        parents=[common, lock_opt],
        allow_abbrev=False,
        help="create the DynamoDB lock table (on-demand billing, TTL on purge_at)",
    )
    init.set_defaults(handler=handle_init)


def _backend(args: argparse.Namespace):
    from luigi_fargate.config import lock_url_from
    from luigi_fargate.locks.base import open_backend

    return open_backend(lock_url_from(args.lock))


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))
    delta = epoch - time.time()
    rel = f"in {delta:.0f}s" if delta >= 0 else f"{-delta:.0f}s ago"
    return f"{stamp}Z ({rel})"


def _print_table(infos: list, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("task id", "owner", "acquired", "expires", "fencing", "detail"):
        table.add_column(column, overflow="fold")
    for info in infos:
        table.add_row(
            info.key,
            info.owner,
            _when(info.acquired_at),
            _when(info.expires_at),
            "-" if info.fencing_token is None else str(info.fencing_token),
            info.detail,
        )
    Console(soft_wrap=True).print(table)


def handle_list(args: argparse.Namespace) -> int:
    backend = _backend(args)
    infos = backend.list_locks()
    if not infos:
        print(f"no locks held in {backend.url}")
        return 0
    _print_table(infos, f"locks in {backend.url}")
    return 0


def handle_show(args: argparse.Namespace) -> int:
    backend = _backend(args)
    info = backend.show(args.key)
    if info is None:
        print(f"{args.key}: no lock in {backend.url}")
        return 1
    _print_table([info], f"lock in {backend.url}")
    return 0


def _confirm(question: str) -> bool:
    print(f"{question} [y/N] ", end="", flush=True)
    answer = sys.stdin.readline()  # "" at EOF: a closed stdin never confirms
    return answer.strip().lower() in ("y", "yes")


def handle_break(args: argparse.Namespace) -> int:
    backend = _backend(args)
    info = backend.show(args.key)
    if info is None:
        print(f"{args.key}: no lock in {backend.url}")
        return 1
    if not args.yes and not _confirm(f"Break the lock on {args.key} held by {info.owner}?"):
        print("not broken")
        return 1
    if backend.break_lock(args.key):
        print(f"{args.key}: lock broken (was held by {info.owner})")
        return 0
    print(f"{args.key}: the lock was already free")
    return 0


def handle_init(args: argparse.Namespace) -> int:
    from luigi_fargate.locks.dynamodb import DynamoDBLockBackend

    backend = _backend(args)
    if not isinstance(backend, DynamoDBLockBackend):
        raise UserError(
            f"--lock {backend.url}: `locks init` creates a DynamoDB table; "
            "use --lock dynamodb://TABLE?region=REGION (file and luigid locks need no setup)",
            ExitCode.BAD_INVOCATION,
        )
    if backend.create_table():
        print(f"table {backend.table} created (on-demand billing, TTL attribute purge_at)")
    else:
        print(f"table {backend.table} already exists; TTL attribute purge_at enabled")
    return 0
