"""The runner's own log lines: readable by default, one JSON object per line for CloudWatch."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from luigi_fargate.spec.environment import EVENTS_FILE


class EventLog:
    """The runner's events: one line each on stderr, and optionally appended to $LUIGI_FARGATE_EVENTS_FILE."""

    def __init__(self, fmt: str = "text", stream: Any = None) -> None:
        self.fmt = fmt
        self.stream = stream or sys.stderr
        self.fields: dict[str, Any] = {}

    def bind(self, **fields: Any) -> None:
        """Fields added to every later event (task_id, family)."""
        self.fields.update(fields)

    def emit(self, event: str, message: str = "", **fields: Any) -> None:
        record = {**self.fields, **fields}
        as_json = json.dumps({"ts": round(time.time(), 3), "event": event, **record, "message": message}, default=str)
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
            line = f"luigi-fargate: {event}: {who}" + (f" {message}" if message else "") + (f" ({extra})" if extra else "")
        try:
            print(line, file=self.stream, flush=True)
        except OSError:
            # A closed log pipe must not change the outcome (exit 0 for a task that never ran).
            pass
