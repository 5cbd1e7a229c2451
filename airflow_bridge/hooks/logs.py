"""Reading one container's CloudWatch log stream a page at a time, from where the last read stopped.

The provider's log fetcher re-reads pages until the token repeats and, on
resume, the whole stream. Here one call is one page, so every call can be
paid for from the budget; the position (``nextForwardToken``) travels with
the wait (trigger kwargs, trigger event), so a resume reads only what is new.
The last lines seen are kept for failure messages, so a failure needs no
extra call to quote them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from luigi_fargate.spec.runner_log import task_id_from_line

#: Log lines quoted in a failure message.
TAIL_LINES = 20
#: Characters kept of one quoted line (events travel in the trigger event, stored in the metadata DB).
TAIL_LINE_CHARS = 1000
#: Events asked for per page. A shorter page is the end of what the stream holds now (unless it was
#: cut by GetLogEvents' 1 MB limit), so reading to the end usually takes one call, not two.
PAGE_EVENTS = 500
PAGE_BYTES_LIMIT = 1_048_576


@dataclass
class LogPage:
    lines: list[str]
    #: True when this page reached the end of what the stream holds now.
    at_end: bool


@dataclass
class LogCursor:
    """Where a reader is in one stream, and the last lines it saw."""

    group: str
    stream: str
    token: str | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    #: True once a read returned "no such stream" (not created yet, or the task never started).
    stream_missing: bool = False
    #: This run's Luigi task id, from the runner's task event (its first line), once read.
    run_task_id: str | None = None

    def read_page(self, client: Any) -> LogPage:
        """One GetLogEvents call from the cursor on. Raises what boto3 raises, except a missing stream."""
        request: dict[str, Any] = {"logGroupName": self.group, "logStreamName": self.stream, "startFromHead": True, "limit": PAGE_EVENTS}
        if self.token:
            request["nextToken"] = self.token
        try:
            response = client.get_log_events(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                self.stream_missing = True
                return LogPage([], at_end=True)
            raise
        self.stream_missing = False
        lines = [e["message"].rstrip("\n") for e in response.get("events", [])]
        next_token = response.get("nextForwardToken")
        size = sum(len(line.encode()) + 26 for line in lines)  # 26 bytes of overhead per event, as CloudWatch counts
        at_end = not lines or next_token == self.token or (len(lines) < PAGE_EVENTS and size < PAGE_BYTES_LIMIT // 2)
        if next_token:
            self.token = next_token
        self.tail.extend(line[:TAIL_LINE_CHARS] for line in lines)
        if self.run_task_id is None:
            self.run_task_id = next(filter(None, map(task_id_from_line, lines)), None)
        return LogPage(lines, at_end)

    def last_lines(self, client: Any, limit: int = TAIL_LINES) -> list[str]:
        """The stream's last ``limit`` lines in one call (for a failure when the reader fell behind)."""
        try:
            response = client.get_log_events(
                logGroupName=self.group, logStreamName=self.stream, startFromHead=False, limit=limit
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return []
            raise
        return [e["message"].rstrip("\n")[:TAIL_LINE_CHARS] for e in response.get("events", [])]

    def to_event(self, complete: bool) -> dict[str, Any]:
        return {"group": self.group, "stream": self.stream, "token": self.token, "tail": list(self.tail), "complete": complete,
                "run_task_id": self.run_task_id}

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> LogCursor:
        cursor = cls(str(data["group"]), str(data["stream"]), data.get("token"), run_task_id=data.get("run_task_id"))
        cursor.tail.extend(str(line) for line in data.get("tail") or [])
        return cursor
