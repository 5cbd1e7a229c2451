"""The usage event against the truth: real runner processes holding known memory and burning known CPU.

The truth is what the task did (MiB held, CPU seconds burnt, in the runner's
process or a child) and the CPU and wall time the kernel reported for the
whole process tree once it exited (``os.wait4``), measured from outside.
The kernel's peak RSS of a process is no truth: it is carried across
``execve`` from whatever started it (here pytest, in Airflow the task process).
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from luigi_fargate.spec.runner_log import SIZE_CPU_ENV, SIZE_MEMORY_ENV, USAGE_EVENT, USAGE_FIELDS
from tests.conftest import BIN, base_env, installed_entrypoint

MODULE = "tests.shim.runner_tasks"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    (tmp_path / "data").mkdir(exist_ok=True)
    return base_env(
        RUNNER_TASKS_DATA=str(tmp_path / "data"), RUNNER_TASKS_LEDGER=str(tmp_path / "ledger.txt"),
        LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}", LUIGI_FARGATE_EVENTS_FILE=str(tmp_path / "events.jsonl"),
        **extra,
    )  # fmt: skip


def _events(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _usage(tmp_path: Path) -> list[dict[str, Any]]:
    return [e for e in _events(tmp_path) if e["event"] == USAGE_EVENT]


def _measured_run(tmp_path: Path, *params: str, command: tuple[str, ...] = (), **env: str) -> tuple[dict[str, Any], dict[str, float]]:
    """(the run's usage event, the kernel's figures for the whole process from outside)."""
    before = len(_usage(tmp_path))
    started = time.perf_counter()
    proc = subprocess.Popen([*(command or (str(BIN / "luigi-fargate"), "run")), "--allow-any", MODULE, "Uses", *params],
                            env=_env(tmp_path, **env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    _, status, rusage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    usage = _usage(tmp_path)
    assert len(usage) == before + 1
    truth = {"cpu_s": rusage.ru_utime + rusage.ru_stime, "wall_s": wall}
    return usage[-1], truth


def _within(value: float, truth: float, share: float = 0.10) -> bool:
    return abs(value - truth) <= share * truth


def test_usage_events_are_within_10_percent_of_what_the_task_used(tmp_path: Path) -> None:
    """Memory and CPU apart (touching 300 MiB costs CPU too), each in the runner's process and in a child."""
    base, _ = _measured_run(tmp_path, "--name", "idle")
    runs = {
        "own_mb": _measured_run(tmp_path, "--name", "a", "--mb", "300"),
        "own_cpu": _measured_run(tmp_path, "--name", "b", "--cpu", "1.5"),
        "child_mb": _measured_run(tmp_path, "--name", "c", "--child-mb", "400"),
        "child_cpu": _measured_run(tmp_path, "--name", "d", "--child-cpu", "1.0"),
    }
    # CPU and wall of the whole process as the kernel saw it once it exited, for the runs that burn
    # CPU (the ~50 ms of interpreter shutdown after the event are more than 10 % of the others).
    for run, (event, truth) in runs.items():
        assert event["ran"] is True and event["exit_code"] == 0
        assert set(USAGE_FIELDS) <= set(event), event
        for name in ("cpu_s", "wall_s") if run.endswith("cpu") else ():
            assert _within(event[name], truth[name]), (run, name, event, truth)
    # What the task itself did, on top of the runner's own start.
    assert _within(runs["own_mb"][0]["max_rss_mb"], base["max_rss_mb"] + 300), (runs["own_mb"][0], base)
    assert _within(runs["own_cpu"][0]["cpu_s"], base["cpu_s"] + 1.5), (runs["own_cpu"][0], base)
    # A child holding more than the runner: its peak is the run's peak; its CPU counts too.
    assert _within(runs["child_mb"][0]["max_rss_mb"], 400), runs["child_mb"][0]
    assert _within(runs["child_cpu"][0]["cpu_s"], base["cpu_s"] + 1.0), (runs["child_cpu"][0], base)
    own = runs["own_mb"][0]
    assert own["params"] == {"name": "a", "mb": "300", "cpu": "0.0", "child_mb": "0", "child_cpu": "0.0", "idle": "0.0"}
    assert own["task_id"].startswith("Uses_") and own["family"] == "Uses"


def test_the_peak_of_the_process_that_started_the_runner_is_not_the_runners(tmp_path: Path) -> None:
    """An Airflow task process holds hundreds of MiB; the local runner it starts must not report them."""
    starter = (
        "import subprocess, sys\n"
        "held = b'x' * (600 << 20)\n"
        "sys.exit(subprocess.run(sys.argv[1:]).returncode)\n"
    )
    idle, _ = _measured_run(tmp_path, "--name", "idle")
    started, _ = _measured_run(tmp_path, "--name", "started", command=(sys.executable, "-c", starter, str(BIN / "luigi-fargate"), "run"))
    assert started["max_rss_mb"] < 300, started
    assert _within(started["max_rss_mb"], idle["max_rss_mb"], 0.25), (started, idle)


class _TaskMetadata(http.server.BaseHTTPRequestHandler):
    """ECS's task metadata endpoint v4: GET {base}/task answers the task's description."""

    arn = "arn:aws:ecs:us-east-1:123456789012:task/luigi/0123456789abcdef"
    delay = 0.0
    paths: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).paths.append(self.path)
        time.sleep(self.delay)
        body = json.dumps({"Cluster": "luigi", "TaskARN": self.arn}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def task_metadata() -> Iterator[tuple[str, type[_TaskMetadata]]]:
    handler = type("Handler", (_TaskMetadata,), {"paths": [], "delay": 0.0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v4/abc", handler
    server.shutdown()
    server.server_close()


def test_usage_names_the_requested_size_and_the_ecs_task_arn(cli, tmp_path: Path, monkeypatch, task_metadata) -> None:
    url, handler = task_metadata
    for name, value in _env(tmp_path, ECS_CONTAINER_METADATA_URI_V4=url, **{SIZE_CPU_ENV: "512", SIZE_MEMORY_ENV: "2048"}).items():
        monkeypatch.setenv(name, value)
    result = cli("run", "--allow-any", MODULE, "Uses", "--name", "sized")
    assert result.returncode == 0, result.stderr
    [usage] = _usage(tmp_path)
    assert (usage["cpu"], usage["memory"], usage["task_arn"]) == (512, 2048, handler.arn)
    assert handler.paths == ["/v4/abc/task"]


def test_a_container_run_reports_its_size_task_arn_and_usage_within_10_percent(tmp_path: Path, task_metadata) -> None:
    """As Fargate runs it: the installed entrypoint, the size and metadata endpoint in the environment."""
    url, handler = task_metadata
    container = {"ECS_CONTAINER_METADATA_URI_V4": url, SIZE_CPU_ENV: "1024", SIZE_MEMORY_ENV: "3072"}
    event, truth = _measured_run(tmp_path, "--name", "fargate", "--cpu", "1.0", "--child-mb", "300",
                                 command=(str(installed_entrypoint()),), **container)  # fmt: skip
    assert (event["cpu"], event["memory"], event["task_arn"]) == (1024, 3072, handler.arn)
    for name in ("cpu_s", "wall_s"):
        assert _within(event[name], truth[name]), (name, event, truth)
    assert _within(event["max_rss_mb"], 300), event


def test_a_metadata_endpoint_that_hangs_costs_a_second_at_most_and_changes_nothing(cli, tmp_path: Path, monkeypatch, task_metadata) -> None:
    url, handler = task_metadata
    handler.delay = 5.0
    for name, value in _env(tmp_path, ECS_CONTAINER_METADATA_URI_V4=url).items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    result = cli("run", "--allow-any", MODULE, "Uses", "--name", "hanging")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 4
    [usage] = _usage(tmp_path)
    assert "task_arn" not in usage and "cpu" not in usage


def test_failed_and_rejected_runs_end_with_usage_and_their_exit_code(cli, tmp_path: Path, monkeypatch) -> None:
    for name, value in _env(tmp_path).items():
        monkeypatch.setenv(name, value)
    assert cli("run", "--allow-any", MODULE, "MailsOnFailure").returncode == 5
    assert cli("run", "--allow-any", MODULE, "Uses", "--name", "x", "--mb", "lots").returncode == 2  # bad value
    assert cli("run", MODULE, "Uses", "--name", "x").returncode == 3  # no allowlist: refused at admission
    usage = _usage(tmp_path)
    assert [(u["exit_code"], u["ran"]) for u in usage] == [(5, True), (2, False)]
    assert usage[0]["params"] == {} and usage[1]["params"] is None


def test_a_run_stopped_by_sigterm_reports_its_usage_with_exit_143(tmp_path: Path) -> None:
    env = _env(tmp_path)
    proc = subprocess.Popen([str(BIN / "luigi-fargate"), "run", "--allow-any", MODULE, "WritesSlowly", "--pause", "5"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    ledger = tmp_path / "ledger.txt"
    deadline = time.monotonic() + 30
    while not (ledger.exists() and "writing" in ledger.read_text()):
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 143
    [usage] = _usage(tmp_path)
    assert (usage["exit_code"], usage["ran"]) == (143, True)
    assert usage["wall_s"] > 0 and usage["max_rss_mb"] > 0
