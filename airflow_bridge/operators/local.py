"""The local runner: each Airflow task runs ``luigi-fargate run`` in a subprocess on the worker.

It is the embedded default and runs the very command a Fargate container
gets, so a pipeline behaves the same on a laptop and on ECS.

The runner gets its own session (``on_kill`` signals the whole group), so
nothing ties it to the Airflow task process: when that process dies
(SIGKILL, the OOM killer), a runner would go on and write its outputs after
Airflow marked the task failed, where no ``on_kill`` can reach it. On Linux
the runner is therefore started through :data:`PARENT_GUARD`, which asks the
kernel for SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``), checks
that the parent is still the Airflow task process (the death may come before
the request), and execs the runner: same pid, no extra process. SIGTERM, not
SIGKILL, so the runner's own stop handling runs: the task's cleanup, the lock
released at once (the runner's watchdog ends it 25 s later whatever happens).
The request is made in the child after fork, not in ``preexec_fn``, which is
unsafe in a process with threads (Airflow's task process has some).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from airflow_bridge.operators.base import LuigiTaskMixin, airflow_context_env
from airflow_bridge.operators.outcome import raise_for_exit_code
from luigi_fargate.spec import LocalRunner, PipelineSpec, TaskNode
from luigi_fargate.spec.params import runner_argv, templated_tokens

#: Seconds between SIGTERM and SIGKILL when Airflow stops the task (Fargate's default too).
STOP_TIMEOUT = 30
#: Runner log lines kept for a failure message.
TAIL_LINES = 20

#: ``python -c PARENT_GUARD PARENT_PID ARGV...``: die with the parent (see the module docstring), then exec ARGV.
PARENT_GUARD = """
import ctypes, os, signal, sys
PR_SET_PDEATHSIG = 1
try:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(143)
os.execv(sys.argv[2], sys.argv[2:])
"""


def guarded(cmd: list[str]) -> list[str]:
    """``cmd`` started so that it receives SIGTERM when this process dies (Linux; elsewhere ``cmd`` as is)."""
    if not sys.platform.startswith("linux"):
        return cmd
    # -I: the guard imports only the standard library, never a module from the working directory or PYTHONPATH.
    return [sys.executable, "-I", "-c", PARENT_GUARD, str(os.getpid()), *cmd]


def runner_command(module: str, family: str, args: list[str], allow: str | None, options: list[str]) -> list[str]:
    """``luigi-fargate run`` for one Luigi task, with this worker's Python, as an argv list."""
    access = ["--allow", allow] if allow else ["--allow-any"]
    return [sys.executable, "-m", "luigi_fargate", "run", *runner_argv([*access, *options], module, family, args)]


class LuigiLocalOperator(LuigiTaskMixin, BaseOperator):
    """Run one Luigi task through the luigi-fargate runner in a local subprocess.

    :param luigi_args: Luigi command-line parameters (templated: run dates)
    :param allow: spec file the runner checks the family against
    :param env_vars: extra environment for the subprocess (templated)
    :param cwd: working directory of the subprocess (default: the worker's)
    """

    template_fields: Sequence[str] = ("luigi_args", "env_vars")
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        luigi_args: list[str],
        allow: str | None = None,
        env_vars: dict[str, str] | None = None,
        cwd: str | None = None,
        runner_options: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.luigi_args = list(luigi_args)
        self.allow = allow
        self.env_vars = dict(env_vars or {})
        self.cwd = cwd
        self.runner_options = list(runner_options or [])
        self._proc: subprocess.Popen[str] | None = None

    def command(self) -> list[str]:
        return runner_command(self.luigi_module, self.luigi_family, self.luigi_args, self.allow, self.runner_options)

    def execute(self, context: Any) -> None:
        cmd = self.command()
        self.log.info("running: %s", subprocess.list2cmdline(cmd))
        # Unbuffered: a runner killed by a signal has written every line it printed, for the message.
        env = {**os.environ, **airflow_context_env(context), **self.env_vars, "PYTHONUNBUFFERED": "1"}
        tail: list[str] = []
        self._proc = subprocess.Popen(  # argv list, never a shell
            guarded(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=self.cwd,
            start_new_session=True,
        )  # fmt: skip
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            self.log.info("%s", line)
            if self.note_runner_line(line):
                self.log.info("Luigi task id of this run: %s", self.run_task_id)
            tail = (tail + [line])[-TAIL_LINES:]
        code = self._proc.wait()
        detail = f"last {len(tail)} lines:\n" + "\n".join(tail) if code and tail else ""
        raise_for_exit_code(code, self.luigi_task_words, detail)

    def on_kill(self) -> None:
        """SIGTERM to the runner's whole process group (what its task started too), SIGKILL after STOP_TIMEOUT."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)


def _signal_group(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
    """The runner leads its own session (start_new_session), so its group id is its pid."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def make_local_task(*, node: TaskNode, spec: PipelineSpec, spec_path: str, dag: Any) -> BaseOperator:
    from airflow_bridge.operators.task_arguments import runner_env, task_arguments

    cwd = spec.runner.cwd if isinstance(spec.runner, LocalRunner) else None  # a crontab job's `cd DIR &&`
    return LuigiLocalOperator(
        task_id=node.id,
        luigi_module=node.module,
        luigi_family=node.family,
        luigi_label=node.task_id,
        luigi_args=templated_tokens(node.params),
        allow=spec_path,
        env_vars=runner_env(node, spec),
        cwd=cwd,
        dag=dag,
        **task_arguments(node),
    )
