"""The Fargate runner: each exported Luigi task runs as one ECS task, sized for it.

A subclass of the Amazon provider's ``EcsRunTaskOperator``: the provider
builds the RunTask request. This class adds what it lacks:

- **deferrable by default**: the wait moves to Airflow's triggerer, where all
  waiting tasks share one poller per cluster within an account-wide API
  budget (:mod:`airflow_bridge.triggers.cluster_poller`); the CloudWatch log
  is tailed there too, into this task instance's log;
- **crash safety**: the task ARN is kept in Airflow's ``task_state_store``
  (:class:`~airflow.sdk.ResumableJobMixin`), so a retry reattaches to a
  running ECS task, succeeds without rerunning one that finished with exit 0,
  and starts a new one only after a failure. RunTask's ``clientToken``
  (idempotent for 24 h) closes the window between RunTask and recording the
  ARN: the token is recorded first and re-sent by the retry;
- **kills that mean it**: a timeout, "mark failed", "mark success" or a clear
  stop the ECS task; a worker going away (SIGTERM to the task process, the
  same signal) doesn't: the operator asks Airflow for the task instance's
  state first, and the next try reattaches;
- RunTask throttling, capacity and vCPU-quota failures retried with backoff;
  a Spot interruption rerun on on-demand capacity when configured;
- **out-of-memory retries**: the try after an OOM stop asks for the next
  Fargate size up, within ``oom_memory_ceiling``
  (:mod:`airflow_bridge.operators.fargate_memory`);
- the container learns where it runs in Airflow (``AIRFLOW_CTX_*``, the map
  index) and the size it was given, for the runner's events;
- failures in words (:mod:`airflow_bridge.operators.ecs_outcome`), with the
  last log lines and console links to the task and its log stream.

Importing this module imports boto3 (through the provider): ``operator_for``
imports it only for specs whose runner is ``fargate``.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from airflow.providers.amazon.aws.exceptions import EcsOperatorError
from airflow.providers.amazon.aws.hooks.ecs import EcsTaskStates
from airflow.providers.amazon.aws.links.logs import CloudWatchEventsLink
from airflow.providers.amazon.aws.operators.ecs import EcsRunTaskOperator
from airflow.providers.amazon.aws.utils.identifiers import generate_uuid
from airflow.sdk import ResumableJobMixin
from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, TriggerFailureReason
from airflow.sdk.exceptions import AirflowException, AirflowTaskTimeout
from botocore.exceptions import ClientError

from airflow_bridge.hooks import ecs as ecs_calls
from airflow_bridge.hooks.clients import logs_client
from airflow_bridge.hooks.ecs import (
    describe_tasks,
    is_stopping_for_good,
    stop_task,
    task_summary,
)
from airflow_bridge.hooks.logs import TAIL_LINES, LogCursor
from airflow_bridge.hooks.retry import SERVER_CODES, THROTTLING_CODES, Backoff, describe_error, is_transient
from airflow_bridge.links.ecs import EcsTaskLink, cluster_name, ecs_task_id
from airflow_bridge.links.logs import log_stream_fields, log_stream_url
from airflow_bridge.operators.base import LuigiTaskMixin, airflow_context_env
from airflow_bridge.operators.ecs_outcome import (
    QUOTA_FAILURE,
    SIGKILL_EXIT,
    EcsOutcome,
    classify,
    is_retryable_start_failure,
)
from airflow_bridge.operators.fargate_memory import TaskSize, record_oom, size_after_oom
from airflow_bridge.operators.fargate_wait import (
    KillRequested,
    Stopped,
    SyncWait,
    TaskGone,
    WaitAbandoned,
    drain,
)
from airflow_bridge.operators.outcome import raise_for_exit_code
from airflow_bridge.triggers.ecs import EcsTaskStoppedTrigger
from luigi_fargate.spec.runner_log import SIZE_CPU_ENV, SIZE_MEMORY_ENV
from luigi_fargate.validators import tag_safe

#: task_state_store key of the token sent with the last RunTask ({"token": ..., "arn": ... or None}).
CLIENT_TOKEN_KEY = "ecs_client_token"
#: task_state_store key set once a Spot-interrupted task was rerun on on-demand capacity.
ON_DEMAND_KEY = "ecs_on_demand_fallback"
#: task_state_store key counting re-deferrals after the trigger itself failed.
REDEFER_KEY = "ecs_redeferrals"
MAX_REDEFERRALS = 3
CLIENT_TOKEN_MAX = 64
#: Added to the attempt number in the clientToken of a relaunch on on-demand capacity.
ON_DEMAND_TOKEN_OFFSET = 1000
#: ECS lastStatus values before STOPPED (a retry can reattach to these): the provider's states.
ACTIVE_STATES = frozenset(s.value for s in EcsTaskStates) - {EcsTaskStates.STOPPED.value, EcsTaskStates.NONE.value}
#: Task instance states in which a SIGTERM means "the worker goes away", not "stop the job".
STILL_RUNNING = "running"
DESCRIBE_TRIES = 5


def client_token(dag_id: str, task_id: str, run_id: str, map_index: int, try_number: int, attempt: int = 0) -> str:
    """A RunTask ``clientToken`` (<= 64 chars) that the same try of the same task instance always gets."""
    key = "\0".join(map(str, (dag_id, task_id, run_id, map_index, try_number, attempt)))
    return hashlib.sha256(key.encode()).hexdigest()[:CLIENT_TOKEN_MAX]


def started_by(ti: Any) -> str:
    """The provider's deterministic id of a task instance (startedBy allows only [A-Za-z0-9-/_])."""
    return generate_uuid(ti.dag_id, ti.task_id, ti.run_id, str(getattr(ti, "map_index", -1)))


def on_demand(strategy: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The same strategy with Fargate Spot replaced by on-demand Fargate."""
    out: list[dict[str, Any]] = []
    for item in strategy or [{"capacityProvider": "FARGATE", "weight": 1}]:
        provider = "FARGATE" if item.get("capacityProvider") == "FARGATE_SPOT" else item.get("capacityProvider")
        if all(o["capacityProvider"] != provider for o in out):
            out.append({**item, "capacityProvider": provider})
    return out


def with_environment(overrides: dict[str, Any] | None, container: str | None, env: dict[str, str]) -> dict[str, Any]:
    """A copy of RunTask ``overrides`` whose container override also sets ``env`` (replacing equal names)."""
    out = copy.deepcopy(overrides or {})
    containers = out.setdefault("containerOverrides", [])
    target = next((c for c in containers if c.get("name") == container), None) or (containers[0] if containers else None)
    if target is None:
        target = {"name": container}
        containers.append(target)
    kept = [e for e in target.get("environment") or [] if e.get("name") not in env]
    target["environment"] = kept + [{"name": k, "value": v} for k, v in sorted(env.items())]
    return out


class Start(Enum):
    """What one RunTask attempt came to."""

    STARTED = "started"
    RETRY_SAME_TOKEN = "retry with the same token"  # rejected before ECS acted on it
    RETRY_NEW_TOKEN = "retry with a new token"  # ECS answered that nothing started
    FRESH = "start afresh"  # a stale recorded token: forget it, no pause


class LuigiFargateOperator(LuigiTaskMixin, ResumableJobMixin, EcsRunTaskOperator):
    """Run one Luigi task as an ECS task (Fargate by default) through the container's runner.

    :param poll_seconds: seconds between DescribeTasks rounds and log pages
    :param start_attempts: RunTask tries on throttling, missing capacity or a full vCPU quota
    :param start_backoff_seconds: first pause between those tries (doubles each time)
    :param enable_ecs_managed_tags: ask ECS to add its own cluster/service tags
    :param describe_tasks_per_second: account-wide DescribeTasks budget of the shared poller
    :param get_log_events_per_second: account-wide GetLogEvents budget of the shared log reader
    :param triggerers: triggerer processes that share those budgets
    :param spot_fallback_to_on_demand: rerun a Spot-interrupted task at once on on-demand Fargate
    :param oom_memory_ceiling: MiB a retry after an out-of-memory stop may ask for (0: no bigger retries)
    All other parameters are ``EcsRunTaskOperator``'s; ``deferrable`` defaults to True.
    """

    external_id_key = "ecs_task_arn"
    operator_extra_links = (CloudWatchEventsLink(), EcsTaskLink())
    template_fields: Sequence[str] = tuple(EcsRunTaskOperator.template_fields)
    ui_color = "#fdf1e3"

    def __init__(
        self,
        *,
        poll_seconds: float = 6,
        start_attempts: int = 5,
        start_backoff_seconds: float = 5,
        enable_ecs_managed_tags: bool = True,
        describe_tasks_per_second: float = 1.0,
        get_log_events_per_second: float = 10.0,
        triggerers: int = 1,
        spot_fallback_to_on_demand: bool = False,
        oom_memory_ceiling: int = 30720,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("deferrable", True)
        kwargs.setdefault("waiter_delay", int(max(poll_seconds, 1)))
        kwargs.setdefault("awslogs_fetch_interval", timedelta(seconds=poll_seconds))
        kwargs.setdefault("number_logs_exception", TAIL_LINES)
        super().__init__(**kwargs)
        self.poll_seconds = poll_seconds
        self.start_attempts = max(1, start_attempts)
        self.start_backoff_seconds = start_backoff_seconds
        self.enable_ecs_managed_tags = enable_ecs_managed_tags
        self.describe_tasks_per_second = describe_tasks_per_second
        self.get_log_events_per_second = get_log_events_per_second
        self.triggerers = triggerers
        self.spot_fallback_to_on_demand = spot_fallback_to_on_demand
        self.oom_memory_ceiling = oom_memory_ceiling
        self._run_env: dict[str, str] = {}
        self._oom_checked = False
        self._kill: threading.Event | None = None  # made per run: operators are copied, events can't be
        self._token_offset = 0
        self._start_problem = ""

    # --- ResumableJobMixin: submit, status, wait ----------------------------

    def execute(self, context: Any) -> Any:
        self._kill = threading.Event()
        self.log.info(
            "Luigi task %s (exported as %s) -> ECS cluster %s, task definition %s; the runner's first line names this run's id",
            self.luigi_family, self.luigi_label, self.cluster, self.task_definition,
        )
        try:
            return self.execute_resumable(context)
        except AirflowTaskTimeout:  # raised wherever the run was, by Airflow's execution_timeout alarm
            self._stop_ecs_task("execution_timeout reached (Airflow)")
            raise

    def submit_job(self, context: Any) -> str:
        """RunTask with a recorded ``clientToken``; retried on throttling, missing capacity and a full quota."""
        store = context.get("task_state_store")
        ti = context["ti"]
        self._started_by = started_by(ti)
        if store is not None and store.get(ON_DEMAND_KEY):
            self.capacity_provider_strategy = on_demand(self.capacity_provider_strategy)
        self._size_after_oom(store)
        self._run_env = self._container_environment(context)
        previous = (store.get(CLIENT_TOKEN_KEY) if store is not None else None) or {}
        resend: str | None = None
        if previous.get("token") and not previous.get("arn"):
            # A worker died between RunTask and recording its ARN: the same token
            # makes ECS return that task instead of starting a second one.
            resend = previous["token"]
            self.log.info("re-sending RunTask with the recorded clientToken %s (a previous try did not record its ECS task)", resend)
        for attempt in range(self.start_attempts):
            token = resend or client_token(ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1), ti.try_number, attempt + self._token_offset)
            resend = None
            self._record_token(store, token, None)
            result = self._start_once(token, recorded=token == previous.get("token"))
            if result is Start.STARTED:
                self._record_token(store, token, self.arn)
                assert self.arn is not None
                return self.arn
            if result is Start.FRESH:
                previous = {}
                continue
            if result is Start.RETRY_SAME_TOKEN:
                resend = token
            if attempt + 1 < self.start_attempts:
                self._pause_before_start(attempt)
        raise AirflowException(f"Luigi task {self.luigi_task_words}: RunTask gave up after {self.start_attempts} tries: {self._start_problem}")

    def _asked_size(self) -> TaskSize | None:
        return TaskSize.from_fields(self.overrides)

    def _size_after_oom(self, store: Any) -> None:
        """After an out-of-memory stop of this task instance, ask for the next size up (and say so)."""
        if self._oom_checked:  # once per try: a relaunch on on-demand capacity keeps this try's size
            return
        self._oom_checked = True
        retry = size_after_oom(store, self._asked_size(), self.oom_memory_ceiling)
        if retry is None:
            return
        self.log.warning("Luigi task %s: %s", self.luigi_family, retry.words)
        if retry.size is not None:
            self.overrides = {**(self.overrides or {}), "cpu": str(retry.size.cpu), "memory": str(retry.size.memory)}

    def _container_environment(self, context: Any) -> dict[str, str]:
        """What the runner reads about its run: Airflow's ids (for its events) and the size asked for (usage)."""
        env = airflow_context_env(context)
        size = self._asked_size()
        if size is not None:
            env[SIZE_CPU_ENV], env[SIZE_MEMORY_ENV] = str(size.cpu), str(size.memory)
        return env

    def _record_out_of_memory(self, context: Any, task: dict[str, Any]) -> None:
        """The size an OOM-stopped task had (as ECS describes it, else as this try asked), for the next try."""
        record_oom(context.get("task_state_store"), TaskSize.from_fields(task) or self._asked_size())

    @staticmethod
    def _record_token(store: Any, token: str, arn: str | None) -> None:
        if store is not None:
            store.set(CLIENT_TOKEN_KEY, {"token": token, "arn": arn})

    def _start_once(self, token: str, recorded: bool) -> Start:
        try:
            self._start_task_with(token)
        except EcsOperatorError as exc:
            reasons = "; ".join(f"{f.get('reason', '')} {f.get('detail', '') or ''}".strip() for f in exc.failures)
            if is_retryable_start_failure(reasons):
                self._start_problem = f"RunTask failures: {reasons}"
                return Start.RETRY_NEW_TOKEN
            raise AirflowException(f"Luigi task {self.luigi_task_words}: ECS could not start the task: {reasons}") from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "")
            if code in THROTTLING_CODES | SERVER_CODES or QUOTA_FAILURE.search(message):
                self._start_problem = f"RunTask {code}: {message}"
                return Start.RETRY_SAME_TOKEN
            if code == "ConflictException" and recorded:
                return self._adopt_after_conflict(token)
            raise
        return Start.STARTED

    def _adopt_after_conflict(self, token: str) -> Start:
        """The recorded token was used with other parameters (the spec changed since, e.g. a deploy):
        find the task it started by our startedBy, else start afresh."""
        arns = self.client.list_tasks(cluster=self.cluster, startedBy=self._started_by, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            self.log.warning("clientToken %s was used with other parameters and no task of ours is running; starting a new one", token)
            return Start.FRESH
        self.arn = arns[0]
        self.log.info("reattaching to %s, started by an earlier try whose ARN was never recorded", self.arn)
        return Start.STARTED

    def _pause_before_start(self, attempt: int) -> None:
        delay = self.start_backoff_seconds * (2**attempt)
        self.log.warning("%s; trying again in %.0f s (try %d of %d)", self._start_problem, delay, attempt + 2, self.start_attempts)
        if self._kill is not None and self._kill.wait(delay):
            raise AirflowException(f"Luigi task {self.luigi_task_words}: stopped while waiting to start the ECS task")
        if self._kill is None:
            time.sleep(delay)

    def _start_task_with(self, token: str) -> None:
        """The provider's ``_start_task``, plus the RunTask fields it doesn't know (clientToken, managed tags).

        They're added through botocore's ``before-parameter-build`` event, so
        the provider still builds every other field of the request.
        """
        def add_fields(params: dict[str, Any], **_: Any) -> None:
            params["clientToken"] = token
            params["enableECSManagedTags"] = self.enable_ecs_managed_tags
            if self._run_env:
                params["overrides"] = with_environment(params.get("overrides"), self.container_name, self._run_env)

        if self.tags:  # rendered run-time values (run ids) must be valid tag values too
            self.tags = {k: tag_safe(str(v)) for k, v in self.tags.items()}
        events = self.client.meta.events
        unique_id = f"luigi-fargate-run-task-{id(self)}"
        events.register("before-parameter-build.ecs.RunTask", add_fields, unique_id=unique_id)
        try:
            self._start_task()
        except IndexError:  # RunTask answered no task and no failure (EC2 capacity with no room)
            raise EcsOperatorError([{"reason": "RESOURCE: no container instance could place the task"}], {}) from None
        finally:
            events.unregister("before-parameter-build.ecs.RunTask", unique_id=unique_id)

    def get_job_status(self, external_id: Any, context: Any) -> str:
        """ECS lastStatus while active; SUCCEEDED or FAILED (in words in the log) once stopped."""
        arn = str(external_id)
        task = self._describe_one(arn)
        if task is None:
            time.sleep(ecs_calls.MISSING_CONFIRM_SECONDS)  # MISSING only counts when a later call confirms it
            task = self._describe_one(arn)
        if task is None:
            self.log.info("ECS task %s from an earlier try is gone; starting a new one", arn)
            return "MISSING"
        if is_stopping_for_good(task):
            self.log.info("ECS task %s from an earlier try was stopped (%s); starting a new one", arn, task.get("stoppedReason"))
            return "FAILED"
        status = task.get("lastStatus", "")
        if status in ACTIVE_STATES:
            self.log.info("ECS task %s from an earlier try is still %s: reattaching to it", arn, status)
            return status
        outcome = classify(task_summary(task), self.container_name)
        self.log.info("ECS task %s from an earlier try stopped: %s", arn, outcome.words)
        if outcome.out_of_memory:  # that try's worker may have died before it saw this
            self._record_out_of_memory(context, task_summary(task))
        return "SUCCEEDED" if outcome.succeeded else "FAILED"

    def _describe_one(self, arn: str) -> dict[str, Any] | None:
        """DescribeTasks for one task, retried with backoff on throttling and 5xx."""
        backoff = Backoff(base=1.0, cap=20.0)
        for attempt in range(DESCRIBE_TRIES):
            try:
                return describe_tasks(self.client, self.cluster, [arn]).found.get(arn)
            except Exception as exc:
                if not is_transient(exc) or attempt + 1 == DESCRIBE_TRIES:
                    raise AirflowException(f"Luigi task {self.luigi_task_words}: can't read ECS task {arn}: {describe_error(exc)}") from exc
                time.sleep(backoff.next_delay())
        return None

    def is_job_active(self, status: str) -> bool:
        return status in ACTIVE_STATES

    def is_job_succeeded(self, status: str) -> bool:
        return status == "SUCCEEDED"

    def poll_until_complete(self, external_id: Any, context: Any) -> None:
        self.arn = str(external_id)
        self._announce(context)
        if self.deferrable:
            self._defer(context)
        while True:
            stopped = self._wait_here(context)
            relaunched = self._conclude(context, stopped.task, stopped.log, stopped.log_complete)
            if relaunched is None:
                return
            self.arn = relaunched
            self._announce(context)

    def get_job_result(self, external_id: Any, context: Any) -> None:
        if not self.arn:  # already succeeded in an earlier try: nothing was waited for
            self.arn = str(external_id)
            self._announce(context)
            self.log.info("ECS task %s already finished with exit 0 in an earlier try; not running it again", self.arn)
        return None

    # --- waiting: in the triggerer, or here ---------------------------------

    def _defer(self, context: Any) -> None:
        logs = self._aws_logs_enabled()
        self.defer(
            trigger=EcsTaskStoppedTrigger(
                cluster=self.cluster, task_arn=str(self.arn), aws_conn_id=self.aws_conn_id, region=self.region_name,
                poll_seconds=self.poll_seconds, container_name=self.container_name,
                log_group=self.awslogs_group if logs else None, log_stream=self._get_logs_stream_name() if logs else None,
                log_region=self.resolve_awslogs_region(), describe_tasks_per_second=self.describe_tasks_per_second,
                get_log_events_per_second=self.get_log_events_per_second, triggerers=self.triggerers,
            ),
            method_name="execute_complete",
            timeout=self._time_left(context),
        )  # fmt: skip

    def _time_left(self, context: Any) -> timedelta | None:
        """What remains of ``execution_timeout`` (the deferral timeout, which Airflow enforces)."""
        if not self.execution_timeout:
            return None
        start = getattr(context.get("ti"), "start_date", None)
        if not isinstance(start, datetime):
            return self.execution_timeout
        left = self.execution_timeout - (datetime.now(UTC) - start)
        return max(left, timedelta(seconds=1))

    def _wait_here(self, context: Any) -> Stopped:
        cursor = LogCursor(str(self.awslogs_group), self._get_logs_stream_name()) if self._aws_logs_enabled() else None
        wait = SyncWait(
            ecs=self.client, cluster=self.cluster, arn=str(self.arn), poll_seconds=self.poll_seconds,
            kill=self._kill or threading.Event(), say=self.log.warning, emit=self._emit, log=cursor,
            logs=logs_client(self.aws_conn_id, self.resolve_awslogs_region()) if cursor else None,
        )  # fmt: skip
        try:
            return wait.run()
        except KillRequested:
            self._on_kill_request(context)
            raise
        except TaskGone as exc:
            raise AirflowException(f"Luigi task {self.luigi_task_words}: {exc}; its outcome is unknown") from None
        except WaitAbandoned as exc:
            self._stop_ecs_task("luigi-fargate could not watch the task")
            raise AirflowException(f"Luigi task {self.luigi_task_words}: can't watch ECS task {self.arn}: {exc}; stopped it") from None

    def _emit(self, line: str) -> None:
        self.log.info("[%s] %s", self.container_name, line)
        if self.note_runner_line(line):
            self.log.info("Luigi task id of this run: %s", self.run_task_id)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        """Resume after the trigger: the log lines it hadn't read yet, then the verdict from its event."""
        event = event or {}
        self.arn = event.get("task_arn") or self.arn
        status = event.get("status")
        if status == "stopped":
            cursor, complete = self._finish_log(event.get("log"))
            relaunched = self._conclude(context, event["task"], cursor, complete)
            if relaunched is not None:
                self.arn = relaunched
                self._announce(context)
                self._defer(context)
            return None
        if status == "missing":
            raise AirflowException(
                f"Luigi task {self.luigi_task_words}: ECS task {self.arn} is gone from cluster {self.cluster} "
                "(stopped tasks are kept about an hour); its outcome is unknown, so Airflow retries it"
            )
        self._stop_ecs_task("luigi-fargate could not watch the task")
        raise AirflowException(f"Luigi task {self.luigi_task_words}: waiting for ECS task {self.arn} failed: {event.get('message', event)}; stopped it")

    def _finish_log(self, log_event: dict[str, Any] | None) -> tuple[LogCursor | None, bool]:
        """Read what the trigger left unread (from its position on); errors only cost log lines."""
        if not log_event:
            return None, True
        cursor = LogCursor.from_event(log_event)
        if log_event.get("complete"):
            return cursor, True
        client = logs_client(self.aws_conn_id, self.resolve_awslogs_region())
        return cursor, drain(cursor, client, self._emit, self.log.warning)

    # --- kills ----------------------------------------------------------------

    def on_kill(self) -> None:
        """SIGTERM (a user's kill, or the worker going away) or a timeout: the waiting loop decides.

        The wait wakes within a second, asks Airflow for this task instance's
        state, and stops the ECS task unless the task instance is still
        running (then only this worker goes; the retry reattaches).
        """
        if self._kill is not None:
            self._kill.set()

    def _on_kill_request(self, context: Any) -> None:
        state = self._task_instance_state(context)
        if state in (None, STILL_RUNNING):
            raise AirflowException(
                f"Luigi task {self.luigi_task_words}: this worker is stopping (task instance {state or 'state unknown'}); "
                f"ECS task {self.arn} keeps running and the next try reattaches to it"
            )
        self._stop_ecs_task(f"Airflow task instance is {state} (stopped from Airflow)")
        raise AirflowException(f"Luigi task {self.luigi_task_words}: stopped ECS task {self.arn}: the Airflow task instance is {state}")

    def _task_instance_state(self, context: Any) -> str | None:
        from airflow_bridge.hooks.airflow_state import task_instance_state

        ti = context["ti"]
        try:
            return task_instance_state(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))
        except Exception as exc:  # noqa: BLE001 - unknown: keep the ECS task (the sweeper has the last word)
            self.log.warning("could not ask Airflow for this task instance's state (%s)", exc)
            return None

    def _stop_ecs_task(self, reason: str) -> None:
        if not self.arn:
            return
        try:
            stopped = stop_task(self.client, self.cluster, self.arn, reason)
        except Exception as exc:  # noqa: BLE001 - the sweeper stops what this could not
            self.log.error("could not stop ECS task %s (%s); `luigi-fargate ecs sweep` will", self.arn, describe_error(exc))
            return
        self.log.warning("ECS task %s %s: %s", self.arn, "stopped" if stopped else "was already gone", reason)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Any) -> Any:
        """Airflow resumes a deferred task with ``__fail__`` after a deferral timeout or a failed trigger.

        Timeout (``execution_timeout``): the ECS task is stopped before the
        task fails. A failed trigger is no verdict on the ECS task: if it has
        stopped, its own outcome decides; if it still runs, wait again (at
        most three times), else stop it and fail.
        """
        if next_method == TRIGGER_FAIL_REPR:
            self._kill = threading.Event()
            store = context.get("task_state_store")
            self.arn = (store.get(self.external_id_key) if store is not None else None) or self.arn
            error = (next_kwargs or {}).get("error")
            if self.arn and error == TriggerFailureReason.TRIGGER_TIMEOUT:
                self._stop_ecs_task("execution_timeout reached while deferred (Airflow)")
            elif self.arn:
                self._recover_from_trigger_failure(context, store)
                return None
        return super().resume_execution(next_method, next_kwargs, context)

    def _recover_from_trigger_failure(self, context: Any, store: Any) -> None:
        assert self.arn is not None
        task = self._describe_one(self.arn)
        if task is not None and task.get("lastStatus") == EcsTaskStates.STOPPED:
            self.log.warning("the trigger failed, but ECS task %s has stopped: its own outcome decides", self.arn)
            relaunched = self._conclude(context, task_summary(task), None, False)
            if relaunched is not None:
                self.arn = relaunched
                self._defer(context)
            return
        redeferrals = int((store.get(REDEFER_KEY) if store is not None else None) or 0)
        if task is not None and redeferrals < MAX_REDEFERRALS:
            if store is not None:
                store.set(REDEFER_KEY, redeferrals + 1)
            self.log.warning("the trigger failed while ECS task %s is %s: waiting again", self.arn, task.get("lastStatus"))
            self._defer(context)
        self._stop_ecs_task("luigi-fargate could not watch the task (its trigger kept failing)")
        raise AirflowException(f"Luigi task {self.luigi_task_words}: the trigger watching ECS task {self.arn} kept failing; stopped it")

    # --- verdict, logs, links -------------------------------------------------

    def _conclude(self, context: Any, task: dict[str, Any], cursor: LogCursor | None, log_complete: bool) -> str | None:
        """None on success; the new ARN after a Spot interruption rerun on on-demand; else raise in words."""
        outcome: EcsOutcome = classify(task, self.container_name)
        if cursor is not None and cursor.run_task_id and not self.run_task_id:
            self.run_task_id = cursor.run_task_id  # read by the trigger, in the triggerer
            self.log.info("Luigi task id of this run: %s", self.run_task_id)
        if outcome.out_of_memory:
            self._record_out_of_memory(context, task)
        if outcome.succeeded:
            self.log.info("ECS task %s: %s", self.arn, outcome.words)
            return None
        if outcome.spot_interrupted and self.spot_fallback_to_on_demand and not self._on_demand_already(context):
            self.log.warning("ECS task %s: %s; running it again on on-demand FARGATE capacity", self.arn, outcome.words)
            return self._relaunch_on_demand(context)
        detail = [f"ECS task {self.arn}; stopCode {task.get('stopCode') or '-'}; {task.get('stoppedReason') or ''}".rstrip("; ")]
        if self._aws_logs_enabled():
            tail = self._failure_tail(cursor, log_complete)
            detail.append(f"log: {self._log_console_url()}")
            if tail:
                detail.append(f"last {len(tail)} log lines:\n" + "\n".join(tail))
        if outcome.infrastructure or outcome.exit_code in (None, SIGKILL_EXIT, 0) or task.get("stopCode") == "UserInitiated":
            raise AirflowException(f"Luigi task {self.luigi_task_words}: {outcome.words}\n" + "\n".join(detail))
        raise_for_exit_code(outcome.exit_code, self.luigi_task_words, "\n".join(detail))
        return None

    def _failure_tail(self, cursor: LogCursor | None, log_complete: bool) -> list[str]:
        """The last log lines for a failure message: what the reader saw, else one call for them."""
        if cursor is not None and cursor.tail and log_complete:
            return list(cursor.tail)[-self.number_logs_exception :]
        probe = cursor or LogCursor(str(self.awslogs_group), self._get_logs_stream_name())
        client = logs_client(self.aws_conn_id, self.resolve_awslogs_region())
        backoff = Backoff(base=0.5, cap=5.0)
        for _ in range(3):
            try:
                return probe.last_lines(client, self.number_logs_exception)
            except Exception as exc:  # noqa: BLE001 - logs never decide a verdict
                if not is_transient(exc):
                    break
                time.sleep(backoff.next_delay())
        return list(probe.tail)[-self.number_logs_exception :]

    def _on_demand_already(self, context: Any) -> bool:
        store = context.get("task_state_store")
        return bool(store is not None and store.get(ON_DEMAND_KEY)) or self._token_offset == ON_DEMAND_TOKEN_OFFSET

    def _relaunch_on_demand(self, context: Any) -> str:
        store = context.get("task_state_store")
        if store is not None:
            store.set(ON_DEMAND_KEY, True)
        self._token_offset = ON_DEMAND_TOKEN_OFFSET
        self.capacity_provider_strategy = on_demand(self.capacity_provider_strategy)
        arn = self.submit_job(context)
        if store is not None:
            store.set(self.external_id_key, arn)
        return arn

    def _log_console_url(self) -> str:
        return log_stream_url(self.resolve_awslogs_region(), self.hook.conn_partition, str(self.awslogs_group), self._get_logs_stream_name())

    def _announce(self, context: Any) -> None:
        """Console links (ECS task, log stream) and the ARN in XCom, for the UI and for people."""
        if self.do_xcom_push:
            context["ti"].xcom_push(key="ecs_task_arn", value=self.arn)
        region, partition = self.region_name, self.hook.conn_partition
        EcsTaskLink.persist(context=context, operator=self, region_name=region, aws_partition=partition,
                            cluster=cluster_name(self.cluster), task_id=ecs_task_id(str(self.arn)))  # fmt: skip
        if not self._aws_logs_enabled():
            return
        CloudWatchEventsLink.persist(
            context=context, operator=self, region_name=self.resolve_awslogs_region(), aws_partition=partition,
            **log_stream_fields(self.resolve_awslogs_region(), str(self.awslogs_group), self._get_logs_stream_name()),
        )  # fmt: skip
        self.log.info("container log: %s", self._log_console_url())
