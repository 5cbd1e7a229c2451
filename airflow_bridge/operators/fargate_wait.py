"""The synchronous wait (``deferrable=False``): one worker watches its own ECS task and streams its log.

The same rules as the shared poller, for a batch of one: a throttled or
failed DescribeTasks is retried after a backoff with jitter and never fails
the Airflow task while the ECS task runs; only STOPPED, or MISSING confirmed
30 s later, ends the wait; log reads are one page per round and their errors
change nothing. Every pause waits on ``kill`` (set by the operator's
``on_kill``), so a kill is handled within a second, by the operator, which
asks Airflow whether to stop the ECS task.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_bridge.hooks import ecs as ecs_calls
from airflow_bridge.hooks.ecs import MissingTracker, describe_tasks, is_stopped, task_summary
from airflow_bridge.hooks.logs import LogCursor
from airflow_bridge.hooks.retry import Backoff, describe_error, is_transient

#: Pages read from a stopped task's stream before the verdict goes ahead without the rest.
MAX_DRAIN_PAGES = 20
#: Tries of one log page at the end (each after a backoff) before giving up on the rest of the log.
DRAIN_TRIES = 3
#: A non-transient DescribeTasks error this old (s) ends the wait (the operator then stops the task).
GIVE_UP_SECONDS = 600.0
#: First pause after a failed DescribeTasks (doubling, with jitter, up to 60 s).
BACKOFF_BASE_SECONDS = 1.0


class KillRequested(Exception):
    """``on_kill`` ran while waiting (SIGTERM: a user's kill, or the worker going away)."""


class TaskGone(Exception):
    """DescribeTasks confirmed the task MISSING."""


class WaitAbandoned(Exception):
    """DescribeTasks kept failing for this task with an error that isn't transient."""


@dataclass
class Stopped:
    """How the wait ended: the stopped task's summary, and the log cursor (``complete``: read to the end)."""

    task: dict[str, Any]
    log: LogCursor | None
    log_complete: bool


@dataclass
class SyncWait:
    ecs: Any
    cluster: str
    arn: str
    poll_seconds: float
    kill: threading.Event
    #: notices about the wait itself
    say: Callable[[str], None]
    #: the container's log lines
    emit: Callable[[str], None]
    logs: Any = None
    log: LogCursor | None = None

    def __post_init__(self) -> None:
        self.backoff = Backoff(base=BACKOFF_BASE_SECONDS, cap=60.0)
        self.missing = MissingTracker(confirm_after=ecs_calls.MISSING_CONFIRM_SECONDS)
        self.error_since: float | None = None
        self._log_failing = False

    def pause(self, seconds: float) -> None:
        if self.kill.wait(seconds):
            raise KillRequested()

    def run(self) -> Stopped:
        while True:
            if self.kill.is_set():
                raise KillRequested()
            task = self._describe()
            if task is not None and is_stopped(task):
                complete = self._drain()
                return Stopped(task_summary(task), self.log, complete)
            if task is not None:
                self._follow_log()
            self.pause(self.poll_seconds)

    def _describe(self) -> dict[str, Any] | None:
        """The task now, or None when this round told nothing (an error, a first MISSING)."""
        try:
            answer = describe_tasks(self.ecs, self.cluster, [self.arn])
        except Exception as exc:  # noqa: BLE001 - sorted below; never a verdict
            if not is_transient(exc):
                now = time.monotonic()
                self.error_since = self.error_since or now
                if now - self.error_since >= GIVE_UP_SECONDS:
                    raise WaitAbandoned(describe_error(exc)) from exc
            delay = self.backoff.next_delay()
            self.say(f"DescribeTasks failed ({describe_error(exc)}); the ECS task is unaffected, asking again in {delay:.1f} s")
            self.pause(delay)
            return None
        self.backoff.reset()
        self.error_since = None
        task = answer.found.get(self.arn)
        if task is not None:
            self.missing.seen(self.arn)
            return task
        if self.missing.confirmed(self.arn):
            raise TaskGone(f"ECS task {self.arn} is not in cluster {self.cluster} (MISSING twice, 30 s apart)")
        return None

    def _follow_log(self) -> None:
        if self.log is None:
            return
        try:
            page = self.log.read_page(self.logs)
        except Exception as exc:  # noqa: BLE001 - logs never decide a verdict
            if not self._log_failing:
                self.say(f"reading the log stream failed ({describe_error(exc)}); trying again next round")
            self._log_failing = True
            return
        self._log_failing = False
        for line in page.lines:
            self.emit(line)

    def _drain(self) -> bool:
        """Read the rest of the stream: True if it was read to the end."""
        if self.log is None:
            return True
        return drain(self.log, self.logs, self.emit, self.say)


def drain(cursor: LogCursor, client: Any, emit: Callable[[str], None], say: Callable[[str], None]) -> bool:
    """Read a stream on from the cursor to its end (at most MAX_DRAIN_PAGES pages, each tried
    DRAIN_TRIES times); True if it got there. Errors only cost log lines, never a verdict."""
    backoff = Backoff(base=0.5, cap=5.0)
    for _ in range(MAX_DRAIN_PAGES):
        for attempt in range(DRAIN_TRIES):
            try:
                page = cursor.read_page(client)
                break
            except Exception as exc:  # noqa: BLE001 - logs never decide a verdict
                if attempt + 1 == DRAIN_TRIES:
                    say(f"the rest of the log could not be read ({describe_error(exc)}); it is in CloudWatch")
                    return False
                time.sleep(backoff.next_delay())
        for line in page.lines:
            emit(line)
        if page.at_end:
            return True
    say(f"the log is longer than {MAX_DRAIN_PAGES} pages; the rest is in CloudWatch")
    return False
