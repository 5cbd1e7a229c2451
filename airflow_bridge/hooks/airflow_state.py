"""What Airflow says about one task instance now: the question behind every "stop the ECS task?".

A kill reaches the operator the same way whether a user marked the task
failed or the worker is shutting down (SIGTERM in both cases), and the
triggerer cancels a trigger with the same "user action" message when it
merely hands it to another triggerer. Only the task instance's state tells
them apart, so both kill paths ask it here, through the Execution API (the
task runner's and the triggerer's supervisor channel), never the database.
"""

from __future__ import annotations

from typing import Any


def task_instance_state(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str | None:
    """The task instance's state (``running``, ``deferred``, ``failed``, ...), or None if it has none.

    Raises when Airflow can't be asked (no supervisor, API unreachable): callers decide what
    an unknown state means for them.
    """
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    states: dict[str, Any] = RuntimeTaskInstance.get_task_states(
        dag_id=dag_id, task_ids=[task_id], run_ids=[run_id], map_index=map_index if map_index >= 0 else None
    )
    per_run = states.get(run_id) or {}
    key = task_id if map_index < 0 else f"{task_id}_{map_index}"
    state = per_run.get(key)
    return None if state is None else str(getattr(state, "value", state))
