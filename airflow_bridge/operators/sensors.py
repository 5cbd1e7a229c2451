"""Completeness sensors: wait until a Luigi task's outputs exist, never run it.

Used for Luigi ExternalTasks (data other systems produce), disabled tasks,
and upstream tasks left out of a partial export (still run by cron). Each
poke runs ``luigi-fargate run --check-complete`` in a subprocess on the
worker: it rebuilds the task and calls ``complete()`` only (exit 0 complete,
4 not yet), takes no lock and runs nothing. The sensor runs in reschedule
mode, so a long wait holds no worker slot.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseSensorOperator

from airflow_bridge.operators.base import LuigiTaskMixin
from airflow_bridge.operators.local import runner_command
from airflow_bridge.operators.outcome import raise_for_exit_code
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.spec import PipelineSpec, TaskNode
from luigi_fargate.spec.params import templated_tokens

#: Defaults, overridable per node with settings sensor_poke_interval_seconds / sensor_timeout_seconds.
POKE_INTERVAL = 300.0
TIMEOUT = 24 * 3600.0


class LuigiCompletenessSensor(LuigiTaskMixin, BaseSensorOperator):
    """Succeed once a Luigi task is complete; fail after ``timeout``.

    :param luigi_args: Luigi command-line parameters (templated: run dates)
    :param allow: spec file the runner checks the family against
    :param env_vars: extra environment for the check (templated)
    """

    template_fields: Sequence[str] = ("luigi_args", "env_vars")
    ui_color = "#f5f0e1"

    def __init__(
        self,
        *,
        luigi_args: list[str],
        allow: str | None = None,
        env_vars: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("mode", "reschedule")
        super().__init__(**kwargs)
        self.luigi_args = list(luigi_args)
        self.allow = allow
        self.env_vars = dict(env_vars or {})

    def command(self) -> list[str]:
        return runner_command(self.luigi_module, self.luigi_family, self.luigi_args, self.allow, ["--check-complete"])

    def poke(self, context: Any) -> bool:
        proc = subprocess.run(  # argv list, never a shell
            self.command(), env={**os.environ, **self.env_vars}, capture_output=True, text=True, check=False
        )
        for line in (proc.stdout + proc.stderr).splitlines():
            self.log.info("%s", line)
        if proc.returncode == ExitCode.UPSTREAM_INCOMPLETE:
            return False
        raise_for_exit_code(proc.returncode, self.luigi_task_words, proc.stderr[-2000:])
        return True


def make_completeness_sensor(*, node: TaskNode, spec: PipelineSpec, spec_path: str, dag: Any, env: dict[str, str]) -> BaseSensorOperator:
    from airflow_bridge.operators.task_arguments import task_arguments

    s = node.settings
    kwargs = task_arguments(node)
    kwargs.pop("retries", None)  # a sensor's patience is its timeout, not retries
    return LuigiCompletenessSensor(
        task_id=node.id,
        luigi_module=node.module,
        luigi_family=node.family,
        luigi_label=node.task_id,
        luigi_args=templated_tokens(node.params),
        allow=spec_path,
        env_vars=env,
        poke_interval=s.sensor_poke_interval_seconds or POKE_INTERVAL,
        timeout=dt.timedelta(seconds=s.sensor_timeout_seconds or TIMEOUT),
        dag=dag,
        **kwargs,
    )
