"""One host: the same task never runs twice at once; SIGTERM and SIGKILL leave nothing stuck."""

from __future__ import annotations

import signal
import subprocess
import time

from tests.conftest import BIN


def _start(shim, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "luigi-fargate"), "run", "--allow-any", "--lock-poll", "0.1", *args],
        env=shim.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(shim, line: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while line not in shim.lines():
        assert time.monotonic() < deadline, f"{line!r} never appeared; ledger: {shim.lines()}"
        time.sleep(0.05)


def test_two_concurrent_runs_execute_the_body_once_and_both_exit_0(shim):
    runners = [_start(shim, "shim_tasks", "Ok", "--name", "twice", "--sleep", "1.5") for _ in range(2)]
    codes = [r.wait(60) for r in runners]
    errs = [r.stderr.read() for r in runners]
    assert codes == [0, 0], errs
    assert shim.lines().count("run Ok twice") == 1
    # The one that waited says so, and that it found the task done.
    assert any("completed by another runner" in e for e in errs), errs


def test_sigterm_stops_the_task_runs_its_cleanup_releases_the_lock_and_exits_143(shim):
    runner = _start(shim, "shim_tasks", "Slow", "--seconds", "60")
    _wait_for(shim, "run Slow")
    started = time.monotonic()
    runner.send_signal(signal.SIGTERM)
    code = runner.wait(30)
    assert code == 143, runner.stderr.read()
    assert time.monotonic() - started < 30  # within Fargate's stop timeout
    assert "cleanup Slow" in shim.lines()  # the task's own finally block ran
    assert "event FAILURE Slow" in shim.lines()
    assert not (shim.data / "slow.txt").exists()  # the atomic output was never published
    # The lock is free: a new runner that refuses to wait gets it at once.
    again = subprocess.run(
        [str(BIN / "luigi-fargate"), "run", "--allow-any", "--on-locked", "fail", "shim_tasks", "Slow", "--seconds", "0"],
        env=shim.env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert shim.lines().count("run Slow") == 2


def test_sigkill_leaves_no_lock_behind(shim):
    runner = _start(shim, "shim_tasks", "Slow", "--seconds", "60")
    _wait_for(shim, "run Slow")
    runner.send_signal(signal.SIGKILL)
    assert runner.wait(30) == -signal.SIGKILL
    assert not (shim.data / "slow.txt").exists()
    again = subprocess.run(
        [str(BIN / "luigi-fargate"), "run", "--allow-any", "--on-locked", "fail", "shim_tasks", "Slow", "--seconds", "0"],
        env=shim.env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (shim.data / "slow.txt").read_text() == "partial"


def test_a_holder_whose_file_lock_is_broken_stops_with_exit_7(shim):
    """`locks break` replaces the lock file; the holder notices within a renewal and stops."""
    from tests.conftest import luigi_fargate

    runner = _start(shim, "shim_tasks", "Slow", "--seconds", "60")
    _wait_for(shim, "run Slow")
    from luigi.task import task_id_str

    task_id = task_id_str("Slow", {})
    broke = luigi_fargate("locks", "break", task_id, "--yes", "--lock", f"file://{shim.locks}")
    assert broke.returncode == 0, broke.stderr
    assert runner.wait(30) == 7
    assert "lock file" in runner.stderr.read()
    assert not (shim.data / "slow.txt").exists()
