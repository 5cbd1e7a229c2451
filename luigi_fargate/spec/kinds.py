"""The words both sides of the contract agree on: node kinds, runner kinds, capacities, trigger rules.

String enums, so a spec stays plain JSON and ``NodeKind.TASK == "task"``.
"""

from __future__ import annotations

from enum import StrEnum


class NodeKind(StrEnum):
    """What an exported Luigi task becomes in Airflow."""

    TASK = "task"  # runs in a container (or a local subprocess) through ``luigi-fargate run``
    EXTERNAL = "external"  # a completeness sensor: Luigi ExternalTask, disabled task, or excluded upstream
    WRAPPER = "wrapper"  # no work of its own (Luigi WrapperTask): an EmptyOperator


class RunnerKind(StrEnum):
    """Where the tasks of a pipeline run."""

    LOCAL = "local"  # a subprocess on the Airflow worker (the embedded default)
    FARGATE = "fargate"  # an ECS task per Luigi task (RunTask)


class Capacity(StrEnum):
    """The ECS capacity a task runs on."""

    FARGATE = "FARGATE"
    FARGATE_SPOT = "FARGATE_SPOT"
    EC2 = "EC2"  # the configured EC2 capacity providers: tasks too big for Fargate


class TriggerRule(StrEnum):
    """When an Airflow task may start, given its upstream tasks' states (Airflow's own names)."""

    ALL_SUCCESS = "all_success"  # Airflow's default: every upstream succeeded
    #: Every upstream succeeded or was skipped: for tasks downstream of one that is not in every
    #: run date's Luigi graph (skipped with exit 9 on the others).
    NONE_FAILED = "none_failed"
