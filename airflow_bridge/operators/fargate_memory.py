"""Out-of-memory retries: the try after an OOM stop asks ECS for the next Fargate size up.

How the retry knows: the try that saw the OOM stop writes the size it had to
the task instance's ``task_state_store`` (:data:`OOM_KEY`). That store is
keyed by DAG run, task and map index, not by try (Airflow 3.3's
``task_state_store`` table), so it survives retries and worker or scheduler
restarts, and costs no AWS call. A try whose worker died before it saw the
verdict is covered too: the retry's ``get_job_status`` describes that ECS
task anyway (ResumableJobMixin) and records an OOM found there. Clearing the
task instance from the UI clears the store: the size starts again from the spec.

The next size is the smallest valid Fargate cpu/memory pair with more memory
(the same CPU while it allows more, else the next CPU up), at most the
``oom_memory_ceiling`` (MiB; 0 turns this off). A try that fails for another
reason keeps the last bumped size: the memory that ran out is still too little.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from luigi_fargate.validators import FARGATE_MEMORY_BY_CPU

#: task_state_store key: {"cpu": CPU units, "memory": MiB} of the last attempt that ECS stopped out of memory.
OOM_KEY = "ecs_out_of_memory"


@dataclass(frozen=True)
class TaskSize:
    """A task-level ECS size: CPU units (1024 = 1 vCPU) and memory in MiB."""

    cpu: int
    memory: int

    def to_store(self) -> dict[str, int]:
        return {"cpu": self.cpu, "memory": self.memory}

    @classmethod
    def from_fields(cls, data: Any) -> TaskSize | None:
        """From RunTask overrides, a DescribeTasks entry or the store (numbers or numeric strings)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(int(data["cpu"]), int(data["memory"]))
        except (KeyError, TypeError, ValueError):
            return None


def next_size_up(size: TaskSize, ceiling: int) -> TaskSize | None:
    """The smallest valid Fargate size with more memory than ``size`` and CPU no lower, within ``ceiling`` MiB."""
    candidates = [
        TaskSize(cpu, memory)
        for cpu, memories in FARGATE_MEMORY_BY_CPU.items()
        if cpu >= size.cpu
        for memory in memories
        if size.memory < memory <= ceiling
    ]
    return min(candidates, key=lambda s: (s.memory, s.cpu), default=None)


@dataclass(frozen=True)
class RetrySize:
    """What this try asks for after an earlier OOM stop, and the sentence for the task log."""

    size: TaskSize | None
    words: str


def size_after_oom(store: Any, asked: TaskSize | None, ceiling: int) -> RetrySize | None:
    """None when no earlier attempt of this task instance ran out of memory (or the feature is off)."""
    if store is None or ceiling <= 0:
        return None
    stopped_at = TaskSize.from_fields(store.get(OOM_KEY))
    if stopped_at is None:
        return None
    bigger = next_size_up(stopped_at, ceiling)
    head = f"previous try stopped out of memory at {stopped_at.memory} MiB (cpu {stopped_at.cpu})"
    if asked is not None and bigger is not None and asked.memory >= bigger.memory:
        return RetrySize(None, f"{head}; this try asks for {asked.memory} MiB (cpu {asked.cpu}) as exported")
    if bigger is None:
        same = stopped_at if asked is None or stopped_at.memory > asked.memory else None
        return RetrySize(
            same, f"{head}; oom_memory_ceiling = {ceiling} MiB allows no larger Fargate size, so this try asks for the same"
        )
    return RetrySize(bigger, f"{head}; this try asks for {bigger.memory} MiB (cpu {bigger.cpu})")


def record_oom(store: Any, size: TaskSize | None) -> None:
    """Remember the size an attempt ran out of memory at, for the next try."""
    if store is not None and size is not None:
        store.set(OOM_KEY, size.to_store())
