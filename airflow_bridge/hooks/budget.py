"""The account-wide AWS API budget: one token bucket per API, shared by every caller in a process.

ECS allows 20 DescribeTasks calls/s per account and region (burst 100) and
CloudWatch Logs 25 GetLogEvents calls/s; every triggerer, the sweeper, the
console and other tools share those. ``[luigi_fargate] describe_tasks_per_second``
and ``get_log_events_per_second`` say how much of them these operators may
use in the whole account; each triggerer process takes its share
(``/ triggerers``). The shared poller and the log reader both take a token
before every call, so the budget holds however many tasks are waiting: more
tasks make each round slower, never the call rate higher.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: APIs with a budget, as named in the spec and in the trigger's kwargs.
DESCRIBE_TASKS = "describe_tasks"
GET_LOG_EVENTS = "get_log_events"


@dataclass(frozen=True)
class ApiRates:
    """Calls per second this process may make, per budgeted API (already divided by the triggerers)."""

    describe_tasks: float
    get_log_events: float

    @classmethod
    def share_of(cls, describe_tasks_per_second: float, get_log_events_per_second: float, triggerers: int) -> ApiRates:
        """One triggerer's share of the account-wide budget."""
        n = max(1, int(triggerers))
        return cls(float(describe_tasks_per_second) / n, float(get_log_events_per_second) / n)

    def rate(self, api: str) -> float:
        return {DESCRIBE_TASKS: self.describe_tasks, GET_LOG_EVENTS: self.get_log_events}[api]


class TokenBucket:
    """At most ``rate`` calls per second on average, with bursts of at most ``burst`` calls.

    :meth:`reserve` books the next call and says how long to wait for it, so
    callers queue in the order they asked; :meth:`acquire` (asyncio) and
    :meth:`acquire_blocking` (threads) wait that long. :meth:`penalize` pushes
    every later call back after AWS throttled one: the account is busier than
    this process can see.
    """

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be above 0 calls/s, got {rate!r}")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, self.rate))
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def set_rate(self, rate: float) -> None:
        """Lower the rate (callers that disagree on the budget get the smallest one)."""
        with self._lock:
            self._refill()
            self.rate = min(self.rate, float(rate))
            self.burst = min(self.burst, max(1.0, self.rate))
            self._tokens = min(self._tokens, self.burst)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def reserve(self) -> float:
        """Take a token; return the seconds to wait before the call may be made (0 if one was free)."""
        with self._lock:
            self._refill()
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def penalize(self, seconds: float) -> None:
        """No call for ``seconds`` (from now), on top of the calls already booked."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0) - seconds * self.rate

    async def acquire(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)

    def acquire_blocking(self, sleep: Callable[[float], object] = time.sleep) -> None:
        delay = self.reserve()
        if delay > 0:
            sleep(delay)
