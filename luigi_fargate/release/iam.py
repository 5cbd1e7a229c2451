"""The least-privilege IAM policies, as data.

Four principals touch AWS: the Airflow worker (starts, watches and stops
tasks, reads their logs), the task role (what the Luigi code runs as: the lock
table, plus the pipeline's own data), the execution role (ECS itself: pull the
image, write logs, read secrets) and the deployer (``luigi-fargate deploy``).

Each grant says why it exists; tests/release/test_iam.py checks every AWS call
the code makes against these grants, and docs/security.md shows them rendered.
Resource templates use ``{region}``, ``{account}``, ``{cluster}``, ``{task_family}``,
``{log_group}``, ``{lock_table}``, ``{execution_role_arn}``, ``{task_role_arn}``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ECS_TASKS = "ecs-tasks.amazonaws.com"
CLUSTER_ARN = "arn:aws:ecs:{region}:{account}:cluster/{cluster}"
TASK_FAMILY_ARN = "arn:aws:ecs:{region}:{account}:task-definition/{task_family}:*"
LOCK_TABLE_ARN = "arn:aws:dynamodb:{region}:{account}:table/{lock_table}"
LOG_STREAMS_ARN = "arn:aws:logs:{region}:{account}:log-group:{log_group}:log-stream:*"


@dataclass(frozen=True)
class Grant:
    """One policy statement: actions on resources, and the reason it is needed."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str
    condition: Mapping[str, Any] | None = None
    #: Needed only in some setups (said in ``why``); still part of the rendered policy.
    optional: bool = False

    def statement(self, values: Mapping[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": "Allow",
            "Action": list(self.actions),
            "Resource": [r.format(**values) for r in self.resources] if self.resources != ("*",) else "*",
        }
        if self.condition:
            out["Condition"] = _fill(self.condition, values)
        return out


def _fill(obj: Any, values: Mapping[str, str]) -> Any:
    """Fill ``{name}`` templates in every string of a nested condition."""
    if isinstance(obj, str):
        return obj.format(**values)
    if isinstance(obj, Mapping):
        return {k: _fill(v, values) for k, v in obj.items()}
    return obj


#: The runner takes, renews and releases a lease with conditional UpdateItem calls only.
LEASE_ACTIONS = ("dynamodb:UpdateItem",)
#: ``luigi-fargate locks list|show|break``.
LOCK_ADMIN_ACTIONS = ("dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem")
#: ``luigi-fargate locks init``: once, when the infrastructure is set up.
LOCK_SETUP_ACTIONS = ("dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:UpdateTimeToLive")

WORKER: tuple[Grant, ...] = (
    Grant("RunLuigiTasks", ("ecs:RunTask",), (TASK_FAMILY_ARN,),
          "start one task per Luigi task, only from this task definition family and only on this cluster",
          {"ArnEquals": {"ecs:cluster": CLUSTER_ARN}}),
    Grant("TagTheTasksItStarts", ("ecs:TagResource",), ("arn:aws:ecs:{region}:{account}:task/{cluster}/*",),
          "RunTask with tags (owner, dag_id, family, run id) also needs TagResource, limited to RunTask",
          {"StringEquals": {"ecs:CreateAction": "RunTask"}}),
    Grant("WatchAndStopItsTasks", ("ecs:DescribeTasks", "ecs:StopTask"),
          ("arn:aws:ecs:{region}:{account}:task/{cluster}/*",),
          "wait for the task (worker or triggerer), read its exit code and stop code; stop it when Airflow "
          "kills the Airflow task; `luigi-fargate ecs sweep` reads tags and stops orphans"),
    Grant("FindRunningTaskOnRetry", ("ecs:ListTasks",), ("arn:aws:ecs:{region}:{account}:container-instance/{cluster}/*",),
          "reattach: a retry looks for the task its earlier attempt started; the sweeper lists running tasks",
          {"ArnEquals": {"ecs:cluster": CLUSTER_ARN}}),
    Grant("PassTheTwoRoles", ("iam:PassRole",), ("{execution_role_arn}", "{task_role_arn}"),
          "RunTask hands the task definition's roles to ECS",
          {"StringEquals": {"iam:PassedToService": ECS_TASKS}}),
    Grant("ReadTaskLogs", ("logs:GetLogEvents",), (LOG_STREAMS_ARN,),
          "stream the container's log into the Airflow task log and the failure message"),
    Grant("LockTable", LOCK_ADMIN_ACTIONS, (LOCK_TABLE_ARN,),
          "only with the DynamoDB lock: the local runner and `luigi-fargate locks list|show|break` on the worker",
          optional=True),
)

TASK_ROLE: tuple[Grant, ...] = (
    Grant("LockTable", LEASE_ACTIONS, (LOCK_TABLE_ARN,),
          "the runner takes, renews and releases its lease with conditional writes (dynamodb:// lock only); "
          "add what the pipeline's own code reads and writes (S3 buckets, databases)",
          optional=True),
)

EXECUTION_ROLE: tuple[Grant, ...] = (
    Grant("PullImage", ("ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability",
                        "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"), ("*",),
          "ECS pulls the image from ECR (GetAuthorizationToken takes no resource; narrow the others to your repository)"),
    Grant("WriteTaskLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
          ("arn:aws:logs:{region}:{account}:log-group:{log_group}:*",),
          "the awslogs driver writes the container's output"),
)

DEPLOYER: tuple[Grant, ...] = (
    Grant("RegisterReleases", ("ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"), ("*",),
          "register one revision per image; check a revision is ACTIVE before rolling back to it "
          "(these actions take no resource ARN)"),
    Grant("TagReleases", ("ecs:TagResource",), (TASK_FAMILY_ARN,),
          "the revision is tagged with its release and image",
          {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}),
    Grant("DropUnusedRevision", ("ecs:DeregisterTaskDefinition",), ("*",),
          "a deploy that fails part-way deregisters the revision it registered (no resource ARN)"),
    Grant("PassTheTwoRoles", ("iam:PassRole",), ("{execution_role_arn}", "{task_role_arn}"),
          "the task definition names both roles",
          {"StringEquals": {"iam:PassedToService": ECS_TASKS}}),
    Grant("CreateLockTable", LOCK_SETUP_ACTIONS, (LOCK_TABLE_ARN,),
          "only to run `luigi-fargate locks init` once (whoever sets up the infrastructure)", optional=True),
)

ROLES: dict[str, tuple[Grant, ...]] = {
    "worker": WORKER,
    "task": TASK_ROLE,
    "execution": EXECUTION_ROLE,
    "deployer": DEPLOYER,
}

#: Actions no client call shows, needed because of how IAM authorizes another call.
IMPLIED_ACTIONS = {
    "iam:PassRole": "authorized on RunTask/RegisterTaskDefinition for the roles they name",
    "ecs:TagResource": "authorized on RunTask/RegisterTaskDefinition when the request carries tags",
}


def secret_grants(secret_arns: Iterable[str]) -> tuple[Grant, ...]:
    """Execution role: read exactly the configured secrets (ECS injects them at start)."""
    ssm = tuple(a for a in secret_arns if a.split(":")[2] == "ssm")
    sm = tuple(a for a in secret_arns if a.split(":")[2] == "secretsmanager")
    grants = []
    if ssm:
        grants.append(Grant("ReadSsmSecrets", ("ssm:GetParameters",), ssm, "inject [luigi_fargate] secrets from SSM"))
    if sm:
        grants.append(Grant("ReadSecretsManagerSecrets", ("secretsmanager:GetSecretValue",), sm,
                            "inject [luigi_fargate] secrets from Secrets Manager (add kms:Decrypt for a customer key)"))
    return tuple(grants)


def policy_document(grants: Iterable[Grant], values: Mapping[str, str], include_optional: bool = True) -> dict[str, Any]:
    """An IAM policy document with the templates filled in."""
    return {
        "Version": "2012-10-17",
        "Statement": [g.statement(values) for g in grants if include_optional or not g.optional],
    }


def allows(grants: Iterable[Grant], action: str) -> bool:
    """Whether some grant names ``action`` (IAM action names are case-insensitive; ``*`` wildcards work)."""
    wanted = action.lower()
    return any(fnmatch.fnmatchcase(wanted, a.lower()) for g in grants for a in g.actions)


def actions(grants: Iterable[Grant]) -> set[str]:
    return {a for g in grants for a in g.actions}
