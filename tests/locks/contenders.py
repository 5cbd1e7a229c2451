"""Start many ``luigi-fargate run`` contenders at once, cheaply: fork them from a warm interpreter.

Starting the console script costs ~0.5 s of CPU per process (importing Luigi
and boto3); hundreds of contenders would take minutes on two cores. This
launcher imports once, then forks one real process per contender, each
running the CLI's own ``main(argv)`` with its own pid, signals, lock and
exit code, exactly as the console script would after its imports. Forking
also starts a round's contenders within milliseconds of each other, which is
a harsher race than processes that trickle in.

Usage: ``python contenders.py JOBS.json`` where the file holds
``[{"id": "...", "argv": [...], "log": "path"}, ...]``. Prints one JSON object
``{id: exit code}``; a contender killed by a signal reports ``-signum``.
Forks at most ``LOCK_CONTENDERS_PARALLEL`` (default: all) at a time.
"""

from __future__ import annotations

import json
import os
import sys


def _warm_imports() -> None:
    import boto3  # noqa: F401
    import botocore.client  # noqa: F401
    import luigi  # noqa: F401
    import luigi.rpc  # noqa: F401
    import luigi.scheduler  # noqa: F401
    import luigi.worker  # noqa: F401
    import rich.table  # noqa: F401

    import luigi_fargate.cli  # noqa: F401
    import luigi_fargate.locks.dynamodb  # noqa: F401
    import luigi_fargate.locks.file  # noqa: F401
    import luigi_fargate.locks.luigid  # noqa: F401
    import luigi_fargate.shim.runner  # noqa: F401

    # Loads botocore's DynamoDB model into boto3's default session, which the children inherit.
    boto3.client("dynamodb", region_name="us-east-1")


def _child(argv: list[str], log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    code = 70
    try:
        from luigi_fargate.cli import main

        code = main(argv)
    except BaseException as exc:  # noqa: BLE001 - report, never return into the launcher's loop
        print(f"contender crashed: {exc!r}", file=sys.stderr)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    jobs = json.loads(open(sys.argv[1]).read())
    parallel = int(os.environ.get("LOCK_CONTENDERS_PARALLEL", "0")) or len(jobs)
    _warm_imports()
    running: dict[int, str] = {}
    results: dict[str, int] = {}

    def reap_one() -> None:
        pid, status = os.wait()
        results[running.pop(pid)] = os.waitstatus_to_exitcode(status)

    for job in jobs:
        while len(running) >= parallel:
            reap_one()
        pid = os.fork()
        if pid == 0:
            _child(job["argv"], job["log"])
        running[pid] = job["id"]
    while running:
        reap_one()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
