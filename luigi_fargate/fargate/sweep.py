"""Orphan sweeping: ECS tasks these operators started whose Airflow task instance is no longer running.

Every kill path stops its ECS task (a timeout, "mark failed", a clear), and
a worker that dies leaves its task for the retry to reattach to. What can
still be left over: a task whose last try failed without a retry after its
worker vanished, a kill whose StopTask failed, a triggerer that died in
``on_kill``. Fargate bills those until they end. The sweeper lists the
cluster's running tasks, keeps the ones tagged by the operator (``dag_id``,
``airflow_task_id``, ``airflow_run_id``), asks Airflow for each task
instance's state, and stops those whose task instance has finished, once
the task is older than the grace period.

Standard library only, with the boto3 ECS client and the state source passed
in: the CLI (``luigi-fargate ecs sweep``) asks Airflow's REST API, the DAG
factory (``airflow_bridge.sweeper``) the Execution API, tests a list.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from luigi_fargate.errors import UserError

#: Task instance states after which no try of it can own an ECS task any more.
FINISHED_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
#: The tags by which the operator marks its tasks (see airflow_bridge.operators.fargate_spec.cost_tags).
DAG_TAG, TASK_TAG, RUN_TAG, TRY_TAG = "dag_id", "airflow_task_id", "airflow_run_id", "airflow_try_number"
STOP_REASON = "luigi-fargate ecs sweep: its Airflow task instance is {state}"
DESCRIBE_BATCH = 100


@dataclass(frozen=True)
class EcsRun:
    """A running ECS task started by a luigi-fargate operator."""

    arn: str
    dag_id: str
    task_id: str
    run_id: str
    try_number: str
    last_status: str
    created_at: dt.datetime | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.dag_id, self.run_id, self.task_id)


@dataclass(frozen=True)
class InstanceState:
    """What Airflow says about one task instance. ``known=False``: Airflow could not be asked."""

    state: str | None
    end_date: dt.datetime | None = None
    found: bool = True
    known: bool = True


@dataclass(frozen=True)
class Decision:
    run: EcsRun
    airflow: InstanceState
    action: str  # "stop", "keep", "wait" (grace period), "stopped", "would stop", "stop failed"
    why: str


StateSource = Callable[[list[tuple[str, str, str]]], dict[tuple[str, str, str], InstanceState]]


def _created(task: dict[str, Any]) -> dt.datetime | None:
    value = task.get("createdAt") or task.get("startedAt")
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def list_runs(ecs: Any, cluster: str) -> list[EcsRun]:
    """The cluster's running tasks that carry the operator's tags (ListTasks, then DescribeTasks with tags)."""
    arns: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, desiredStatus="RUNNING"):
        arns += page.get("taskArns", [])
    runs = []
    for start in range(0, len(arns), DESCRIBE_BATCH):
        response = ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + DESCRIBE_BATCH], include=["TAGS"])
        for task in response.get("tasks", []):
            tags = {t["key"]: t["value"] for t in task.get("tags") or []}
            if not all(tags.get(k) for k in (DAG_TAG, TASK_TAG, RUN_TAG)):
                continue  # not started by a luigi-fargate operator
            runs.append(EcsRun(
                task["taskArn"], tags[DAG_TAG], tags[TASK_TAG], tags[RUN_TAG], tags.get(TRY_TAG, "?"),
                task.get("lastStatus", ""), _created(task),
            ))  # fmt: skip
    return runs


def decide(runs: Iterable[EcsRun], states: StateSource, now: dt.datetime, grace: dt.timedelta) -> list[Decision]:
    """Stop a task when its task instance has finished (or no longer exists), both longer ago than ``grace``."""
    runs = list(runs)
    answers = states(sorted({r.key for r in runs}))
    out = []
    for run in runs:
        airflow = answers.get(run.key, InstanceState(None, known=False))
        if not airflow.known:
            out.append(Decision(run, airflow, "keep", "Airflow could not be asked"))
        elif airflow.found and airflow.state not in FINISHED_STATES:
            out.append(Decision(run, airflow, "keep", f"task instance is {airflow.state or 'waiting to run'}"))
        elif _younger_than(grace, now, run.created_at, airflow.end_date):
            out.append(Decision(run, airflow, "wait", f"orphan, within the grace period of {int(grace.total_seconds())} s"))
        else:
            state = airflow.state if airflow.found else "gone"
            out.append(Decision(run, airflow, "stop", f"task instance is {state}"))
    return out


def _younger_than(grace: dt.timedelta, now: dt.datetime, *moments: dt.datetime | None) -> bool:
    return any(m is not None and now - m < grace for m in moments)


def stop(ecs: Any, cluster: str, decisions: list[Decision], dry_run: bool) -> list[Decision]:
    """StopTask for every "stop" decision (unless ``dry_run``); the decisions with what happened."""
    out = []
    for d in decisions:
        if d.action != "stop":
            out.append(d)
        elif dry_run:
            out.append(replace(d, action="would stop"))
        else:
            state = d.airflow.state if d.airflow.found else "gone"
            try:
                ecs.stop_task(cluster=cluster, task=d.run.arn, reason=STOP_REASON.format(state=state)[:255])
                out.append(replace(d, action="stopped"))
            except Exception as exc:  # noqa: BLE001 - reported in the table; the next sweep tries again
                out.append(replace(d, action="stop failed", why=f"{d.why}; StopTask: {exc}"))
    return out


# --- where the task instance states come from -------------------------------------------


def _datetime(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def states_from_file(path: str | Path) -> StateSource:
    """States listed in a JSON file: ``[{"dag_id", "run_id", "task_id", "state", "end_date"?}, ...]``;
    a task instance missing from the list counts as gone."""
    try:
        rows = json.loads(Path(path).read_text())
        table = {(r["dag_id"], r["run_id"], r["task_id"]): InstanceState(r.get("state"), _datetime(r.get("end_date"))) for r in rows}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"--states {path}: expected a JSON list of {{dag_id, run_id, task_id, state}} objects ({exc})") from None

    def lookup(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], InstanceState]:
        return {k: table.get(k, InstanceState(None, found=False)) for k in keys}

    return lookup


@dataclass
class AirflowRestApi:
    """Airflow 3's public REST API (``/api/v2``), with a bearer token (given, or from ``/auth/token``)."""

    base_url: str
    token: str | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = 20.0

    def _request(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url.rstrip("/") + path, data=data, headers=headers, method="POST" if body else "GET")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - a configured http(s) URL
            return json.loads(response.read() or b"{}")

    def login(self) -> None:
        if self.token or not self.username:
            return
        try:
            self.token = self._request("/auth/token", {"username": self.username, "password": self.password or ""})["access_token"]
        except (urllib.error.URLError, KeyError, ValueError) as exc:
            raise UserError(f"{self.base_url}/auth/token: could not log in as {self.username!r} ({exc}); check the user and password") from None

    def state(self, key: tuple[str, str, str]) -> InstanceState:
        dag_id, run_id, task_id = (urllib.parse.quote(part, safe="") for part in key)
        try:
            ti = self._request(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return InstanceState(None, found=False)
            return InstanceState(None, known=False)
        except (urllib.error.URLError, OSError, ValueError):
            return InstanceState(None, known=False)
        return InstanceState(ti.get("state"), _datetime(ti.get("end_date")))

    def states(self, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], InstanceState]:
        self.login()
        return {key: self.state(key) for key in keys}
