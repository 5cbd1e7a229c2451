"""What one run used (peak memory, CPU, wall time), measured once at its end: the ``usage`` event.

``sizes suggest`` and ``cost`` read these events back (field names in
``luigi_fargate.spec.runner_log``). Everything is read from the kernel at the
end of the run, so the start pays nothing:

- peak RSS: of the runner's process (the task runs in it, through Luigi's
  worker) and of its largest waited-for child (a task's subprocesses, Luigi's
  child process for a task with a worker timeout), whichever is larger. The
  runner's own is ``VmHWM`` from /proc/self/status, not ``ru_maxrss``: the
  kernel carries ``ru_maxrss`` across ``execve``, so a runner started by a
  200 MiB Airflow task process would report that process's peak as its own.
  (A child's ``ru_maxrss`` can carry the runner's peak at its start the same
  way, which is never more than the runner's own.) ``ru_maxrss`` is in KiB
  on Linux;
- CPU: user + system seconds of the runner and those children;
- wall: seconds since the process started (``/proc/self/stat``, what the
  container is billed for from the runner's side), or since the runner's
  start where /proc is missing.

In ECS, the size the operator asked for comes from its environment and the
task ARN from the task metadata endpoint, asked once with a short timeout:
the event never waits long and never changes the run's outcome.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from luigi_fargate.spec.runner_log import SIZE_CPU_ENV, SIZE_MEMORY_ENV, USAGE_EVENT

if TYPE_CHECKING:
    import luigi

    from luigi_fargate.shim.events import EventLog

#: ECS's task metadata endpoint v4 (set by the ECS agent in every container of a task).
ECS_METADATA_ENV = "ECS_CONTAINER_METADATA_URI_V4"

#: Seconds to wait for the metadata endpoint (local to the task, normally answers in milliseconds).
METADATA_TIMEOUT = 1.0


class RunRecord:
    """What the usage event says about the run besides the measurements, filled in as the steps go.

    A plain class: a dataclass costs the runner's start a millisecond to build.
    """

    __slots__ = ("started", "admitted", "task", "ran")

    def __init__(self, started: float) -> None:
        self.started = started
        self.admitted = False
        self.task: luigi.Task | None = None
        self.ran = False

    @classmethod
    def now(cls) -> RunRecord:
        return cls(started=time.monotonic())


def measure(started: float) -> dict[str, float]:
    """max_rss_mb, cpu_s and wall_s of this process and its waited-for children, now."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss: KiB on Linux, bytes on macOS.
    unit = 1024 * 1024 if sys.platform == "darwin" else 1024
    own_peak_kib = _peak_rss_kib()
    own_peak_mb = own.ru_maxrss / unit if own_peak_kib is None else own_peak_kib / 1024
    return {
        "max_rss_mb": round(max(own_peak_mb, children.ru_maxrss / unit), 1),
        "cpu_s": round(own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, 3),
        "wall_s": round(_process_wall(started), 3),
    }


def _peak_rss_kib() -> int | None:
    """This process image's peak RSS (``VmHWM``, KiB), or None without /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _process_wall(started: float) -> float:
    """Seconds since this process started (its start time in /proc), else since ``started`` (monotonic)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            stat = fh.read()
        # Field 22 (starttime, clock ticks after boot); the command name (field 2) may hold spaces.
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - started


def requested_size(environ: Mapping[str, str]) -> dict[str, int]:
    """cpu and memory the operator asked ECS for (task-level units), where it said so."""
    size: dict[str, int] = {}
    for field, variable in (("cpu", SIZE_CPU_ENV), ("memory", SIZE_MEMORY_ENV)):
        try:
            size[field] = int(environ[variable])
        except (KeyError, ValueError):
            continue
    return size


def task_arn(environ: Mapping[str, str], timeout: float = METADATA_TIMEOUT) -> str | None:
    """This ECS task's ARN from the task metadata endpoint, or None (not in ECS, no answer in time, odd reply).

    ``timeout`` bounds the whole answer, not each read: the request runs in a
    daemon thread that is given up on, so a reply trickling in a byte at a
    time can't hold the runner's exit.
    """
    base = environ.get(ECS_METADATA_ENV)
    if not base:
        return None
    import threading

    answer: list[str | None] = []
    asking = threading.Thread(target=lambda: answer.append(_ask_task_arn(base, timeout)), name="ecs-metadata", daemon=True)
    asking.start()
    asking.join(timeout)
    return answer[0] if answer else None


def _ask_task_arn(base: str, timeout: float) -> str | None:
    import urllib.request

    try:
        with urllib.request.urlopen(base.rstrip("/") + "/task", timeout=timeout) as reply:  # noqa: S310 - ECS agent's URL
            arn = json.loads(reply.read(1 << 20)).get("TaskARN")
    except Exception:  # noqa: BLE001 - a missing ARN must not change the run's outcome
        return None
    return arn if isinstance(arn, str) and arn else None


def task_params(task: luigi.Task | None) -> dict[str, str] | None:
    """The task's significant public parameters as Luigi serializes them (insignificant ones often hold secrets)."""
    if task is None:
        return None
    try:
        return dict(task.to_str_params(only_significant=True, only_public=True))
    except Exception:  # noqa: BLE001 - a parameter's own serialize() is user code
        return None


def emit_usage(log: EventLog, record: RunRecord, exit_code: int, environ: Mapping[str, str] | None = None) -> None:
    """The run's last event: what it used, the size it had, and how it ended."""
    env = os.environ if environ is None else environ
    fields: dict[str, Any] = {**measure(record.started), **requested_size(env)}
    arn = task_arn(env)
    if arn is not None:
        fields["task_arn"] = arn
    fields.update(params=task_params(record.task), ran=record.ran, exit_code=int(exit_code))
    log.emit(USAGE_EVENT, "resources used", **fields)
