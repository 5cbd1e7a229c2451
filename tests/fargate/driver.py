"""Run one Fargate operator of an exported DAG the way a worker would: build the DAG from the
spec, render the task's templates, call execute() with a task_state_store kept in a file.

Used in-process by tests and as ``python -m tests.fargate.driver SPEC TASK STATE TRY`` for the
worker that a test SIGKILLs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.fargate.conftest import JsonFileStateStore

RUN_ID = "manual__2026-11-01T00:00:00+00:00"


class WorkerTI:
    """The task-instance fields the operator reads (ids, try number) and its XCom pushes."""

    def __init__(self, dag_id: str, task_id: str, try_number: int) -> None:
        self.dag_id, self.task_id, self.run_id = dag_id, task_id, RUN_ID
        self.map_index = -1
        self.try_number = try_number
        self.xcom: dict[str, Any] = {}
        self.stats_tags: dict[str, str] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def load_operator(spec_path: Path, task_id: str) -> Any:
    from airflow_bridge.dag_builder import build_dag

    return build_dag(spec_path).get_task(task_id)


def run(spec_path: Path, task_id: str, state: Path, try_number: int = 1) -> tuple[Any, WorkerTI]:
    """Execute the task once, as a worker and a triggerer would: execute(); if it defers, run its
    trigger to its event in an asyncio loop, then resume the operator with the event (each time it
    defers). Returns (operator, ti) or raises what the operator raised."""
    from airflow.sdk.exceptions import TaskDeferred

    op, context = prepare(spec_path, task_id, state, try_number)
    try:
        op.execute(context)
    except TaskDeferred as deferred:
        resume_until_done(op, context, deferred)
    return op, context["ti"]


def defer(spec_path: Path, task_id: str, state: Path, run_id: str = RUN_ID) -> tuple[Any, dict[str, Any], Any]:
    """execute() of a deferrable task up to its deferral: (operator, context, TaskDeferred)."""
    from airflow.sdk.exceptions import TaskDeferred

    op, context = prepare(spec_path, task_id, state, run_id=run_id)
    try:
        op.execute(context)
    except TaskDeferred as deferred:
        return op, context, deferred
    raise AssertionError(f"{task_id} did not defer")


def resume(op: Any, context: dict[str, Any], deferred: Any, event: dict[str, Any]) -> Any:
    """What a worker does with a trigger's event: resume_execution(method, {"event": ...})."""
    return op.resume_execution(deferred.method_name, {**(deferred.kwargs or {}), "event": event}, context)


def fire(trigger: Any) -> dict[str, Any]:
    """Run a trigger in its own event loop until its first event (what the triggerer does); the payload."""
    import asyncio

    async def first_event() -> dict[str, Any]:
        events = trigger.run()
        try:
            return (await events.__anext__()).payload
        finally:
            await events.aclose()

    return asyncio.run(first_event())


def resume_until_done(op: Any, context: dict[str, Any], deferred: Any) -> Any:
    """Fire the trigger, resume the operator with its event; again while it defers again."""
    from airflow.sdk.exceptions import TaskDeferred

    while True:
        event = fire(deferred.trigger)
        try:
            return op.resume_execution(deferred.method_name, {**(deferred.kwargs or {}), "event": event}, context)
        except TaskDeferred as again:
            deferred = again


def prepare(spec_path: Path, task_id: str, state: Path, try_number: int = 1, run_id: str = RUN_ID) -> tuple[Any, dict[str, Any]]:
    """The operator with its templates rendered, and the context a worker would pass."""
    import pendulum

    op = load_operator(spec_path, task_id)
    ti = WorkerTI(op.dag_id, task_id, try_number)
    ti.run_id = run_id
    import types

    logical = pendulum.datetime(2026, 11, 1)
    context: dict[str, Any] = {
        "ti": ti, "task_instance": ti, "run_id": run_id, "ds": "2026-11-01",
        "logical_date": logical, "task_state_store": JsonFileStateStore(state),
        "dag": op.dag, "task": op, "dag_run": types.SimpleNamespace(logical_date=logical, run_after=logical),
    }  # fmt: skip
    op.render_template_fields(context)
    return op, context


if __name__ == "__main__":
    spec, task, state_file, try_no = sys.argv[1:5]
    print("worker: starting", flush=True)
    run(Path(spec), task, Path(state_file), int(try_no))
    print("worker: done", flush=True)
