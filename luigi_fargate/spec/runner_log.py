"""The runner's log lines as a contract: what the operators, ``sizes suggest`` and ``cost`` read back.

Standard library only (the Airflow side reads these lines while a task runs).

The runner writes one event per line, either as text
(``luigi-fargate: EVENT: LUIGI_TASK_ID message (k=v ...)``) or as one JSON
object (``{"ts": ..., "event": EVENT, "task_id": ..., ...}``). Its first
event, once the task is rebuilt, is :data:`TASK_EVENT`: it names the Luigi
task id of *this* run (the exported spec only knows the export date's id).
The last one of a run that reached the task is :data:`USAGE_EVENT`.
"""

from __future__ import annotations

import json
from typing import Any

#: Prefix of every text line the runner writes.
TEXT_PREFIX = "luigi-fargate: "

#: First event after the task is rebuilt: names this run's Luigi task id (fields: task_id, family, module).
TASK_EVENT = "task"

#: What a run used, once per run that got past admission: see :data:`USAGE_FIELDS`.
USAGE_EVENT = "usage"

#: The usage event's measured fields: peak RSS of the runner and its children (MiB),
#: user+system CPU seconds of both, wall seconds of the runner.
USAGE_FIELDS = ("max_rss_mb", "cpu_s", "wall_s")

#: Optional usage fields where known: the size the task was given (ECS task-level units:
#: cpu in CPU units, 1024 = 1 vCPU; memory in MiB) and the ECS task ARN.
USAGE_SIZE_FIELDS = ("cpu", "memory", "task_arn")

#: Where the run sits in Airflow, on every event when known (see :data:`AIRFLOW_CONTEXT_ENV`).
CONTEXT_FIELDS = ("dag_id", "run_id", "airflow_task_id", "try_number", "map_index", "pid")

#: Airflow's own environment variables for a task instance (``context_to_airflow_vars``):
#: event field -> variable. A local runner inherits them from the Airflow task process;
#: the ECS operator passes them in the container's environment. Airflow has none for
#: the map index, so the operators set :data:`MAP_INDEX_ENV` too.
AIRFLOW_CONTEXT_ENV = {
    "dag_id": "AIRFLOW_CTX_DAG_ID",
    "run_id": "AIRFLOW_CTX_DAG_RUN_ID",
    "airflow_task_id": "AIRFLOW_CTX_TASK_ID",
    "try_number": "AIRFLOW_CTX_TRY_NUMBER",
}
MAP_INDEX_ENV = "LUIGI_FARGATE_MAP_INDEX"

#: The size the operator asked ECS for (task-level units), for the usage event.
SIZE_CPU_ENV = "LUIGI_FARGATE_CPU"
SIZE_MEMORY_ENV = "LUIGI_FARGATE_MEMORY"


def parse_event(line: str) -> dict[str, Any] | None:
    """A runner event from one log line (JSON form only), or None for any other line."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("event"), str) else None


def task_id_from_line(line: str) -> str | None:
    """This run's Luigi task id, if ``line`` is the runner's :data:`TASK_EVENT` (text or JSON), else None."""
    record = parse_event(line)
    if record is not None:
        task_id = record.get("task_id") if record["event"] == TASK_EVENT else None
        return task_id if isinstance(task_id, str) and task_id else None
    text = line.strip()
    head = f"{TEXT_PREFIX}{TASK_EVENT}: "
    if not text.startswith(head):
        return None
    words = text[len(head):].split()
    return words[0] if words else None
