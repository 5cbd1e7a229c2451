"""One polling loop per cluster in a triggerer, shared by every waiting trigger, within the API budget.

Why shared: DescribeTasks answers up to 100 tasks per call, so N waiting
tasks cost ceil(N/100) calls per round instead of N. Why careful: one call
answers for a hundred Airflow tasks, so its failure must not become their
verdict. The rules:

- A throttled or failed DescribeTasks is retried after an exponential
  backoff with jitter; throttled twice in a row, the whole budget bucket is
  pushed back too (the account is busy, not just unlucky). An error that isn't transient is narrowed down by splitting the
  batch, so one bad ARN can't block the other 99.
- A trigger resolves only on its own task's definitive outcome: STOPPED, or
  MISSING confirmed by a second call at least 30 s later. A task-specific
  error that persists for :data:`GIVE_UP_SECONDS` resolves it with an error
  (the operator then stops the ECS task rather than leave it unwatched).
- Logs: a second loop reads the CloudWatch streams of running tasks one page
  per budget token, least recently read first, and hands the lines to each
  trigger, which logs them in its own context so Airflow files them in that
  task instance's log. When a task stops, reading the rest of its stream
  comes first; the event carries the stream position and the last lines, so
  the resumed operator reads only what is new. If the budget can't finish
  that read within :data:`DRAIN_SECONDS`, the event goes out anyway, marked
  incomplete: logs never hold back or change a verdict.

Pollers live in a :class:`PollerRegistry` per event loop (the triggerer has
one loop), created with the first waiting trigger and dropped with the last.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import weakref
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from airflow_bridge.hooks import budget as budgets
from airflow_bridge.hooks import ecs as ecs_calls
from airflow_bridge.hooks.budget import ApiRates, TokenBucket
from airflow_bridge.hooks.clients import ecs_client, logs_client
from airflow_bridge.hooks.ecs import (
    DESCRIBE_BATCH,
    Described,
    MissingTracker,
    describe_tasks,
    is_stopped,
    task_summary,
)
from airflow_bridge.hooks.logs import LogCursor
from airflow_bridge.hooks.retry import Backoff, describe_error, is_throttling, is_transient

log = logging.getLogger(__name__)

#: Seconds a stopped task's event may wait for the rest of its log.
DRAIN_SECONDS = 60.0
#: Pages read from a stopped task's stream before its event goes out without the rest.
MAX_DRAIN_PAGES = 20
#: A task-specific, non-transient DescribeTasks error this old resolves the trigger with an error.
GIVE_UP_SECONDS = 600.0
#: GetLogEvents calls in flight at once (the budget, not their latency, sets the rate).
LOG_READS_IN_FLIGHT = 4
#: First pause after a failed call (doubling, with jitter, up to 60 s).
BACKOFF_BASE_SECONDS = 1.0


@dataclass(eq=False)
class WaitingTask:
    """One trigger's wait: its ECS task, its log position, and what the poller hands it."""

    arn: str
    poll_seconds: float
    log: LogCursor | None = None
    inbox: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    last_status: str | None = None
    stopped: dict[str, Any] | None = None
    resolved: bool = False
    last_log_read: float = 0.0
    drain_pages: int = 0
    reading: bool = False
    error: str | None = None
    error_since: float | None = None

    def hand_lines(self, lines: list[str]) -> None:
        if lines and not self.resolved:
            self.inbox.put_nowait(("lines", lines))

    def resolve(self, payload: dict[str, Any]) -> None:
        if not self.resolved:
            self.resolved = True
            self.inbox.put_nowait(("event", payload))


@dataclass(frozen=True)
class PollerKey:
    aws_conn_id: str | None
    region: str | None
    cluster: str
    log_region: str | None


class ClusterPoller:
    """DescribeTasks for every waiting task of one cluster, and their log streams, within the budget."""

    def __init__(self, key: PollerKey, registry: PollerRegistry) -> None:
        self.key = key
        self.registry = registry
        self.waiters: dict[int, WaitingTask] = {}
        self.poll_seconds = 6.0
        self.missing = MissingTracker(confirm_after=ecs_calls.MISSING_CONFIRM_SECONDS)
        self._describe_backoff = Backoff(base=BACKOFF_BASE_SECONDS, cap=60.0)
        self._log_backoff = Backoff(base=BACKOFF_BASE_SECONDS, cap=60.0)
        self._log_wakeup = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._ecs: Any = None
        self._logs: Any = None

    # --- waiters ----------------------------------------------------------

    def add(self, waiter: WaitingTask) -> None:
        self.waiters[id(waiter)] = waiter
        self.poll_seconds = min([w.poll_seconds for w in self.waiters.values()])
        if not self._loops or all(t.done() for t in self._loops):
            self._loops = [self._spawn(self._describe_loop()), self._spawn(self._log_loop())]

    def remove(self, waiter: WaitingTask) -> None:
        self.waiters.pop(id(waiter), None)
        if not self.waiters:
            for task in self._loops:
                task.cancel()
            self._loops = []

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        # A fresh context: a task created inside a trigger inherits its log binding, and the
        # poller's own messages would land in that one task instance's log.
        return asyncio.get_running_loop().create_task(coro, context=contextvars.Context())

    def _unresolved(self) -> list[WaitingTask]:
        return [w for w in self.waiters.values() if not w.resolved]

    # --- status -----------------------------------------------------------

    async def _client(self, service: str) -> Any:
        if service == "ecs":
            if self._ecs is None:
                self._ecs = await asyncio.to_thread(ecs_client, self.key.aws_conn_id, self.key.region, single_attempt=True)
            return self._ecs
        if self._logs is None:
            self._logs = await asyncio.to_thread(logs_client, self.key.aws_conn_id, self.key.log_region, single_attempt=True)
        return self._logs

    async def _describe_loop(self) -> None:
        bucket = self.registry.bucket(self.key, budgets.DESCRIBE_TASKS)
        while self.waiters:
            started = time.monotonic()
            arns = list(dict.fromkeys(w.arn for w in self._unresolved() if w.stopped is None))
            batches = deque(arns[i : i + DESCRIBE_BATCH] for i in range(0, len(arns), DESCRIBE_BATCH))
            while batches and self.waiters:
                batch = batches.popleft()
                await bucket.acquire()
                try:
                    answer = await asyncio.to_thread(describe_tasks, await self._client("ecs"), self.key.cluster, batch)
                except Exception as exc:  # noqa: BLE001 - sorted below; never a verdict
                    retry = await self._describe_failed(batch, exc, bucket)
                    batches.extendleft(reversed(retry))
                    continue
                self._describe_backoff.reset()
                self._apply(batch, answer)
            await asyncio.sleep(max(0.0, self.poll_seconds - (time.monotonic() - started)))

    async def _describe_failed(self, batch: list[str], exc: Exception, bucket: TokenBucket) -> list[list[str]]:
        """What to ask again after a failed call: the same batch after a pause, or its halves."""
        if is_transient(exc):
            delay = self._describe_backoff.next_delay()
            if is_throttling(exc) and self._describe_backoff.failures > 1:
                bucket.penalize(delay)  # throttled again: the account is busy, everyone waits
            log.warning("DescribeTasks on %s failed (%s); asking again in %.1f s", self.key.cluster, describe_error(exc), delay)
            await asyncio.sleep(delay)
            return [batch]
        if len(batch) > 1:  # which task is it? split until the bad one is alone
            half = len(batch) // 2
            return [batch[:half], batch[half:]]
        self._task_error(batch[0], describe_error(exc))
        return []

    def _apply(self, batch: list[str], answer: Described) -> None:
        asked = set(batch)
        for waiter in self._unresolved():
            if waiter.arn not in asked or waiter.stopped is not None:
                continue
            task = answer.found.get(waiter.arn)
            if task is not None:
                self.missing.seen(waiter.arn)
                waiter.error = waiter.error_since = None
                waiter.last_status = task.get("lastStatus")
                if is_stopped(task):
                    self._on_stopped(waiter, task_summary(task))
            elif waiter.arn in answer.failed:
                self._task_error(waiter.arn, answer.failed[waiter.arn])
            elif self.missing.confirmed(waiter.arn):
                waiter.resolve({"status": "missing", "task_arn": waiter.arn, "cluster": self.key.cluster})

    def _task_error(self, arn: str, message: str) -> None:
        now = time.monotonic()
        for waiter in self._unresolved():
            if waiter.arn != arn:
                continue
            if waiter.error_since is None:
                waiter.error_since = now
                waiter.hand_lines([f"(luigi-fargate) DescribeTasks keeps failing for this task: {message}; still waiting"])
            waiter.error = message
            if now - waiter.error_since >= GIVE_UP_SECONDS:
                waiter.resolve({"status": "error", "task_arn": arn, "cluster": self.key.cluster, "message": message})

    def _on_stopped(self, waiter: WaitingTask, summary: dict[str, Any]) -> None:
        waiter.stopped = summary
        if waiter.log is None:
            self._finish(waiter, complete=True)
            return
        asyncio.get_running_loop().call_later(DRAIN_SECONDS, self._finish, waiter, False)
        self._log_wakeup.set()

    def _finish(self, waiter: WaitingTask, complete: bool) -> None:
        if waiter.resolved or waiter.stopped is None:
            return
        payload: dict[str, Any] = {"status": "stopped", "task_arn": waiter.arn, "cluster": self.key.cluster, "task": waiter.stopped}
        if waiter.log is not None:
            payload["log"] = waiter.log.to_event(complete)
        waiter.resolve(payload)

    # --- logs -------------------------------------------------------------

    def _next_log_job(self) -> WaitingTask | None:
        """A stopped task's rest of log first; else the running task read longest ago (not within a poll)."""
        best: WaitingTask | None = None
        horizon = time.monotonic() - self.poll_seconds
        for waiter in self._unresolved():
            if waiter.log is None or waiter.reading:
                continue
            if waiter.stopped is not None:
                return waiter
            if waiter.last_status == "RUNNING" and waiter.last_log_read <= horizon:
                if best is None or waiter.last_log_read < best.last_log_read:
                    best = waiter
        return best

    async def _log_loop(self) -> None:
        """Log pages within the budget, a few at a time: one call's latency must not cap the rate."""
        bucket = self.registry.bucket(self.key, budgets.GET_LOG_EVENTS)
        reading: set[asyncio.Task[None]] = set()
        while self.waiters:
            waiter = self._next_log_job() if len(reading) < LOG_READS_IN_FLIGHT else None
            if waiter is None:
                self._log_wakeup.clear()
                waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._log_wakeup.wait()), *reading]
                await asyncio.wait(waits, timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                waits[0].cancel()
                continue
            waiter.reading = True
            await bucket.acquire()
            read = asyncio.get_running_loop().create_task(self._read_log_page(waiter, bucket))
            reading.add(read)
            read.add_done_callback(reading.discard)

    async def _read_log_page(self, waiter: WaitingTask, bucket: TokenBucket) -> None:
        try:
            if not waiter.resolved and id(waiter) in self.waiters:
                await self._read_one_page(waiter, bucket)
        finally:
            waiter.reading = False

    async def _read_one_page(self, waiter: WaitingTask, bucket: TokenBucket) -> None:
        assert waiter.log is not None
        waiter.last_log_read = time.monotonic()
        try:
            page = await asyncio.to_thread(waiter.log.read_page, await self._client("logs"))
        except Exception as exc:  # noqa: BLE001 - logs never decide a verdict
            if is_transient(exc):
                delay = self._log_backoff.next_delay()
                if is_throttling(exc) and self._log_backoff.failures > 1:
                    bucket.penalize(delay)  # throttled again: the account is busy, everyone waits
                await asyncio.sleep(delay)
            elif waiter.stopped is not None:
                self._finish(waiter, complete=False)
            else:
                waiter.hand_lines([f"(luigi-fargate) reading the log stream failed: {describe_error(exc)}"])
            return
        self._log_backoff.reset()
        waiter.hand_lines(page.lines)
        if waiter.stopped is not None:
            waiter.drain_pages += 1
            if page.at_end:
                self._finish(waiter, complete=True)
            elif waiter.drain_pages >= MAX_DRAIN_PAGES:
                self._finish(waiter, complete=False)


class PollerRegistry:
    """The pollers and budget buckets of one event loop (the triggerer's); dropped with the loop."""

    _per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PollerRegistry] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.pollers: dict[PollerKey, ClusterPoller] = {}
        self.buckets: dict[tuple[str | None, str | None, str], TokenBucket] = {}

    @classmethod
    def current(cls) -> PollerRegistry:
        loop = asyncio.get_running_loop()
        registry = cls._per_loop.get(loop)
        if registry is None:
            registry = cls._per_loop[loop] = cls()
        return registry

    def join(self, key: PollerKey, waiter: WaitingTask, rates: ApiRates) -> ClusterPoller:
        """Start waiting; the budget is the smallest any trigger of this connection asked for."""
        self._set_rates(key, rates)
        poller = self.pollers.get(key)
        if poller is None:
            poller = self.pollers[key] = ClusterPoller(key, self)
        poller.add(waiter)
        return poller

    def leave(self, key: PollerKey, waiter: WaitingTask) -> None:
        poller = self.pollers.get(key)
        if poller is None:
            return
        poller.remove(waiter)
        if not poller.waiters:
            del self.pollers[key]

    def _set_rates(self, key: PollerKey, rates: ApiRates) -> None:
        for api, region in ((budgets.DESCRIBE_TASKS, key.region), (budgets.GET_LOG_EVENTS, key.log_region)):
            bucket_key = (key.aws_conn_id, region, api)
            bucket = self.buckets.get(bucket_key)
            if bucket is None:
                self.buckets[bucket_key] = TokenBucket(rates.rate(api))
            else:
                bucket.set_rate(rates.rate(api))

    def bucket(self, key: PollerKey, api: str) -> TokenBucket:
        region = key.region if api == budgets.DESCRIBE_TASKS else key.log_region
        return self.buckets[(key.aws_conn_id, region, api)]
