"""The Airflow side of luigi-fargate: DAGs built from pipeline specs, and their operators.

Never imports Luigi, the pipeline's own code or boto3 while a DAG is parsed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import DAG


def dag_from_spec(path: str) -> DAG:
    """Build the DAG for the spec next to ``path`` (a ``<dag_id>.py`` stub or the ``.json`` itself)."""
    from airflow_bridge.dag_builder import build_dag

    return build_dag(path)


__all__ = ["dag_from_spec"]
