"""Run many ``luigi-fargate run`` invocations fast: one process with Luigi loaded forks one child per case.

A fresh ``python -m luigi_fargate`` costs ~0.4 s, mostly imports. This
server imports Luigi and luigi-fargate once (never a fixture module), then
for each case read from stdin (one JSON line: argv after ``run``, environment
changes, a working folder) forks a child that calls the CLI's ``main()`` the
way ``python -m luigi_fargate`` does, with stdout and stderr in
``<dir>/output.txt``. The child reports which watched modules it ended up
with in ``sys.modules``; the server answers one JSON line with the exit code
(from ``waitpid``), that list, and whether the case timed out.

Used by tests/security/conftest.py; tests/security/test_fork_server.py checks
that its verdicts agree with real subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import traceback

#: Modules a child must report if it has them: the marker (never allowed) and the allowlisted fixtures.
WATCHED = ("sec_marker", "sec_tasks", "sec_import_raises")


class CaseTimeout(Exception):
    pass


def _preload() -> None:
    import luigi.cmdline_parser  # noqa: F401
    import luigi.configuration
    import luigi.scheduler
    import luigi.worker
    import networkx  # noqa: F401

    import luigi_fargate.cli
    import luigi_fargate.cli.run  # noqa: F401
    import luigi_fargate.introspect.graph  # noqa: F401
    import luigi_fargate.locks.file  # noqa: F401
    import luigi_fargate.shim.execution  # noqa: F401
    import luigi_fargate.shim.luigi_worker  # noqa: F401
    import luigi_fargate.shim.rebuild  # noqa: F401
    import luigi_fargate.shim.runner  # noqa: F401

    luigi.configuration.get_config()
    luigi_fargate.cli._build_parser()  # imports every subcommand's module
    # A Worker imports more on construction (multiprocessing queues, getpass); not entered: no threads to fork.
    luigi.worker.Worker(scheduler=luigi.scheduler.Scheduler(), no_install_shutdown_handler=True)
    assert threading.active_count() == 1, "the fork server must not fork with threads running"
    loaded = [m for m in WATCHED if m in sys.modules]
    assert not loaded, f"the fork server must not import {loaded}"


def _child(case: dict) -> None:
    """In the forked child: run one case and leave with its exit code."""
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    code = 1
    try:
        os.chdir(case["dir"])
        for key, value in case["env"].items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        out = os.open(os.path.join(case["dir"], "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, 1)
        os.dup2(out, 2)
        from luigi_fargate.cli import main

        try:
            # What `python -m luigi_fargate run ...` does: raise SystemExit(main()).
            code = main(["run", *case["argv"]])
        except SystemExit as exc:
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        except KeyboardInterrupt:
            code = 130
        except BaseException:  # noqa: BLE001 - what the interpreter would print before exiting 1
            traceback.print_exc()
            code = 1
        with open(os.path.join(case["dir"], "child.json"), "w", encoding="utf-8") as fh:
            json.dump({"modules": [m for m in WATCHED if m in sys.modules]}, fh)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(int(code) & 0xFF)


def _on_alarm(signum, frame):
    raise CaseTimeout()


def _run(case: dict) -> dict:
    pid = os.fork()
    if pid == 0:
        _child(case)
    signal.setitimer(signal.ITIMER_REAL, float(case.get("timeout", 30)))
    try:
        _, status = os.waitpid(pid, 0)
    except CaseTimeout:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return {"code": None, "timeout": True, "modules": None}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        with open(os.path.join(case["dir"], "child.json"), encoding="utf-8") as fh:
            modules = json.load(fh)["modules"]
    except (OSError, ValueError):
        modules = None  # the child died before it could say
    code = os.waitstatus_to_exitcode(status)
    return {"code": code, "timeout": False, "modules": modules}


def main() -> None:
    _preload()
    signal.signal(signal.SIGALRM, _on_alarm)
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        print(json.dumps(_run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
