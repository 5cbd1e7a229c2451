"""The runner's own log lines: readable by default, one JSON object per line for CloudWatch."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from luigi_fargate.spec.environment import EVENTS_FILE
from luigi_fargate.spec.runner_log import AIRFLOW_CONTEXT_ENV, MAP_INDEX_ENV, TEXT_PREFIX

#: Context values that are numbers in Airflow: written as numbers so readers can compare them.
_NUMERIC_CONTEXT = ("try_number", "map_index")


def airflow_context(environ: Mapping[str, str]) -> dict[str, Any]:
    """Where this run sits in Airflow, from Airflow's own AIRFLOW_CTX_* variables (plus the map index), and the pid.

    Airflow's task runner puts the AIRFLOW_CTX_* variables into its own
    environment before ``execute()``, so a local runner inherits them; the ECS
    operator passes them to the container. They let events be joined with
    Airflow's task instances: a Luigi task id alone is shared by every retry.
    """
    context: dict[str, Any] = {}
    for field, variable in (*AIRFLOW_CONTEXT_ENV.items(), ("map_index", MAP_INDEX_ENV)):
        value = environ.get(variable)
        if not value:
            continue
        if field in _NUMERIC_CONTEXT:
            try:
                context[field] = int(value)
                continue
            except ValueError:
                pass
        context[field] = value
    context["pid"] = os.getpid()
    return context


class EventLog:
    """The runner's events: one line each on stderr, and optionally appended to $LUIGI_FARGATE_EVENTS_FILE.

    JSON lines and the events file carry the Airflow context (see
    :func:`airflow_context`), read once here; text lines stay short and name
    only the event's own fields.
    """

    def __init__(self, fmt: str = "text", stream: Any = None, environ: Mapping[str, str] | None = None) -> None:
        self.fmt = fmt
        self.stream = stream or sys.stderr
        self.context = airflow_context(os.environ if environ is None else environ)
        self.fields: dict[str, Any] = {}

    def bind(self, **fields: Any) -> None:
        """Fields added to every later event (task_id, family)."""
        self.fields.update(fields)

    def emit(self, event: str, message: str = "", **fields: Any) -> None:
        record = {**self.fields, **fields}
        as_json = json.dumps({"ts": round(time.time(), 3), "event": event, **self.context, **record, "message": message}, default=str)
        events_file = os.environ.get(EVENTS_FILE)
        if events_file:
            # One short append per event: lines from concurrent runners don't interleave.
            with open(events_file, "a", encoding="utf-8") as fh:
                fh.write(as_json + "\n")
        if self.fmt == "json":
            line = as_json
        else:
            extra = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
            who = record.get("task_id", "")
            line = f"{TEXT_PREFIX}{event}: {who}" + (f" {message}" if message else "") + (f" ({extra})" if extra else "")
        try:
            print(line, file=self.stream, flush=True)
        except OSError:
            # A closed log pipe must not change the outcome (exit 0 for a task that never ran).
            pass
