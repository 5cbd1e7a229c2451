"""Airflow's local operator reports every runner exit code in words (real operator, real subprocess)."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_bridge.operators.local import LuigiLocalOperator

CASES = [
    # family, args, exception type, words the user sees
    ("NeedsMissing", [], AirflowException, "upstream incomplete"),
    ("Fails", [], AirflowException, "task failed"),
    ("NoOutput", [], AirflowException, "outputs are incomplete"),
    ("Child", ["--n", "x"], AirflowFailException, "bad invocation"),
    ("NoSuchTask", [], AirflowFailException, "not allowed or not found"),
]


def _operator(shim, family, args, **kw):
    return LuigiLocalOperator(
        task_id=f"t_{family}", luigi_module="shim_tasks", luigi_family=family, luigi_args=args,
        env_vars=shim.env(), **kw,
    )  # fmt: skip


@pytest.mark.parametrize(("family", "args", "exc", "words"), CASES)
def test_failures_are_reported_in_words(shim, family, args, exc, words):
    with pytest.raises(exc) as info:
        _operator(shim, family, args).execute({})
    assert words in str(info.value)
    assert family in str(info.value)


def test_success_and_already_complete_pass(shim):
    _operator(shim, "Ok", ["--name", "w"]).execute({})
    _operator(shim, "Ok", ["--name", "w"]).execute({})
    assert shim.lines().count("run Ok w") == 1


def test_lock_held_is_reported_in_words(shim):
    import subprocess
    import time

    from tests.conftest import BIN

    holder = subprocess.Popen(
        [str(BIN / "luigi-fargate"), "run", "--allow-any", "shim_tasks", "Slow", "--seconds", "30"], env=shim.env()
    )
    try:
        while "run Slow" not in shim.lines():
            time.sleep(0.05)
        op = _operator(shim, "Slow", ["--seconds", "30"], runner_options=["--on-locked", "fail"])
        with pytest.raises(AirflowException, match="lock not acquired"):
            op.execute({})
    finally:
        holder.kill()
        holder.wait()
