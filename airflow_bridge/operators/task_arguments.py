"""What every operator made from a spec node shares: BaseOperator arguments and the runner's environment.

Kept below the operators and the DAG builder (both import it, it imports
neither), so the Airflow side has no import cycle.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from luigi_fargate.spec import PipelineSpec, TaskNode

#: spec "settings" keys that map straight onto BaseOperator arguments.
_DIRECT = ("owner", "retries", "priority_weight", "pool", "pool_slots", "weight_rule", "queue")

#: Environment variable carrying the run-time graph-shape check (see luigi_fargate/shim/graph_check.py).
GRAPH_CHECK_ENV = "LUIGI_FARGATE_GRAPH_CHECK"


def timedelta_of(seconds: Any) -> dt.timedelta:
    return dt.timedelta(seconds=float(seconds))


def task_arguments(node: TaskNode) -> dict[str, Any]:
    """BaseOperator keyword arguments from a node's Airflow-facing settings."""
    s = node.settings
    kwargs: dict[str, Any] = {k: s[k] for k in _DIRECT if k in s}
    if "priority_weight" in s:
        kwargs.setdefault("weight_rule", "absolute")  # Luigi priorities are absolute, not summed
    if "execution_timeout_seconds" in s:
        kwargs["execution_timeout"] = timedelta_of(s["execution_timeout_seconds"])
    if "retry_delay_seconds" in s:
        kwargs["retry_delay"] = timedelta_of(s["retry_delay_seconds"])
    if "retry_exponential_backoff" in s:
        kwargs["retry_exponential_backoff"] = float(s["retry_exponential_backoff"])
    if "max_retry_delay_seconds" in s:
        kwargs["max_retry_delay"] = timedelta_of(s["max_retry_delay_seconds"])
    if s.get("email"):
        # Luigi mails owner_email on failure; Airflow 3's way is a notifier, not email_on_failure.
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        kwargs["on_failure_callback"] = [SmtpNotifier(to=list(s["email"]), subject=f"Airflow task {node.id} failed ({node.task_id})")]
    return kwargs


def runner_env(node: TaskNode, spec: PipelineSpec) -> dict[str, str]:
    """Environment for the runner of ``node``: the spec's, plus the graph-shape check (templated)."""
    env = dict(spec.env)
    if "graph_check" in node.settings:
        env[GRAPH_CHECK_ENV] = json.dumps(node.settings["graph_check"], separators=(",", ":"))
    return env


