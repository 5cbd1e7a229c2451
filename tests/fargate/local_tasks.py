"""Luigi tasks for the local operator's tests: they say who they are, record what the runner got, then fail or wait.

``Announces`` writes the runner's task event itself (the runner may do it first: the
operator keeps the first one; both name this task's id), its environment's Airflow
context to ``$LOCAL_TASKS_DIR/env.json``, a line a failure message must quote, then
fails or sleeps until killed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import luigi

from luigi_fargate.shim.events import EventLog
from luigi_fargate.spec.runner_log import AIRFLOW_CONTEXT_ENV, MAP_INDEX_ENV, TASK_EVENT

DIR = Path(os.environ.get("LOCAL_TASKS_DIR", "local-tasks"))


class Announces(luigi.Task):
    date = luigi.DateParameter()
    then = luigi.ChoiceParameter(choices=["fail", "sleep", "spawn"], default="fail", significant=False)

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(str(DIR / f"announces-{self.date}.txt"))

    def run(self) -> None:
        EventLog(stream=sys.stdout).emit(TASK_EVENT, task_id=self.task_id, family=self.task_family)
        names = [*AIRFLOW_CONTEXT_ENV.values(), MAP_INDEX_ENV, "PYTHONUNBUFFERED"]
        (DIR / "env.json").write_text(json.dumps({n: os.environ.get(n) for n in names}))
        print(f"step 1 of {self.task_id} done", flush=False)  # unflushed on purpose: the operator asks for unbuffered
        (DIR / "pid").write_text(str(os.getpid()))
        if self.then == "fail":
            raise RuntimeError("the rates feed is down")
        if self.then == "spawn":  # a child of its own (a tool the task shells out to)
            import subprocess

            child = subprocess.Popen(["sleep", "300"])
            (DIR / "child.pid").write_text(str(child.pid))
        time.sleep(120)
