"""Environment variables the runner reads: one definition for the exporter, the operators and the runner.

Standard library only (read while Airflow parses DAG files).
"""

from __future__ import annotations

#: Spec file or folder of specs whose families this image may run (the allowlist).
ALLOW = "LUIGI_FARGATE_ALLOW"
#: The run-time graph-shape check, JSON rendered by Airflow (see luigi_fargate/shim/graph_check.py).
GRAPH_CHECK = "LUIGI_FARGATE_GRAPH_CHECK"
#: Lock URL (file://DIR, luigid://HOST:PORT, dynamodb://TABLE), when --lock isn't given.
LOCK = "LUIGI_FARGATE_LOCK"
#: Append every runner event as a JSON line to this file (demos, audits, tests).
EVENTS_FILE = "LUIGI_FARGATE_EVENTS_FILE"
#: The release name of the running task definition (set by the task definition, for logs and user code).
RELEASE = "LUIGI_FARGATE_RELEASE"
