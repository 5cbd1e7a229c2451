"""Every key of ``[luigi_fargate]`` and ``[luigi_fargate.family.<Family>]``: one definition each.

The loader validates with ``parse``, the views read the checked values, and
docs/configuration.md's tables are generated from ``form``, ``default`` and
``meaning`` (``python docs/config_reference.py --write``; a test keeps them
in step), so a key can't exist in one place and be missing in another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from luigi_fargate import validators
from luigi_fargate.config import parsers as p

#: Views that need a key (``required``): export --runner fargate, releases.
FARGATE, RELEASE = "fargate", "release"

#: Sections of the reference, in docs order.
GROUPS = {
    "runner": "Where tasks run (read at export, written into each spec's `runner`)",
    "tasks": "Task defaults (read at export, written into each task's settings)",
    "release": "Releases (`task-definitions`, `deploy`)",
    "locks": "Locks",
    "cost": "Prices, sizing and cost (`sizes suggest`, `cost`; docs/sizing-and-cost.md)",
    "family": "Per family: `[luigi_fargate.family.<Family>]`",
}


@dataclass(frozen=True)
class Key:
    name: str
    parse: Callable[[str, Any], Any]
    group: str
    form: str
    meaning: str
    default: Any = None  # the checked value used when the key is absent (None: unset)
    shown_default: str = ""  # the default as the docs show it (when not just the value)
    required: frozenset[str] = frozenset()

    def default_text(self) -> str:
        if self.shown_default:
            return self.shown_default
        if self.required:
            return "required for " + " and ".join(sorted(self.required))
        return "none" if self.default in (None, [], {}, ()) else f"`{self.default}`"


def _key(name: str, parse: Callable[[str, Any], Any], group: str, form: str, meaning: str, **kw: Any) -> Key:
    if "required" in kw:
        kw["required"] = frozenset(kw["required"])
    return Key(name, parse, group, form, meaning, **kw)


_CPU = "Fargate CPU units: 256, 512, 1024, 2048, 4096, 8192, 16384"

KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        _key("region", validators.region, "runner", "AWS region name, `eu-west-1`", "region of the cluster, the logs and the task definition", required=(FARGATE, RELEASE)),
        _key("cluster", validators.cluster, "runner", "ECS cluster name or ARN", "where RunTask starts the tasks", required=(FARGATE,)),
        _key("task_definition", validators.task_definition, "runner", "`family`, `family:revision` or an ECS task definition ARN",
             "what exported specs run until the first deploy; its family is the family `task-definitions`/`deploy` register into",
             required=(FARGATE,), shown_default="required for fargate (release: `luigi-fargate`)"),
        _key("container_name", validators.container_name, "runner", "letters, digits, `-`, `_`",
             "the container of the task definition; the operator overrides its command", required=(FARGATE,),
             shown_default="required for fargate (release: `luigi`)"),
        _key("subnets", p.subnets, "runner", "comma-separated `subnet-…` ids (8 or 17 hex digits)", "awsvpc subnets of each task", required=(FARGATE,)),
        _key("security_groups", p.security_groups, "runner", "comma-separated `sg-…` ids", "awsvpc security groups of each task", required=(FARGATE,)),
        _key("assign_public_ip", p.one_of(*p.ASSIGN_PUBLIC_IP), "runner", "`DISABLED` or `ENABLED`",
             "give tasks a public IP (only for public subnets without NAT)", default="DISABLED"),
        _key("log_group", p.matching(p.LOG_GROUP, "a CloudWatch log group name like /luigi-fargate (letters, digits, _ . / # -)"), "runner",
             "CloudWatch log group name", "where the containers log; the operator streams it into the Airflow log", required=(RELEASE,),
             shown_default="none for export, **required** for releases"),
        _key("log_stream_prefix", p.matching(p.STREAM_PREFIX, "a log stream prefix without ':' or '*'"), "runner", "text without `:` or `*`",
             "awslogs stream prefix; streams are `{prefix}/{container_name}/{task id}`", default="luigi"),
        _key("capacity", p.one_of(*p.CAPACITIES), "runner", "`FARGATE` or `FARGATE_SPOT`", "capacity provider of every task (per family: see below)", default="FARGATE"),
        _key("ec2_capacity_providers", p.capacity_providers, "runner", "`name[:weight], …`",
             "strategy for tasks larger than Fargate allows (over 16 vCPU / 120 GiB)", default=[]),
        _key("tags", p.tags, "runner", "`key=value, …` (not `owner`, `dag_id`, `luigi_family`, `airflow_run_id`)", "cost-allocation tags on every task", default={}),
        _key("owner", p.owner, "runner", "text (an email or team; `Name <address>` is tagged as the address)",
             "`owner` tag and Airflow owner when the task has none", shown_default="the Luigi task's `owner_email`"),
        _key("aws_conn_id", p.text, "runner", "Airflow connection id", "connection the operator uses", default="aws_default"),
        _key("poll_seconds", validators.positive_int, "runner", "whole number > 0", "how often the operator polls DescribeTasks", default=6),
        _key("start_attempts", validators.positive_int, "runner", "whole number > 0", "RunTask attempts on throttling or capacity errors", default=5),
        _key("start_backoff_seconds", p.positive_float, "runner", "seconds > 0", "pause before the second RunTask attempt, doubled after each", default=5.0),
        _key("deferrable", p.boolean, "runner", "`true` or `false`",
             "wait for the ECS task in Airflow's triggerer (no worker slot while it runs; docs/fargate.md)", default=True),
        _key("describe_tasks_per_second", p.rate(p.DESCRIBE_TASKS_LIMIT, " (ECS allows 20 DescribeTasks calls/s per account and region)"),
             "runner", "calls/s > 0, at most 20", "the account-wide DescribeTasks budget of these operators, shared by `triggerers`", default=1.0),
        _key("get_log_events_per_second", p.rate(p.GET_LOG_EVENTS_LIMIT, " (CloudWatch Logs allows 25 GetLogEvents calls/s per account and region)"),
             "runner", "calls/s > 0, at most 25", "the account-wide GetLogEvents budget for streaming container logs", default=10.0),
        _key("triggerers", validators.positive_int, "runner", "whole number > 0", "how many triggerer processes share the budget", default=1),
        _key("spot_fallback_to_on_demand", p.boolean, "runner", "`true` or `false`",
             "rerun a task Fargate Spot interrupted at once on on-demand FARGATE", default=False),
        _key("oom_memory_ceiling", lambda key, value: 0 if str(value).strip() in ("0", "off") else validators.positive_int(key, value),
             "runner", "MiB, or `0` / `off`",
             "after ECS stops a task out of memory, its retry asks for the next Fargate size up, at most this much memory",
             default=30720),
        _key("fargate_vcpu_quota", validators.positive_int, "runner", "whole number > 0 (Service Quotas: Fargate On-Demand vCPU)",
             "tasks queue in the Airflow pool `fargate_vcpu` of this size, each taking its vCPUs (`luigi-fargate pools`)"),
        _key("fargate_spot_vcpu_quota", validators.positive_int, "runner", "whole number > 0 (Fargate Spot vCPU)", "the same for `fargate_spot_vcpu`"),
        _key("sweep_grace_seconds", validators.positive_int, "runner", "whole number > 0",
             "`luigi-fargate ecs sweep`: how long an ECS task may outlive its Airflow task instance", default=900),
        _key("airflow_api_url", p.http_url, "runner", "`https://…`", "the Airflow API server the sweeper asks which task instances still run"),
        _key("airflow_api_user", p.text, "runner", "user name", "the sweeper's Airflow user (its password: `$LUIGI_FARGATE_AIRFLOW_PASSWORD`)"),
        _key("runner_options", p.runner_options, "runner", "`luigi-fargate run` options, e.g. `--lock dynamodb://luigi-locks --log-format json`",
             "put before MODULE in every container's command", default=[]),
        _key("cpu", validators.positive_int, "runner", _CPU, "default size of a task that declares none; also the task definition's own size",
             shown_default="`256`"),
        _key("memory", validators.positive_int, "runner", "MiB, valid for `cpu` (256: 512–2048; 512: 1024–4096; 1024: 2048–8192; …)", "as `cpu`",
             shown_default="smallest valid for `cpu`"),
        # --- task defaults ---
        _key("queue", p.text, "tasks", "Airflow queue name", "the queue every task is sent to (Celery or edge workers); per family too"),
        _key("sensor_poke_interval", p.positive_float, "tasks", "seconds > 0",
             "how often a completeness sensor (ExternalTask, excluded upstream) checks its task; per family too", shown_default="`300`"),
        _key("sensor_timeout", p.positive_float, "tasks", "seconds > 0", "how long a completeness sensor waits before it fails; per family too",
             shown_default="`86400`"),
        _key("retry_delay", p.non_negative_float, "tasks", "seconds (0: retry at once)", "pause before a retry", shown_default="Luigi's `[scheduler] retry_delay` (900)"),
        _key("retry_exponential_backoff", p.non_negative_float, "tasks", "a multiplier (0 turns it off)",
             "each retry's pause is the previous one times this", default=2.0),
        _key("max_retry_delay", p.positive_float, "tasks", "seconds > 0", "the longest pause between retries with backoff"),
        # --- releases ---
        _key("execution_role_arn", p.role_arn, "release", "IAM role ARN, `arn:aws:iam::<account>:role/NAME`",
             "the role ECS uses to pull the image, write logs and read `secrets` (docs/security.md)", required=(RELEASE,)),
        _key("task_role_arn", p.role_arn, "release", "IAM role ARN", "the role the Luigi code runs as: the lock table plus your data", required=(RELEASE,)),
        _key("cpu_architecture", p.one_of(*p.CPU_ARCHITECTURES), "release", "`X86_64` or `ARM64`",
             "must match the image; ARM is about 20 % cheaper", default="X86_64"),
        _key("stop_timeout", p.stop_timeout, "release", "seconds, 2–120",
             "time between SIGTERM and SIGKILL; the runner needs a few seconds to stop the task and release its lock", shown_default="Fargate's 30"),
        _key("entrypoint", p.matching(p.ABSOLUTE_PATH, "an absolute path inside the image"), "release", "absolute path in the image",
             "the container's ENTRYPOINT (docs/operations.md)", default="/usr/local/bin/luigi-fargate-entrypoint"),
        _key("allow_path", p.matching(p.ABSOLUTE_PATH, "an absolute path inside the image"), "release", "absolute path in the image",
             "the baked specs: set as `$LUIGI_FARGATE_ALLOW`, the runner's allowlist", default="/opt/luigi-fargate/specs"),
        _key("environment", p.env_pairs, "release", "one `NAME=VALUE` per line (TOML: a table)",
             "environment of every task; `LUIGI_FARGATE_ALLOW` and `LUIGI_FARGATE_RELEASE` are set by the task definition itself", default=()),
        _key("secrets", p.secrets, "release",
             "one `NAME=ARN` per line; an SSM parameter ARN (`arn:aws:ssm:…:parameter/…`) or a Secrets Manager ARN (`arn:aws:secretsmanager:…:secret:…`)",
             "injected by ECS as environment variables at start; never written into a spec or a DAG", default=()),
        # --- locks ---
        _key("lock", p.lock_url, "locks", "`file://DIR`, `luigid://HOST:PORT`, `dynamodb://TABLE?region=REGION`",
             "where the runner takes its lock; `$LUIGI_FARGATE_LOCK` and `--lock` win. When set, the task definition passes it to the "
             "containers as `$LUIGI_FARGATE_LOCK` (on Fargate each task is its own host, so only `luigid://` and `dynamodb://` keep two runs apart)",
             shown_default="a private folder on the host (docs/locks.md)"),
        # --- prices, sizing and cost ---
        _key("price_vcpu_hour", p.price, "cost", "US dollars, e.g. `0.04048`", "Fargate Linux/x86 on-demand price per vCPU-hour",
             default=p.price("", "0.04048"), shown_default="`0.04048` (us-east-1)"),
        _key("price_gb_hour", p.price, "cost", "US dollars, e.g. `0.004445`", "Fargate price per GB-hour of memory",
             default=p.price("", "0.004445"), shown_default="`0.004445` (us-east-1)"),
        _key("arm_discount", p.fraction, "cost", "a fraction from 0 to 1, e.g. `0.20`",
             "how much less ARM64 (`cpu_architecture`) costs than x86 (an estimate: check the region's price list)",
             default=p.fraction("", "0.20"), shown_default="`0.20`"),
        _key("spot_discount", p.fraction, "cost", "a fraction from 0 to 1", "how much less FARGATE_SPOT costs than on-demand "
             "(an estimate: Spot prices vary, AWS says up to 70 %)", default=p.fraction("", "0.70"), shown_default="`0.70`"),
        _key("team_tag", p.text, "cost", "a tag key", "the cost-allocation tag `cost` reports teams by (from `tags`)", default="team"),
        _key("sizes_headroom", p.headroom, "cost", "a multiplier of 1 or more, e.g. `1.25`",
             "`sizes suggest`: room added above the measured percentile", default=1.25),
        _key("sizes_min_runs", validators.positive_int, "cost", "whole number > 0",
             "`sizes suggest`: fewer measured runs than this get no suggestion", default=5),
    )
}

#: What a missing required key should hold, in the error that names it.
EXPECTED_WHEN_MISSING = {
    "region": "an AWS region name like eu-west-1",
    "execution_role_arn": "the ARN of the role ECS uses to pull the image and write logs (arn:aws:iam::<account>:role/NAME)",
    "task_role_arn": "the ARN of the role the task's code runs as (arn:aws:iam::<account>:role/NAME)",
    "log_group": "the CloudWatch log group the containers log to, e.g. /luigi-fargate",
}

FAMILY_KEYS: dict[str, Key] = {
    k.name: k
    for k in (
        _key("cpu", validators.positive_int, "family", "Fargate CPU units", "this family's CPU (wins over the class's `fargate_cpu`); rounded up to a Fargate size"),
        _key("memory", validators.positive_int, "family", "MiB", "this family's memory (wins over `fargate_memory`); rounded up to a Fargate size"),
        _key("ephemeral_storage_gib", validators.ephemeral_storage_gib, "family", "GiB, 21–200", "ephemeral storage (wins over `fargate_ephemeral_storage_gib`)"),
        _key("capacity", p.one_of(*p.FAMILY_CAPACITIES), "family", "`FARGATE`, `FARGATE_SPOT` or `EC2`", "where this family runs (wins over `fargate_spot`)"),
        _key("owner", p.owner, "family", "text", "owner tag and Airflow owner of this family's tasks"),
        _key("tags", p.tags, "family", "`key=value, …`", "extra cost-allocation tags of this family's tasks", default={}),
        _key("queue", p.text, "family", "Airflow queue name", "the queue of this family's tasks"),
        _key("sensor_poke_interval", p.positive_float, "family", "seconds > 0", "as above, for this family's sensors"),
        _key("sensor_timeout", p.positive_float, "family", "seconds > 0", "as above, for this family's sensors"),
    )
}
