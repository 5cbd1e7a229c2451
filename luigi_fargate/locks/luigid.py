"""``luigid://HOST:PORT``: the Luigi central scheduler decides who runs a task.

The runner registers the task with ``luigid`` the way a Luigi worker does
(``add_task`` then ``get_work``), so the scheduler's own single-threaded state
machine is the lock: only one worker gets the task RUNNING, and a task RUNNING
on any other worker (one of ours, or a plain Luigi worker sharing the same
scheduler) is held. The heartbeat is the worker's ``ping``. When a holder
stops pinging, ``luigid`` forgets the worker after ``worker_disconnect_delay``
and marks its task FAILED; the next contender re-adds it as PENDING and takes
it over at once (``retry_delay`` does not apply to a task a worker re-adds).

URL options: ``heartbeat`` (seconds between pings, default 5) and ``ttl``
(how long this runner trusts its lease without a successful ping; set it to
the scheduler's ``worker_disconnect_delay``, default 60).
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from luigi_fargate.errors import UserError
from luigi_fargate.locks.base import Lease, LeaseLost, LockBackend, LockInfo

RUNNING, DONE, FAILED, PENDING = "RUNNING", "DONE", "FAILED", "PENDING"

#: A Luigi task id is ``Family_paramsummary_hash10``; the family shows in luigid's UI.
_TASK_ID = re.compile(r"^(?P<family>.+)_[^_]*_[0-9a-f]{10}$")


def _family_of(key: str) -> str:
    match = _TASK_ID.match(key)
    return match.group("family") if match else key


def _float_option(url: str, query: dict[str, list[str]], name: str, default: float) -> float:
    raw = query.get(name, [None])[-1]
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise UserError(
            f"lock URL {url!r}: {name}={raw!r} is not a positive number of seconds; e.g. {name}={default:g}"
        )
    return value


class LuigidLease(Lease):
    """Our worker has the task RUNNING in luigid; ``renew`` pings and checks that it still does."""

    def __init__(self, backend: LuigidLockBackend, key: str, owner: str, sent: float) -> None:
        self.backend, self.key, self.owner = backend, key, owner
        self.renew_interval = backend.heartbeat
        self.ttl = backend.ttl
        #: time.monotonic() until which luigid surely still counts our worker as alive
        #: (its clock starts when it *handles* our request, after we sent it).
        self.valid_until = sent + backend.ttl
        self._released = False
        #: Set by the runner's lock policy: tells luigid DONE or FAILED on release, like a Luigi worker.
        self.completion_check: Callable[[], bool] | None = None

    def set_completion_check(self, is_complete: Callable[[], bool]) -> None:
        self.completion_check = is_complete

    def _still_ours(self) -> bool:
        state = self.backend.task_state(self.key, self.backend.heartbeat_scheduler)
        return bool(state) and state["status"] == RUNNING and state.get("worker_running") == self.owner

    def renew(self) -> None:
        # ping keeps the worker alive; the state check notices a takeover or
        # `locks break` (luigid itself never tells a worker its task was lost).
        sent = time.monotonic()
        self.backend.heartbeat_scheduler.ping(worker=self.owner)
        if not self._still_ours():
            raise LeaseLost(f"luigid no longer has {self.key} RUNNING on worker {self.owner}")
        self.valid_until = sent + self.ttl

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            if not self._still_ours():
                return  # lost: reporting DONE/FAILED now would overwrite the new holder's state
            done = False
            if self.completion_check is not None:
                try:
                    done = bool(self.completion_check())
                except Exception:  # noqa: BLE001 - unknown outcome is reported as FAILED
                    done = False
            # FAILED lets the next contender re-add the task as PENDING at once;
            # DONE makes luigid ignore re-adds for stable_done_cooldown_secs.
            self.backend.scheduler.add_task(
                worker=self.owner,
                task_id=self.key,
                status=DONE if done else FAILED,
                runnable=False,
                expl=None if done else "luigi-fargate: run did not complete the task",
            )
        except Exception:  # noqa: BLE001 - release must not raise; luigid fails the task once we stop pinging
            return


class LuigidLockBackend(LockBackend):
    def __init__(
        self, host: str, port: int, heartbeat: float = 5.0, ttl: float = 60.0, timeout: float = 10.0
    ) -> None:
        self.url = f"luigid://{host}:{port}"
        self.heartbeat, self.ttl = heartbeat, ttl
        # Acquisition and admin calls may wait for a busy scheduler; heartbeats
        # must answer within the lease so the keeper can still give up in time.
        self.scheduler = self._client(host, port, timeout)
        self.heartbeat_scheduler = self._client(host, port, min(timeout, ttl / 2))

    @staticmethod
    def _client(host: str, port: int, timeout: float) -> Any:
        from luigi.rpc import RemoteScheduler

        client = RemoteScheduler(f"http://{host}:{port}", connect_timeout=timeout)
        # Luigi's client retries an unreachable scheduler 3 times, 30 s apart:
        # far longer than a lease. The lock policy retries instead.
        client._rpc_retry_attempts = 1  # noqa: SLF001 - no public setting besides luigi.cfg
        client._rpc_retry_wait = 0  # noqa: SLF001
        client._rpc_log_retries = False  # noqa: SLF001
        return client

    @classmethod
    def from_url(cls, url: str) -> LuigidLockBackend:
        parts = urlsplit(url)
        if not parts.hostname:
            raise UserError(
                f"lock URL {url!r}: no scheduler host; use luigid://HOST:PORT (e.g. luigid://luigid.internal:8082)"
            )
        try:
            port = parts.port or 8082
        except ValueError:
            raise UserError(f"lock URL {url!r}: the port is not a number; use luigid://HOST:PORT") from None
        query = parse_qs(parts.query)
        heartbeat = _float_option(url, query, "heartbeat", 5.0)
        ttl = _float_option(url, query, "ttl", 60.0)
        if heartbeat >= ttl:
            raise UserError(
                f"lock URL {url!r}: heartbeat must be shorter than ttl; e.g. heartbeat={ttl / 4:g}"
            )
        return cls(parts.hostname, port, heartbeat=heartbeat, ttl=ttl)

    def task_state(self, key: str, client: Any = None) -> dict[str, Any] | None:
        """luigid's view of one task (``task_search`` also prunes dead workers, which frees their tasks)."""
        found = (client or self.scheduler).task_search(task_str=key) or {}
        for tasks in found.values():
            if key in tasks:
                return tasks[key]
        return None

    def try_acquire(self, key: str, owner: str) -> LuigidLease | None:
        sent = time.monotonic()
        state = self.task_state(key)
        if state and state["status"] == RUNNING:
            if state.get("worker_running") == owner:
                # Our earlier get_work was granted but its reply was lost (timeout).
                return LuigidLease(self, key, owner, sent)
            return None  # held: don't even become a stakeholder
        # deps=[]: the runner has checked the dependencies itself; a stale
        # dependency list in luigid must not keep the task unschedulable.
        self.scheduler.add_task(
            worker=owner, task_id=key, status=PENDING, runnable=True, deps=[], family=_family_of(key)
        )
        reply = self.scheduler.get_work(worker=owner, host=socket.gethostname()) or {}
        if reply.get("task_id") != key:
            return None
        return LuigidLease(self, key, owner, sent)

    def list_locks(self) -> list[LockInfo]:
        running = self.scheduler.task_list(status=RUNNING, upstream_status="", limit=False) or {}
        return [
            LockInfo(
                key=task_id,
                owner=str(state.get("worker_running") or "?"),
                acquired_at=state.get("time_running"),
                detail=str(state.get("display_name") or ""),
            )
            for task_id, state in sorted(running.items())
        ]

    def show(self, key: str) -> LockInfo | None:
        state = self.task_state(key)
        if not state or state["status"] != RUNNING:
            return None
        return LockInfo(key=key, owner=str(state.get("worker_running") or "?"), acquired_at=state.get("time_running"),
                        detail=str(state.get("display_name") or ""))  # fmt: skip

    def break_lock(self, key: str) -> bool:
        state = self.task_state(key)
        if not state or state["status"] != RUNNING or not state.get("worker_running"):
            return False
        # luigid only accepts a running task's end from the worker running it,
        # so the break speaks as that worker. Its next heartbeat sees FAILED.
        self.scheduler.add_task(
            worker=state["worker_running"], task_id=key, status=FAILED, runnable=False,
            expl="lock broken with `luigi-fargate locks break`",
        )  # fmt: skip
        return True
