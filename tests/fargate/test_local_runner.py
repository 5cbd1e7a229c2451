"""The local operator (issue #18.3, .5, .9): what a failure says, and what the runner is told.

Real operator, real ``luigi-fargate run`` subprocesses, real signals.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException
from hypothesis import given
from hypothesis import strategies as st

from airflow_bridge.operators.local import LuigiLocalOperator
from luigi_fargate.exit_codes import ExitCode, describe
from tests.conftest import base_env, luigi_fargate

EXPORTED_ID = "Announces_2026_11_01_0000000000"


def operator(tmp_path: Path, then: str) -> LuigiLocalOperator:
    return LuigiLocalOperator(
        task_id="announces", luigi_module="tests.fargate.local_tasks", luigi_family="Announces", luigi_label=EXPORTED_ID,
        luigi_args=["--date", "2026-12-03", "--then", then],
        env_vars=base_env(LOCAL_TASKS_DIR=str(tmp_path), LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}"),
    )  # fmt: skip


def context() -> dict[str, Any]:
    ti = types.SimpleNamespace(dag_id="rates", run_id="scheduled__2026-12-03T00:00:00+00:00", task_id="announces",
                               try_number=2, map_index=4)  # fmt: skip
    return {"ti": ti, "task_instance": ti}


def this_runs_id() -> str:
    from tests.fargate.local_tasks import Announces

    return Announces(date=datetime.date(2026, 12, 3)).task_id


def test_a_failure_names_this_runs_luigi_task_id_and_the_runner_gets_airflows_ids(tmp_path: Path) -> None:
    with pytest.raises(AirflowException) as failure:
        operator(tmp_path, "fail").execute(context())
    message = str(failure.value)
    assert message.startswith(f"Luigi task Announces ({this_runs_id()}): exit 5: task failed")
    assert EXPORTED_ID not in message
    assert f"step 1 of {this_runs_id()} done" in message
    assert json.loads((tmp_path / "env.json").read_text()) == {
        "AIRFLOW_CTX_DAG_ID": "rates", "AIRFLOW_CTX_DAG_RUN_ID": "scheduled__2026-12-03T00:00:00+00:00",
        "AIRFLOW_CTX_TASK_ID": "announces", "AIRFLOW_CTX_TRY_NUMBER": "2", "LUIGI_FARGATE_MAP_INDEX": "4",
        "PYTHONUNBUFFERED": "1",
    }  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGSEGV], ids=["SIGKILL", "SIGSEGV"])
def test_a_runner_killed_by_a_signal_is_told_in_words_with_its_last_lines(tmp_path: Path, signum: int) -> None:
    op = operator(tmp_path, "sleep")
    failure: list[BaseException] = []

    def execute() -> None:
        try:
            op.execute(context())
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failure.append(exc)

    worker = threading.Thread(target=execute)
    worker.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "pid").exists():
        assert time.monotonic() < deadline and worker.is_alive(), failure
        time.sleep(0.05)
    os.kill(int((tmp_path / "pid").read_text()), signum)
    worker.join(30)
    (exc,) = failure
    message = str(exc)
    assert isinstance(exc, AirflowException)
    assert f"exit -{signum}: killed by signal {signum} ({signal.Signals(signum).name}: " in message
    if signum == signal.SIGKILL:
        assert "(SIGKILL: likely out of memory or stopped by Airflow)" in message
    head, _, tail = message.partition("\nlast ")
    assert f"step 1 of {this_runs_id()} done" in tail  # printed, not flushed, before the kill
    assert not message.rstrip().endswith("lines:")


def test_in_a_real_airflow_run_the_message_names_the_runs_id_and_the_runner_gets_its_ids(airflow_home: Any, tmp_path: Path) -> None:
    """Exported for 2026-11-01, run for 2026-12-03 by ``airflow dags test``: another Luigi task id."""
    proc = luigi_fargate("export", "tests.fargate.local_tasks.Announces", "--date", "2026-11-01", "--out", str(airflow_home.dags))
    assert proc.returncode == 0, proc.stderr
    run = airflow_home.dags_test("local_tasks_announces", "2026-12-03", LOCAL_TASKS_DIR=str(tmp_path),
                                 LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}")  # fmt: skip
    log = run.stdout + run.stderr
    assert "Luigi task Announces (Announces_2026_12_03_" in log, log[-4000:]
    assert "Announces_2026_11_01_" not in log.split("Luigi task Announces (", 1)[1].splitlines()[0]
    env = json.loads((tmp_path / "env.json").read_text())
    assert env["AIRFLOW_CTX_DAG_ID"] == "local_tasks_announces"
    assert env["AIRFLOW_CTX_DAG_RUN_ID"].startswith("manual__")  # `dags test` names the run after now
    assert env["AIRFLOW_CTX_TASK_ID"] == "Announces"
    assert (env["AIRFLOW_CTX_TRY_NUMBER"], env["LUIGI_FARGATE_MAP_INDEX"]) == ("1", "-1")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is gone for this purpose
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_on_kill_stops_the_runner_and_what_its_task_started(tmp_path: Path) -> None:
    """Airflow's stop reaches the whole process group: a tool the task shelled out to doesn't outlive it."""
    op = operator(tmp_path, "spawn")
    worker = threading.Thread(target=lambda: pytest.raises(AirflowException, op.execute, context()))
    worker.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "child.pid").exists():
        assert time.monotonic() < deadline and worker.is_alive()
        time.sleep(0.05)
    runner, child = int((tmp_path / "pid").read_text()), int((tmp_path / "child.pid").read_text())
    op.on_kill()
    worker.join(30)
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(runner)
    assert not alive(child), "the task's child outlived on_kill"


SIGNALS = sorted(set(range(1, 65)) - {s for s in range(1, 65) if 128 + s == ExitCode.TERMINATED})


@given(st.sampled_from(SIGNALS), st.sampled_from(["subprocess", "shell"]))
def test_every_signal_exit_is_told_as_a_kill(signum: int, how: str) -> None:
    code = -signum if how == "subprocess" else 128 + signum
    words = describe(code)
    assert words.startswith(f"exit {code}: killed by signal {signum}")
    try:
        name = signal.Signals(signum).name
    except ValueError:
        return
    assert f"({name}: " in words


def test_143_keeps_the_runners_own_meaning() -> None:
    assert describe(143) == "exit 143: terminated by SIGTERM (stopped, Spot interruption or timeout)"
