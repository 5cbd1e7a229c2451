"""Operators that run exported Luigi tasks, and the choice between them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from luigi_fargate.spec import PipelineSpec


def operator_for(spec: PipelineSpec) -> Callable[..., Any]:
    """The factory that makes one Airflow task from one spec node for this spec's runner."""
    kind = spec.runner.get("kind", "local")
    if kind == "local":
        from airflow_bridge.operators.local import make_local_task

        return make_local_task
    raise ValueError(f"{spec.dag_id}: unknown runner {kind!r} in spec; re-export with --runner local or fargate")
