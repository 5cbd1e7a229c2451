"""Every exit code of ``luigi-fargate run``, with real Luigi tasks in real subprocesses."""

from __future__ import annotations

import json


def test_runs_the_task_through_luigis_worker_and_exits_0(shim):
    proc = shim.run("--allow-any", "shim_tasks", "Ok", "--name", "a")
    assert proc.returncode == 0, proc.stderr
    assert (shim.data / "a.txt").read_text() == "done\n"
    # Luigi's own event handlers fired in the runner's process, around one run() body.
    assert shim.lines() == ["event START Ok", "run Ok a", "event PROCESSING_TIME Ok", "event SUCCESS Ok"]
    assert "done" in proc.stderr


def test_already_complete_runs_nothing_and_exits_0(shim):
    (shim.data / "a.txt").write_text("from an earlier run\n")
    proc = shim.run("--allow-any", "shim_tasks", "Ok", "--name", "a")
    assert proc.returncode == 0
    assert "already complete" in proc.stderr
    assert shim.lines() == []
    assert (shim.data / "a.txt").read_text() == "from an earlier run\n"


def test_incomplete_dependency_exits_4_naming_it_and_runs_nothing(shim):
    proc = shim.run("--allow-any", "shim_tasks", "NeedsMissing")
    assert proc.returncode == 4, proc.stderr
    # Both missing dependencies are named, with their missing outputs; the
    # incomplete upstream Ok(present-dep) was NOT run implicitly.
    assert "Missing__99914b932b" in proc.stderr and "never-there.txt" in proc.stderr
    assert "Ok_present_dep" in proc.stderr
    assert shim.lines() == []


def test_failing_task_exits_5_and_fires_failure(shim):
    proc = shim.run("--allow-any", "shim_tasks", "Fails")
    assert proc.returncode == 5
    assert "the ledger does not balance" in proc.stderr
    assert shim.lines() == ["event START Fails", "run Fails", "event FAILURE Fails"]


def test_outputs_missing_after_run_exits_6(shim):
    proc = shim.run("--allow-any", "shim_tasks", "NoOutput")
    assert proc.returncode == 6
    assert "no-output.txt" in proc.stderr
    assert "run NoOutput" in shim.lines()


def test_bad_parameter_value_exits_2_in_one_line(shim):
    proc = shim.run("--allow-any", "shim_tasks", "Child", "--n", "not-a-number")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "not-a-number" in proc.stderr
    assert shim.lines() == []


def test_unknown_family_exits_3(shim):
    proc = shim.run("--allow-any", "shim_tasks", "NoSuchTask")
    assert proc.returncode == 3
    assert "NoSuchTask" in proc.stderr and "Traceback" not in proc.stderr


def test_lock_held_with_on_locked_fail_exits_7(shim):
    import subprocess
    import time

    from tests.conftest import BIN

    holder = subprocess.Popen(
        [str(BIN / "luigi-fargate"), "run", "--allow-any", "shim_tasks", "Slow", "--seconds", "30"],
        env=shim.env(), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "run Slow" not in shim.lines() and time.monotonic() < deadline:
            time.sleep(0.1)
        proc = shim.run("--allow-any", "--on-locked", "fail", "shim_tasks", "Slow", "--seconds", "30")
        assert proc.returncode == 7
        assert "held" in proc.stderr
        assert shim.lines().count("run Slow") == 1
    finally:
        holder.kill()
        holder.wait()


def test_dynamic_dependencies_run_in_the_same_process(shim):
    proc = shim.run("--allow-any", "shim_tasks", "Dynamic")
    assert proc.returncode == 0, proc.stderr
    bodies = [line for line in shim.lines() if line.startswith("run ")]
    # run() restarts after its yielded children completed, all in this one runner.
    assert bodies == ["run Dynamic", "run Child 1", "run Child 2", "run Dynamic"]
    assert (shim.data / "dynamic.txt").exists()


def test_json_log_lines_carry_task_id_family_event_and_duration(shim):
    proc = shim.run("--allow-any", "--log-format", "json", "shim_tasks", "Ok", "--name", "j")
    assert proc.returncode == 0
    events = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events] == ["task", "start", "done", "usage"]
    done = events[2]
    assert done["family"] == "Ok" and done["task_id"].startswith("Ok_j_") and done["duration"] >= 0
