"""The installed wheel run the way the task image runs it: the entrypoint, the allowlist folder, PID 1."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from airflow_bridge.operators.local import STOP_TIMEOUT  # Fargate's default stopTimeout too
from luigi_fargate.exit_codes import ExitCode

CASES = {
    # name: (container command, exit code, task bodies that ran, a line the output must show)
    "runs an allowlisted task": (["image_tasks", "ImageOk", "--name", "a"], ExitCode.DONE, ["run ImageOk a"], "succeeded"),
    "bad parameter": (["image_tasks", "ImageOk", "--no-such-param", "x"], ExitCode.BAD_INVOCATION, [], "no-such-param"),
    "family not exported": (["image_tasks", "ImageNotExported"], ExitCode.NOT_ALLOWED, [], "not in the allowlist"),
    "upstream incomplete": (["image_tasks", "ImageNeedsMissing"], ExitCode.UPSTREAM_INCOMPLETE, [], "ImageMissing"),
    "task fails": (["image_tasks", "ImageFails"], ExitCode.TASK_FAILED, ["run ImageFails"], "task failed"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_entrypoint_exits_with_the_runners_codes(image, case):
    args, code, bodies, says = CASES[case]
    proc = image.run(*args)
    assert proc.returncode == code, proc.stderr
    assert [line.rsplit(" ", 1)[0] for line in image.ledger_lines()] == bodies
    assert says in proc.stderr
    if code != ExitCode.TASK_FAILED:  # a failing task's own traceback is shown; the runner's never is
        assert "Traceback" not in proc.stderr


def test_a_complete_task_is_not_run_again(image):
    assert image.run("image_tasks", "ImageOk", "--name", "b").returncode == 0
    again = image.run("image_tasks", "ImageOk", "--name", "b")
    assert again.returncode == 0, again.stderr
    assert "already complete" in again.stderr
    assert image.ledger_lines()[0].startswith("run ImageOk b") and len(image.ledger_lines()) == 1


def test_a_module_outside_the_allowlist_is_refused_before_it_is_imported(image):
    proc = image.run("image_intruder", "Anything")
    assert proc.returncode == ExitCode.NOT_ALLOWED, proc.stderr
    assert not image.import_marker.exists()


def test_path_and_the_working_directory_cannot_redirect_the_entrypoint(image, tmp_path: Path):
    """The entrypoint execs the absolute interpreter baked in at build time, with -P."""
    decoy = tmp_path / "decoy-bin"
    decoy.mkdir()
    hijacked = tmp_path / "hijacked"
    for name in ("luigi-fargate", "python", "python3", "python3.11", "env"):
        fake = decoy / name
        fake.write_text(f"#!/bin/sh\necho {name} >> {hijacked}\nexit 0\n")
        fake.chmod(0o755)
    workdir = tmp_path / "workdir"  # a luigi_fargate package in the working directory
    (workdir / "luigi_fargate").mkdir(parents=True)
    (workdir / "luigi_fargate" / "__init__.py").write_text(f"open({str(hijacked)!r}, 'a').write('cwd package\\n')\n")

    for path in (str(decoy), f"{decoy}:/usr/bin:/bin"):
        proc = subprocess.run(
            [str(image.entrypoint), "image_tasks", "ImageOk", "--name", "p"], env=image.env(PATH=path),
            cwd=workdir, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    assert not hijacked.exists(), hijacked.read_text()
    assert [line.rsplit(" ", 1)[0] for line in image.ledger_lines()] == ["run ImageOk p"]  # then already complete


def _unshare_argv() -> list[str]:
    user_ns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", *user_ns, "--fork", "--pid", "--mount-proc"]


def _wait_for(what: str, check, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)


def test_sigterm_to_the_entrypoint_as_pid_1_exits_143_releases_the_lock_and_publishes_nothing(image, installed_luigid):
    """As `docker stop` / a Fargate stop does: SIGTERM to the container's PID 1 from outside."""
    lock = installed_luigid
    container = subprocess.Popen(
        [*_unshare_argv(), str(image.entrypoint), "--lock", lock, "image_tasks", "ImageSlow"],
        env=image.env(), cwd=image.installed.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for("ImageSlow's run() started", lambda: "run ImageSlow 1" in image.ledger_lines() or container.poll() is not None)
        assert "run ImageSlow 1" in image.ledger_lines(), container.communicate()  # pid 1 of its namespace
        (task_id,) = {e["task_id"] for e in image.events_of("start")}
        held = image.installed.run("luigi-fargate", "locks", "show", task_id, "--lock", lock)
        assert held.returncode == 0, held.stdout + held.stderr  # the runner holds the lease

        (pid1,) = psutil.Process(container.pid).children()
        stopped_at = time.monotonic()
        os.kill(pid1.pid, signal.SIGTERM)
        code = container.wait(STOP_TIMEOUT + 30)
        elapsed = time.monotonic() - stopped_at
        stderr = container.stderr.read()
    finally:
        if container.poll() is None:
            for p in psutil.Process(container.pid).children():
                p.kill()  # PID 1 of the namespace: the kernel ends all of it
            container.kill()
            container.wait(30)

    assert code == ExitCode.TERMINATED, stderr
    assert elapsed < STOP_TIMEOUT, f"exited {elapsed:.1f} s after SIGTERM"
    assert image.ledger_lines()[-1] == "cleanup ImageSlow 1"  # the task's own finally block ran
    assert not (image.data / "slow.txt").exists()  # the atomic output was never published
    assert image.events_of("terminated"), stderr
    free = image.installed.run("luigi-fargate", "locks", "show", task_id, "--lock", lock)
    assert free.returncode == 1 and "no lock" in free.stdout, free.stdout + free.stderr

    # Same task id (the duration is not significant): the next container takes the lock and finishes it.
    again = image.run("--lock", lock, "image_tasks", "ImageSlow", "--seconds", "0", timeout=60)
    assert again.returncode == 0, again.stderr
    assert (image.data / "slow.txt").read_text() == "partial"


def test_sigterm_as_pid_1_before_the_task_runs_exits_143_at_once(image):
    """PID 1 has no default action for SIGTERM: the runner handles it from its first step, not only around run()."""
    container = subprocess.Popen(
        [*_unshare_argv(), str(image.entrypoint), "image_tasks", "ImageSlowCheck"],
        env=image.env(), cwd=image.installed.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _wait_for("complete() started", lambda: "checking ImageSlowCheck 1" in image.ledger_lines() or container.poll() is not None)
        assert "checking ImageSlowCheck 1" in image.ledger_lines(), container.communicate()
        (pid1,) = psutil.Process(container.pid).children()
        stopped_at = time.monotonic()
        os.kill(pid1.pid, signal.SIGTERM)
        code = container.wait(STOP_TIMEOUT + 30)
        elapsed = time.monotonic() - stopped_at
    finally:
        if container.poll() is None:
            for p in psutil.Process(container.pid).children():
                p.kill()
            container.kill()
            container.wait(30)
    assert code == ExitCode.TERMINATED
    assert elapsed < 10, f"exited {elapsed:.1f} s after SIGTERM"
    assert "run ImageSlowCheck 1" not in image.ledger_lines()


def test_the_packaged_template_refuses_to_run_until_installed(installed):
    template = installed.run("luigi-fargate", "entrypoint-path").stdout.strip()
    assert Path(template).is_relative_to(installed.venv)
    proc = installed.run("/bin/sh", template, "image_tasks", "ImageOk")
    assert proc.returncode == ExitCode.BAD_INVOCATION
    assert "luigi-fargate entrypoint-path --install DEST" in proc.stderr
