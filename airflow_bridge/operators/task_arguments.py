"""What every operator made from a spec node shares: BaseOperator arguments, the runner's environment and command.

Kept below the operators and the DAG builder (both import it, it imports
neither), so the Airflow side has no import cycle.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from luigi_fargate.spec import PipelineSpec, TaskNode, environment
from luigi_fargate.spec.dates import INSTANT_JINJA, RunSource
from luigi_fargate.spec.params import jinja_literal, literal_mapping, runner_argv, templated_tokens


def run_instant_template(spec: PipelineSpec) -> str:
    """The run's instant as ISO text (the one the run date counts from): what the runner's check plans the run for."""
    source = spec.graph.run_date.source if spec.graph is not None and spec.graph.run_date is not None else RunSource.LOGICAL_DATE
    return "{{ " + INSTANT_JINJA[source] + ".isoformat() }}"


def timedelta_of(seconds: float | None) -> dt.timedelta | None:
    return None if seconds is None else dt.timedelta(seconds=float(seconds))


def task_arguments(node: TaskNode) -> dict[str, Any]:
    """BaseOperator keyword arguments from a node's Airflow-facing settings (unset ones left out)."""
    s = node.settings
    kwargs: dict[str, Any] = {
        "owner": s.owner,
        "retries": s.retries,
        "pool": s.pool,
        "pool_slots": s.pool_slots,
        "queue": s.queue,
        "execution_timeout": timedelta_of(s.execution_timeout_seconds),
        "retry_delay": timedelta_of(s.retry_delay_seconds),
        "retry_exponential_backoff": s.retry_exponential_backoff,
        "max_retry_delay": timedelta_of(s.max_retry_delay_seconds),
        # none_failed after a task that isn't in every run date's Luigi graph (skipped there, exit 9).
        "trigger_rule": None if s.trigger_rule is None else str(s.trigger_rule),
    }
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    # The DAG builder then sets what needs the whole graph or the DAG: the priority weight from the
    # graph and Luigi's priority (airflow_bridge/priorities.py), the failure notifiers
    # (airflow_bridge/notifiers.py), doc_md (airflow_bridge/dag_builder.py).
    return kwargs


def runner_env(node: TaskNode, spec: PipelineSpec) -> dict[str, str]:
    """Environment for the runner of ``node`` (a templated field): the spec's, escaped, plus the graph check.

    The check (luigi_fargate/shim/graph_check.py) names the root's command
    line for this run, the DAG and this task in it, and the run's instant;
    the runner finds the rest in the DAG's spec in its allowlist.
    """
    env = literal_mapping(spec.env)
    if spec.graph is not None:
        check = {
            "root": runner_argv([], spec.graph.root_module, spec.graph.root_family, templated_tokens(spec.graph.root_params)),
            "dag": jinja_literal(spec.dag_id),
            "node": jinja_literal(node.id),
            "run": run_instant_template(spec),
        }
        env[environment.GRAPH_CHECK] = json.dumps(check, separators=(",", ":"))
    return env


def runner_arguments(node: TaskNode, options: list[str] | None = None) -> list[str]:
    """``[options] MODULE FAMILY --param=value ...`` for a templated field (run-date templates live, literals escaped)."""
    return runner_argv([jinja_literal(o) for o in options or []], node.module, node.family, templated_tokens(node.params))
