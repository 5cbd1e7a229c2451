"""The local runner: each Airflow task runs ``luigi-fargate run`` in a subprocess on the worker.

It is the embedded default and runs the very command a Fargate container
gets, so a pipeline behaves the same on a laptop and on ECS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from airflow_bridge.operators.base import LuigiTaskMixin
from airflow_bridge.operators.outcome import raise_for_exit_code
from luigi_fargate.spec import LocalRunner, PipelineSpec, TaskNode
from luigi_fargate.spec.params import runner_argv, templated_tokens

#: Seconds between SIGTERM and SIGKILL when Airflow stops the task (Fargate's default too).
STOP_TIMEOUT = 30


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
        env = {**os.environ, **self.env_vars}
        tail: list[str] = []
        self._proc = subprocess.Popen(  # argv list, never a shell
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=self.cwd,
            start_new_session=True,
        )  # fmt: skip
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            self.log.info("%s", line)
            tail = (tail + [line])[-20:]
        code = self._proc.wait()
        raise_for_exit_code(code, self.luigi_task_words, "last lines:\n" + "\n".join(tail) if code else "")

    def on_kill(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()


def make_local_task(*, node: TaskNode, spec: PipelineSpec, spec_path: str, dag: Any) -> BaseOperator:
    from airflow_bridge.operators.task_arguments import runner_env, task_arguments

    cwd = spec.runner.cwd if isinstance(spec.runner, LocalRunner) else None  # a crontab job's `cd DIR &&`
    return LuigiLocalOperator(
        task_id=node.id,
        task_display_name=node.task_id,
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
