"""The Fargate runner: each exported Luigi task runs as one ECS task, sized for it.

A subclass of the Amazon provider's ``EcsRunTaskOperator``: the provider
builds the RunTask request, streams the CloudWatch log stream into the task
log and stops the ECS task on kill. This class adds what it lacks:

- per-task size, capacity (Fargate, Fargate Spot, EC2) and cost tags, from the spec;
- crash safety: the task ARN is kept in Airflow's ``task_state_store``
  (:class:`~airflow.sdk.ResumableJobMixin`), so a retry after a worker died
  reattaches to a running ECS task, succeeds without rerunning one that
  finished with exit 0, and starts a new one only after a failure. RunTask's
  ``clientToken`` (idempotent for 24 h) closes the window between RunTask and
  recording the ARN: the token is recorded first and re-sent by the retry;
- RunTask throttling and capacity failures retried with backoff;
- failures in words (:mod:`airflow_bridge.ecs_outcome`), with the last log
  lines and a console link to the log stream;
- a wait that shares DescribeTasks calls between tasks (:mod:`airflow_bridge.ecs_wait`).

Importing this module imports boto3 (through the provider): ``operator_for``
imports it only for specs whose runner is ``fargate``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.providers.amazon.aws.exceptions import EcsOperatorError
from airflow.providers.amazon.aws.links.logs import CloudWatchEventsLink
from airflow.providers.amazon.aws.operators.ecs import EcsRunTaskOperator
from airflow.providers.amazon.aws.utils.identifiers import generate_uuid
from airflow.sdk import ResumableJobMixin
from airflow.sdk.exceptions import AirflowException
from botocore.exceptions import ClientError

from airflow_bridge.ecs_outcome import ACTIVE_STATUSES, EcsOutcome, classify, is_retryable_start_failure
from airflow_bridge.ecs_wait import EcsTaskStoppedTrigger, describe_tasks, wait_until_stopped
from airflow_bridge.operators.outcome import raise_for_exit_code
from airflow_bridge.operators.task_arguments import runner_arguments
from luigi_fargate.spec import Capacity, FargateRunner, PipelineSpec, TaskNode
from luigi_fargate.spec.params import literal_mapping

#: task_state_store key of the token sent with the last RunTask ({"token": ..., "arn": ... or None}).
CLIENT_TOKEN_KEY = "ecs_client_token"
CLIENT_TOKEN_MAX = 64
#: Log lines quoted in a failure message.
LOG_TAIL_LINES = 20
THROTTLING_CODES = frozenset({"ThrottlingException", "Throttling", "ServerException", "LimitExceededException", "RequestLimitExceeded"})


def client_token(dag_id: str, task_id: str, run_id: str, map_index: int, try_number: int, attempt: int = 0) -> str:
    """A RunTask ``clientToken`` (<= 64 chars) that the same try of the same task instance always gets."""
    key = "\0".join(map(str, (dag_id, task_id, run_id, map_index, try_number, attempt)))
    return hashlib.sha256(key.encode()).hexdigest()[:CLIENT_TOKEN_MAX]


class LuigiFargateOperator(ResumableJobMixin, EcsRunTaskOperator):
    """Run one Luigi task as an ECS task (Fargate by default) through the container's runner.

    :param luigi_module: module that defines the task family
    :param luigi_family: Luigi task family
    :param luigi_label: the Luigi task id, for messages
    :param poll_seconds: seconds between DescribeTasks and log fetches
    :param start_attempts: RunTask tries on throttling or missing capacity
    :param start_backoff_seconds: first pause between those tries (doubles each time)
    :param enable_ecs_managed_tags: ask ECS to add its own cluster/service tags
    All other parameters are ``EcsRunTaskOperator``'s.
    """

    external_id_key = "ecs_task_arn"
    operator_extra_links = (CloudWatchEventsLink(),)
    template_fields: Sequence[str] = tuple(EcsRunTaskOperator.template_fields)
    ui_color = "#fdf1e3"

    def __init__(
        self,
        *,
        luigi_module: str,
        luigi_family: str,
        luigi_label: str = "",
        poll_seconds: float = 6,
        start_attempts: int = 5,
        start_backoff_seconds: float = 5,
        enable_ecs_managed_tags: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("waiter_delay", int(max(poll_seconds, 1)))
        kwargs.setdefault("awslogs_fetch_interval", timedelta(seconds=poll_seconds))
        kwargs.setdefault("number_logs_exception", LOG_TAIL_LINES)
        super().__init__(**kwargs)
        self.luigi_module = luigi_module
        self.luigi_family = luigi_family
        self.luigi_label = luigi_label or luigi_family
        self.poll_seconds = poll_seconds
        self.start_attempts = max(1, start_attempts)
        self.start_backoff_seconds = start_backoff_seconds
        self.enable_ecs_managed_tags = enable_ecs_managed_tags

    # --- ResumableJobMixin: submit, status, wait ----------------------------

    def execute(self, context: Any) -> Any:
        self.log.info("Luigi task %s -> ECS cluster %s, task definition %s", self.luigi_label, self.cluster, self.task_definition)
        return self.execute_resumable(context)

    def submit_job(self, context: Any) -> str:
        """RunTask with a recorded ``clientToken``; retried on throttling and missing capacity."""
        store = context.get("task_state_store")
        ti = context["ti"]
        # startedBy allows [A-Za-z0-9-/_] only (the provider sends the owner, often an e-mail):
        # the provider's own deterministic id for this task instance, the same on every try.
        self._started_by = generate_uuid(ti.dag_id, ti.task_id, ti.run_id, str(getattr(ti, "map_index", -1)))
        previous = (store.get(CLIENT_TOKEN_KEY) if store is not None else None) or {}
        resend: str | None = None
        if previous.get("token") and not previous.get("arn"):
            # A worker died between RunTask and recording its ARN: the same token
            # makes ECS return that task instead of starting a second one.
            resend = previous["token"]
            self.log.info("re-sending RunTask with the recorded clientToken %s (a previous try did not record its ECS task)", resend)
        for attempt in range(self.start_attempts):
            if resend is not None:
                token, resend = resend, None
            else:
                token = client_token(ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1), ti.try_number, attempt)
            if store is not None:
                store.set(CLIENT_TOKEN_KEY, {"token": token, "arn": None})
            try:
                self._start_task_with(token)
            except EcsOperatorError as exc:
                reasons = "; ".join(f"{f.get('reason', '')} {f.get('detail', '') or ''}".strip() for f in exc.failures)
                if attempt + 1 < self.start_attempts and is_retryable_start_failure(reasons):
                    self._pause_before_start(attempt, f"RunTask failures: {reasons}")
                    continue
                raise AirflowException(f"Luigi task {self.luigi_label}: ECS could not start the task: {reasons}") from None
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if attempt + 1 < self.start_attempts and code in THROTTLING_CODES:
                    resend = token  # rejected before ECS acted on it: the same request again
                    self._pause_before_start(attempt, f"RunTask {code}")
                    continue
                if code == "ConflictException" and token == previous.get("token"):
                    # The recorded token was used with other parameters (the spec changed since,
                    # e.g. a deploy): find the task it started by our startedBy, else start afresh.
                    self.arn = self._running_task_started_by_us()
                    if self.arn is None:
                        previous = {}
                        self.log.warning("clientToken %s was used with other parameters and no task of ours is running; starting a new one", token)
                        continue
                    self.log.info("reattaching to %s, started by an earlier try whose ARN was never recorded", self.arn)
                else:
                    raise
            assert self.arn is not None
            if store is not None:
                store.set(CLIENT_TOKEN_KEY, {"token": token, "arn": self.arn})
            return self.arn
        raise AirflowException(f"Luigi task {self.luigi_label}: RunTask gave up after {self.start_attempts} tries")

    def _running_task_started_by_us(self) -> str | None:
        arns = self.client.list_tasks(cluster=self.cluster, startedBy=self._started_by, desiredStatus="RUNNING")["taskArns"]
        return arns[0] if arns else None

    def _pause_before_start(self, attempt: int, why: str) -> None:
        delay = self.start_backoff_seconds * (2**attempt)
        self.log.warning("%s; trying again in %.0f s (try %d of %d)", why, delay, attempt + 2, self.start_attempts)
        time.sleep(delay)

    def _start_task_with(self, token: str) -> None:
        """The provider's ``_start_task``, plus the RunTask fields it doesn't know (clientToken, managed tags).

        They're added through botocore's ``before-parameter-build`` event, so
        the provider still builds every other field of the request.
        """
        def add_fields(params: dict[str, Any], **_: Any) -> None:
            params["clientToken"] = token
            params["enableECSManagedTags"] = self.enable_ecs_managed_tags

        events = self.client.meta.events
        unique_id = f"luigi-fargate-run-task-{id(self)}"
        events.register("before-parameter-build.ecs.RunTask", add_fields, unique_id=unique_id)
        try:
            self._start_task()
        finally:
            events.unregister("before-parameter-build.ecs.RunTask", unique_id=unique_id)

    def get_job_status(self, external_id: Any, context: Any) -> str:
        """ECS lastStatus while active; SUCCEEDED or FAILED (in words in the log) once stopped."""
        task = describe_tasks(self.client, self.cluster, [str(external_id)]).get(str(external_id))
        if task is None:
            self.log.info("ECS task %s from an earlier try is gone; starting a new one", external_id)
            return "MISSING"
        status = task.get("lastStatus", "")
        if status in ACTIVE_STATUSES:
            self.log.info("ECS task %s from an earlier try is still %s: reattaching to it", external_id, status)
            return status
        outcome = classify(task, self.container_name)
        self.log.info("ECS task %s from an earlier try stopped: %s", external_id, outcome.words)
        return "SUCCEEDED" if outcome.succeeded else "FAILED"

    def is_job_active(self, status: str) -> bool:
        return status in ACTIVE_STATUSES

    def is_job_succeeded(self, status: str) -> bool:
        return status == "SUCCEEDED"

    def poll_until_complete(self, external_id: Any, context: Any) -> None:
        self.arn = str(external_id)
        self._persist_log_link(context)
        if self.do_xcom_push:
            context["ti"].xcom_push(key="ecs_task_arn", value=self.arn)
        if self.deferrable:
            self.defer(
                trigger=EcsTaskStoppedTrigger(
                    cluster=self.cluster, task_arn=self.arn, aws_conn_id=self.aws_conn_id or "aws_default",
                    region=self.region_name, poll_seconds=self.poll_seconds,
                ),
                method_name="execute_complete",
                timeout=self.execution_timeout,
            )  # fmt: skip
        if self._aws_logs_enabled():
            self.task_log_fetcher = self._get_task_log_fetcher()
            self.task_log_fetcher.start()
            try:
                task = wait_until_stopped(self.client, self.cluster, self.arn, self.poll_seconds)
            finally:
                self.task_log_fetcher.stop()
            self.task_log_fetcher.join()
        else:
            task = wait_until_stopped(self.client, self.cluster, self.arn, self.poll_seconds)
        self._raise_for_outcome(task)

    def get_job_result(self, external_id: Any, context: Any) -> None:
        if not self.arn:  # already succeeded in an earlier try: nothing was waited for
            self.arn = str(external_id)
            self._persist_log_link(context)
            self.log.info("ECS task %s already finished with exit 0 in an earlier try; not running it again", self.arn)
        return None

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> None:
        """Resume after the trigger: the log stream goes into the task log, then the verdict."""
        event = event or {}
        self.arn = event.get("task_arn") or self.arn
        if event.get("status") != "stopped":
            raise AirflowException(f"Luigi task {self.luigi_label}: waiting for ECS task {self.arn} failed: {event.get('message', event)}")
        for line in self._log_lines(limit=None):
            self.log.info("[%s] %s", self.container_name, line)
        task = describe_tasks(self.client, self.cluster, [self.arn]).get(self.arn)
        if task is None:
            raise AirflowException(f"Luigi task {self.luigi_label}: ECS task {self.arn} is not in cluster {self.cluster} any more")
        self._raise_for_outcome(task)

    # --- verdict, logs, link ------------------------------------------------

    def _raise_for_outcome(self, task: dict[str, Any]) -> None:
        outcome: EcsOutcome = classify(task, self.container_name)
        if outcome.succeeded:
            self.log.info("ECS task %s: %s", self.arn, outcome.words)
            return
        label = f"{self.luigi_family} ({self.luigi_label})"
        detail = [f"ECS task {self.arn}; stopCode {task.get('stopCode') or '-'}; {task.get('stoppedReason') or ''}".rstrip("; ")]
        if self._aws_logs_enabled():
            tail = self._log_lines(limit=self.number_logs_exception)
            detail.append(f"log: {self._log_console_url()}")
            if tail:
                detail.append(f"last {len(tail)} log lines:\n" + "\n".join(tail))
        if outcome.infrastructure or outcome.exit_code in (None, 137) or outcome.exit_code == 0:
            raise AirflowException(f"Luigi task {label}: {outcome.words}\n" + "\n".join(detail))
        raise_for_exit_code(outcome.exit_code, label, "\n".join(detail))

    def _log_lines(self, limit: int | None) -> list[str]:
        """The container's log lines (the last ``limit`` ones), or [] if there is no stream yet."""
        from airflow.providers.amazon.aws.hooks.logs import AwsLogsHook

        logs = AwsLogsHook(aws_conn_id=self.aws_conn_id, region_name=self.resolve_awslogs_region()).conn
        request: dict[str, Any] = {"logGroupName": self.awslogs_group, "logStreamName": self._get_logs_stream_name()}
        try:
            if limit is not None:
                events = logs.get_log_events(**request, startFromHead=False, limit=limit)["events"]
                return [e["message"].rstrip("\n") for e in events]
            lines: list[str] = []
            token = None
            while True:
                page = logs.get_log_events(**request, startFromHead=True, **({"nextToken": token} if token else {}))
                lines += [e["message"].rstrip("\n") for e in page["events"]]
                if not page["events"] or page.get("nextForwardToken") == token:
                    return lines
                token = page.get("nextForwardToken")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return []
            raise

    def _log_console_url(self) -> str:
        return CloudWatchEventsLink().format_link(
            region_name=self.resolve_awslogs_region(),
            aws_domain=CloudWatchEventsLink.get_aws_domain(self.hook.conn_partition),
            awslogs_region=self.resolve_awslogs_region(),
            awslogs_group=self.awslogs_group,
            awslogs_stream_name=self._get_logs_stream_name(),
        )

    def _persist_log_link(self, context: Any) -> None:
        if not self._aws_logs_enabled():
            return
        CloudWatchEventsLink.persist(
            context=context,
            operator=self,
            region_name=self.resolve_awslogs_region(),
            aws_partition=self.hook.conn_partition,
            awslogs_region=self.resolve_awslogs_region(),
            awslogs_group=self.awslogs_group,
            awslogs_stream_name=self._get_logs_stream_name(),
        )
        self.log.info("container log: %s", self._log_console_url())


# --- spec -> operator ---------------------------------------------------------


def capacity_strategy(runner: FargateRunner, node: TaskNode) -> list[dict[str, Any]]:
    """The node's capacity: its own choice (Spot, EC2) or the runner's default (FARGATE)."""
    choice = node.settings.capacity or runner.capacity
    if choice == Capacity.EC2:
        return [item.to_ecs() for item in runner.ec2_capacity_provider_strategy]
    return [{"capacityProvider": str(choice), "weight": 1}]


def run_task_overrides(runner: FargateRunner, node: TaskNode, env: dict[str, str]) -> dict[str, Any]:
    """RunTask ``overrides`` (a templated field): the runner command (MODULE FAMILY params) and the task-level size."""
    container: dict[str, Any] = {"name": runner.container_name, "command": runner_arguments(node, runner.runner_options)}
    if env:
        container["environment"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    overrides: dict[str, Any] = {"containerOverrides": [container]}
    size = node.size
    if size is not None and size.cpu:
        overrides["cpu"] = str(size.cpu)
    if size is not None and size.memory:
        overrides["memory"] = str(size.memory)
    if size is not None and size.ephemeral_storage_gib:
        overrides["ephemeralStorage"] = {"sizeInGiB": int(size.ephemeral_storage_gib)}
    return overrides


def cost_tags(spec: PipelineSpec, runner: FargateRunner, node: TaskNode) -> dict[str, str]:
    """Cost allocation tags (a templated field): configured ones, then owner, DAG, family and run."""
    tags = {**runner.tags, **node.settings.tags}
    owner = node.settings.owner or spec.defaults.owner
    if owner:
        tags["owner"] = str(owner)
    tags["dag_id"] = spec.dag_id
    tags["luigi_family"] = node.family
    tags = literal_mapping(tags)
    tags["airflow_run_id"] = "{{ run_id }}"
    return tags


def make_fargate_task(*, node: TaskNode, spec: PipelineSpec, spec_path: str, dag: Any) -> LuigiFargateOperator:
    from airflow_bridge.operators.task_arguments import runner_env, task_arguments

    runner = spec.runner
    assert isinstance(runner, FargateRunner)
    return LuigiFargateOperator(
        task_id=node.id,
        task_display_name=node.task_id,
        luigi_module=node.module,
        luigi_family=node.family,
        luigi_label=node.task_id,
        cluster=runner.cluster,
        task_definition=runner.task_definition,
        container_name=runner.container_name,
        overrides=run_task_overrides(runner, node, runner_env(node, spec)),
        capacity_provider_strategy=capacity_strategy(runner, node),
        launch_type=None,
        network_configuration={
            "awsvpcConfiguration": {
                "subnets": list(runner.subnets),
                "securityGroups": list(runner.security_groups),
                "assignPublicIp": runner.assign_public_ip,
            }
        },
        tags=cost_tags(spec, runner, node),
        propagate_tags="TASK_DEFINITION",
        awslogs_group=runner.log_group,
        awslogs_stream_prefix=runner.log_stream_prefix if runner.log_group else None,
        awslogs_region=runner.region,
        region_name=runner.region,
        aws_conn_id=runner.aws_conn_id,
        poll_seconds=runner.poll_seconds,
        start_attempts=runner.start_attempts,
        start_backoff_seconds=runner.start_backoff_seconds,
        deferrable=runner.deferrable,
        dag=dag,
        **task_arguments(node),
    )
