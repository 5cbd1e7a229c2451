"""Fargate settings from Luigi's configuration, validated at export and written into the spec.

One source: the ``[luigi_fargate]`` section of Luigi's config (``luigi.cfg``,
``LUIGI_CONFIG_PATH``), with per-family sections ``[luigi_fargate.family.<Family>]``
for size, capacity, owner and tags. A Luigi task class may declare its size
itself (``fargate_cpu``, ``fargate_memory``, ``fargate_ephemeral_storage_gib``,
``fargate_spot``; see :class:`FargateResources`); configuration wins, so an
operator can resize a task without a code change. docs/fargate.md lists every key.

Errors are found here, at export, not at 3 a.m. in RunTask.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from luigi_fargate import validators as check
from luigi_fargate.config import SECTION
from luigi_fargate.errors import UserError
from luigi_fargate.fargate.sizing import decide

if TYPE_CHECKING:
    import networkx as nx

    from luigi_fargate.introspect.portability import Finding
    from luigi_fargate.spec import PipelineSpec, TaskNode

FAMILY_SECTION = SECTION + ".family.{family}"
CAPACITY_CHOICES = ("FARGATE", "FARGATE_SPOT")
ASSIGN_PUBLIC_IP = ("DISABLED", "ENABLED")
#: Keys a family section may set (anything else is a typo and fails the export).
FAMILY_KEYS = ("cpu", "memory", "ephemeral_storage_gib", "capacity", "owner", "tags")
#: Tag keys the operator sets itself; configured tags can't override them. The sweeper
#: (``luigi-fargate ecs sweep``) finds a task's Airflow task instance by the last four.
RESERVED_TAGS = ("owner", "dag_id", "luigi_family", "airflow_run_id", "airflow_task_id", "airflow_try_number")
#: Tags every task gets from its task definition (propagateTags: release and image, see release/taskdef.py).
PROPAGATED_TAGS = 2
#: ECS's documented account-wide rates (calls/s, sustained): budgets above them can't hold.
DESCRIBE_TASKS_LIMIT = 20.0
GET_LOG_EVENTS_LIMIT = 25.0
#: Airflow pools that admit Fargate tasks by vCPU (``luigi-fargate pools`` sizes them to the quotas).
VCPU_POOL = "fargate_vcpu"
SPOT_VCPU_POOL = "fargate_spot_vcpu"
#: CPU units of a task that declares no size: Fargate's smallest, the task definition's default.
DEFAULT_TASK_CPU = 256


class FargateResources:
    """Mixin for Luigi tasks that declare their Fargate size next to their code.

    ``class Train(FargateResources, luigi.Task): fargate_cpu = 4096; fargate_memory = 16384``.
    Values are CPU units (1024 = 1 vCPU), MiB and GiB; ``[luigi_fargate.family.Train]`` wins.
    """

    fargate_cpu: int | None = None
    fargate_memory: int | None = None
    fargate_ephemeral_storage_gib: int | None = None
    fargate_spot: bool | None = None


def _raw(section: str, key: str) -> str | None:
    from luigi.configuration import get_config

    value = get_config().get(section, key, None)
    if value is None or not str(value).strip():
        return None
    return str(value).strip()


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").replace("\n", ",").split(",") if v.strip()]


def parse_tags(key: str, value: str | None) -> dict[str, str]:
    """``team=data, cost-center=42`` -> {"team": "data", "cost-center": "42"}."""
    tags: dict[str, str] = {}
    for item in _list(value):
        name, sep, tag_value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"{key}={value!r}: expected comma-separated key=value pairs, e.g. team=data, cost-center=42")
        if name.strip() in RESERVED_TAGS:
            raise UserError(f"{key}: tag {name.strip()!r} is set by luigi-fargate itself; remove it ({', '.join(RESERVED_TAGS)} are reserved)")
        name, tag_value = check.tag(key, name.strip(), tag_value.strip())
        tags[name] = tag_value
    check.tag_count(key, len(tags), len(RESERVED_TAGS) + PROPAGATED_TAGS)
    return tags


def parse_strategy(key: str, value: str | None) -> list[dict[str, Any]]:
    """``cp-large:1, cp-spot:3`` -> capacity provider strategy items (weight defaults to 1)."""
    out: list[dict[str, Any]] = []
    for item in _list(value):
        name, _, weight = item.partition(":")
        if not name.strip():
            raise UserError(f"{key}={value!r}: expected capacity providers as name[:weight], comma-separated")
        out.append({"capacityProvider": name.strip(), "weight": check.positive_int(key, weight or "1")})
    return out


def _runner_options(key: str, value: str | None) -> list[str]:
    """``--lock dynamodb://locks --log-format json``: options of ``luigi-fargate run`` before MODULE."""
    import shlex

    options = shlex.split(value or "")
    if options and not options[0].startswith("-"):
        raise UserError(f"{key}={value!r}: expected options of luigi-fargate run such as --lock URL --log-format json")
    return options


@dataclass
class FargateSettings:
    """The ``[luigi_fargate]`` settings that the Fargate runner needs (docs/configuration.md lists each)."""

    cluster: str
    region: str
    task_definition: str
    container_name: str
    subnets: list[str]
    security_groups: list[str]
    assign_public_ip: str = "DISABLED"
    log_group: str | None = None
    log_stream_prefix: str = "luigi"
    capacity: str = "FARGATE"
    ec2_capacity_provider_strategy: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    owner: str | None = None
    aws_conn_id: str = "aws_default"
    poll_seconds: int = 6
    start_attempts: int = 5
    default_cpu: int | None = None
    default_memory: int | None = None
    #: Wait in Airflow's triggerer (no worker slot while the ECS task runs).
    deferrable: bool = True
    runner_options: list[str] = field(default_factory=list)
    #: Account-wide API budget of these operators (calls/s), shared by ``triggerers`` triggerer processes.
    describe_tasks_per_second: float = 1.0
    get_log_events_per_second: float = 10.0
    triggerers: int = 1
    #: Rerun a task that Fargate Spot interrupted at once on on-demand FARGATE capacity.
    spot_fallback_to_on_demand: bool = False
    #: The account's Fargate vCPU quotas: when set, tasks queue in Airflow pools sized to them.
    fargate_vcpu_quota: int | None = None
    fargate_spot_vcpu_quota: int | None = None
    #: ``luigi-fargate ecs sweep``: how long an orphan may live, and where to ask Airflow.
    sweep_grace_seconds: int = 900
    airflow_api_url: str | None = None
    airflow_api_user: str | None = None

    def runner(self) -> dict[str, Any]:
        """``spec.runner`` for ``--runner fargate`` (the contract read by airflow_bridge and deploy)."""
        return {
            "kind": "fargate",
            "cluster": self.cluster,
            "region": self.region,
            "task_definition": self.task_definition,
            "container_name": self.container_name,
            "subnets": self.subnets,
            "security_groups": self.security_groups,
            "assign_public_ip": self.assign_public_ip,
            "log_group": self.log_group,
            "log_stream_prefix": self.log_stream_prefix,
            "capacity_provider_strategy": [{"capacityProvider": self.capacity, "weight": 1}],
            "ec2_capacity_provider_strategy": self.ec2_capacity_provider_strategy,
            "tags": self.tags,
            "aws_conn_id": self.aws_conn_id,
            "poll_seconds": self.poll_seconds,
            "start_attempts": self.start_attempts,
            "deferrable": self.deferrable,
            "runner_options": self.runner_options,
            "describe_tasks_per_second": self.describe_tasks_per_second,
            "get_log_events_per_second": self.get_log_events_per_second,
            "triggerers": self.triggerers,
            "spot_fallback_to_on_demand": self.spot_fallback_to_on_demand,
        }


def _required(key: str) -> str:
    value = _raw(SECTION, key)
    if value is None:
        raise UserError(f"[{SECTION}] {key}: missing; --runner fargate needs it in luigi.cfg (see docs/fargate.md)")
    return value


def _key(name: str) -> str:
    return f"[{SECTION}] {name}"


def _flag(name: str, value: str | None, default: str) -> bool:
    return check.choice(_key(name), value or default, ("true", "false")) == "true"


def _optional_int(name: str, value: str | None) -> int | None:
    return None if value is None else check.positive_int(_key(name), value)


def _budget() -> dict[str, Any]:
    """The API budget keys: rates above AWS's own limits are refused (they could never hold)."""
    return {
        "describe_tasks_per_second": check.positive_number(
            _key("describe_tasks_per_second"), _raw(SECTION, "describe_tasks_per_second") or "1",
            DESCRIBE_TASKS_LIMIT, " (ECS allows 20 DescribeTasks calls/s per account and region)",
        ),
        "get_log_events_per_second": check.positive_number(
            _key("get_log_events_per_second"), _raw(SECTION, "get_log_events_per_second") or "10",
            GET_LOG_EVENTS_LIMIT, " (CloudWatch Logs allows 25 GetLogEvents calls/s per account and region)",
        ),
        "triggerers": check.positive_int(_key("triggerers"), _raw(SECTION, "triggerers") or "1"),
    }  # fmt: skip


def _admission_and_sweep() -> dict[str, Any]:
    url = _raw(SECTION, "airflow_api_url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise check.fail(_key("airflow_api_url"), url, "the Airflow API server's base URL, e.g. https://airflow.example.com")
    return {
        "spot_fallback_to_on_demand": _flag("spot_fallback_to_on_demand", _raw(SECTION, "spot_fallback_to_on_demand"), "false"),
        **vcpu_quota_settings(),
        "sweep_grace_seconds": check.positive_int(_key("sweep_grace_seconds"), _raw(SECTION, "sweep_grace_seconds") or "900"),
        "airflow_api_url": url.rstrip("/") if url else None,
        "airflow_api_user": _raw(SECTION, "airflow_api_user"),
    }


def load_settings() -> FargateSettings:
    """Read and validate ``[luigi_fargate]``; raise UserError naming the first bad key."""
    subnets = [check.subnet_id(_key("subnets"), s) for s in _list(_required("subnets"))]
    groups = [check.security_group_id(_key("security_groups"), s) for s in _list(_required("security_groups"))]
    owner = _raw(SECTION, "owner")
    if owner:
        check.owner_tag(_key("owner"), owner)
    settings = FargateSettings(
        cluster=check.cluster(_key("cluster"), _required("cluster")),
        region=check.region(_key("region"), _required("region")),
        task_definition=check.task_definition(_key("task_definition"), _required("task_definition")),
        container_name=check.container_name(_key("container_name"), _required("container_name")),
        subnets=subnets,
        security_groups=groups,
        assign_public_ip=check.choice(_key("assign_public_ip"), _raw(SECTION, "assign_public_ip") or "DISABLED", ASSIGN_PUBLIC_IP),
        log_group=_raw(SECTION, "log_group"),
        log_stream_prefix=_raw(SECTION, "log_stream_prefix") or "luigi",
        capacity=check.choice(_key("capacity"), _raw(SECTION, "capacity") or "FARGATE", CAPACITY_CHOICES),
        ec2_capacity_provider_strategy=parse_strategy(_key("ec2_capacity_providers"), _raw(SECTION, "ec2_capacity_providers")),
        tags=parse_tags(_key("tags"), _raw(SECTION, "tags")),
        owner=owner,
        aws_conn_id=_raw(SECTION, "aws_conn_id") or "aws_default",
        poll_seconds=check.positive_int(_key("poll_seconds"), _raw(SECTION, "poll_seconds") or "6"),
        start_attempts=check.positive_int(_key("start_attempts"), _raw(SECTION, "start_attempts") or "5"),
        deferrable=_flag("deferrable", _raw(SECTION, "deferrable"), "true"),
        runner_options=_runner_options(_key("runner_options"), _raw(SECTION, "runner_options")),
        **_budget(),
        **_admission_and_sweep(),
    )
    if _raw(SECTION, "cpu"):
        settings.default_cpu = check.positive_int(_key("cpu"), _raw(SECTION, "cpu"))
    if _raw(SECTION, "memory"):
        settings.default_memory = check.positive_int(_key("memory"), _raw(SECTION, "memory"))
    if not subnets or not groups:
        raise UserError(f"[{SECTION}] subnets/security_groups: at least one of each is needed; list them comma-separated")
    return settings


def sweeper_settings() -> dict[str, Any]:
    """What ``luigi-fargate ecs sweep`` reads (cluster and region may come from its options instead)."""
    cluster, region = _raw(SECTION, "cluster"), _raw(SECTION, "region")
    return {
        "cluster": check.cluster(_key("cluster"), cluster) if cluster else None,
        "region": check.region(_key("region"), region) if region else None,
        **{k: v for k, v in _admission_and_sweep().items() if k.startswith(("sweep_", "airflow_"))},
    }


def vcpu_quota_settings() -> dict[str, int | None]:
    """The two quota keys alone (``luigi-fargate pools`` needs no other Fargate setting)."""
    return {
        "fargate_vcpu_quota": _optional_int("fargate_vcpu_quota", _raw(SECTION, "fargate_vcpu_quota")),
        "fargate_spot_vcpu_quota": _optional_int("fargate_spot_vcpu_quota", _raw(SECTION, "fargate_spot_vcpu_quota")),
    }


def vcpu_quotas() -> dict[str, int]:
    """Pool name -> the quota it stands for, for the configured Fargate vCPU quotas."""
    quotas = vcpu_quota_settings()
    pools = {VCPU_POOL: quotas["fargate_vcpu_quota"], SPOT_VCPU_POOL: quotas["fargate_spot_vcpu_quota"]}
    return {pool: slots for pool, slots in pools.items() if slots}


def vcpus(cpu_units: int | None) -> int:
    """Pool slots of a task: its vCPUs, rounded up (1024 CPU units = 1 vCPU)."""
    return max(1, math.ceil((cpu_units or DEFAULT_TASK_CPU) / 1024))


@dataclass
class FamilySettings:
    """What one task family asks for: config section first, then class attributes."""

    cpu: int | None = None
    memory: int | None = None
    ephemeral_storage_gib: int | None = None
    capacity: str | None = None
    owner: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


def family_settings(family: str, task_cls: type) -> FamilySettings:
    """Merge ``[luigi_fargate.family.<family>]`` over the task class's ``fargate_*`` attributes."""
    from luigi.configuration import get_config

    section = FAMILY_SECTION.format(family=family)
    config = get_config()
    if config.has_section(section):
        unknown = sorted(set(config.options(section)) - set(FAMILY_KEYS) - set(config.defaults()))
        if unknown:
            raise UserError(f"[{section}] {unknown[0]}: unknown setting; use one of {', '.join(FAMILY_KEYS)}")

    def pick(name: str, attr: str) -> Any:
        configured = _raw(section, name)
        if configured is not None:
            return configured
        return getattr(task_cls, attr, None)

    def number(name: str, attr: str) -> int | None:
        value = pick(name, attr)
        return None if value is None else check.positive_int(f"[{section}] {name}" if _raw(section, name) else f"{family}.{attr}", value)

    capacity = _raw(section, "capacity")
    if capacity is not None:
        capacity = check.choice(f"[{section}] capacity", capacity, (*CAPACITY_CHOICES, "EC2"))
    elif getattr(task_cls, "fargate_spot", None) is not None:
        capacity = "FARGATE_SPOT" if task_cls.fargate_spot else "FARGATE"
    return FamilySettings(
        cpu=number("cpu", "fargate_cpu"),
        memory=number("memory", "fargate_memory"),
        ephemeral_storage_gib=number("ephemeral_storage_gib", "fargate_ephemeral_storage_gib"),
        capacity=capacity,
        owner=_raw(section, "owner"),
        tags=parse_tags(f"[{section}] tags", _raw(section, "tags")),
    )


def apply_fargate(spec: PipelineSpec, graph: nx.DiGraph, findings: list[Finding]) -> None:
    """Fill ``spec.runner`` and each node's size, capacity, owner, tags and vCPU pool for the Fargate runner.

    Appends a warning finding for every rounded size; raises UserError for a
    task too big for Fargate when no EC2 capacity provider is configured, and
    for an owner or tags ECS would refuse.
    """
    settings = load_settings()
    spec.runner = settings.runner()
    classes = {data["task"].task_id: type(data["task"]) for _, data in graph.nodes(data=True)}
    per_family: dict[str, FamilySettings] = {}
    for node in spec.tasks:
        if node.kind != "task":
            continue
        cls = classes.get(node.task_id, object)
        wanted = per_family.get(node.family) or per_family.setdefault(node.family, family_settings(node.family, cls))
        _apply_size(node, wanted, settings, findings)
        _apply_capacity(node, wanted, settings)
        _apply_owner_and_tags(node, wanted, settings)
        _apply_vcpu_pool(node, settings)


def _apply_size(node: TaskNode, wanted: FamilySettings, settings: FargateSettings, findings: list[Finding]) -> None:
    from luigi_fargate.introspect.portability import Finding

    cpu = wanted.cpu or settings.default_cpu
    memory = wanted.memory or settings.default_memory
    if not (cpu or memory or wanted.ephemeral_storage_gib):
        return
    decision = decide(cpu, memory, wanted.ephemeral_storage_gib)
    node.size = decision.size.to_spec()
    if not decision.fits_fargate or wanted.capacity == "EC2":
        if not settings.ec2_capacity_provider_strategy:
            raise UserError(
                f"task {node.task_id}: size {decision.size} is over Fargate's maximum (16 vCPU, 120 GiB, 200 GiB storage) "
                f"and no EC2 capacity provider is configured; set [{SECTION}] ec2_capacity_providers or shrink the task"
            )
        node.settings["capacity"] = "EC2"
        node.notes.append(f"size {decision.size} is over Fargate's maximum: runs on the EC2 capacity providers")
    elif decision.rounded_from is not None:
        message = f"requested {decision.rounded_from} is not a Fargate size; rounded up to {decision.size}"
        node.notes.append(message)
        findings.append(Finding(node.family, f"task {node.task_id}: {message}", False))


def _apply_capacity(node: TaskNode, wanted: FamilySettings, settings: FargateSettings) -> None:
    if wanted.capacity and wanted.capacity != settings.capacity and node.settings.get("capacity") != "EC2":
        node.settings["capacity"] = wanted.capacity
    if node.settings.get("capacity") == "EC2" and not settings.ec2_capacity_provider_strategy:
        raise UserError(f"task {node.task_id}: capacity EC2 needs [{SECTION}] ec2_capacity_providers; configure one or use FARGATE")


def _apply_owner_and_tags(node: TaskNode, wanted: FamilySettings, settings: FargateSettings) -> None:
    """The owner (Airflow's, as written) and its ``owner`` tag (as ECS accepts it); all tags fit in 50."""
    section = FAMILY_SECTION.format(family=node.family)
    if wanted.owner:
        owner, source = wanted.owner, f"[{section}] owner"
    elif node.settings.get("owner"):
        owner, source = str(node.settings["owner"]), f"{node.family}.owner_email (task {node.task_id})"
    else:
        owner, source = settings.owner, f"[{SECTION}] owner"
    if owner:
        node.settings["owner"] = owner
        node.settings["owner_tag"] = check.owner_tag(source, owner)
    if wanted.tags:
        node.settings["tags"] = wanted.tags
    merged = {**settings.tags, **wanted.tags}
    check.tag_count(f"[{SECTION}] tags with [{section}] tags", len(merged), len(RESERVED_TAGS) + PROPAGATED_TAGS)


def _apply_vcpu_pool(node: TaskNode, settings: FargateSettings) -> None:
    """Admission by vCPU: a Fargate task without a Luigi resource takes its vCPUs from the quota's pool.

    A task holds one Airflow pool. A Luigi resource pool is a promise Luigi
    made (at most N at once), so it wins; ``luigi-fargate pools`` keeps room in
    the quota for the vCPUs those pools can hold (docs/fargate.md).
    """
    capacity = node.settings.get("capacity") or settings.capacity
    node.settings["vcpus"] = vcpus(node.size.get("cpu") or settings.default_cpu)
    pool = {"FARGATE": VCPU_POOL, "FARGATE_SPOT": SPOT_VCPU_POOL}.get(capacity)
    quota = {VCPU_POOL: settings.fargate_vcpu_quota, SPOT_VCPU_POOL: settings.fargate_spot_vcpu_quota}.get(pool or "")
    if pool is None or not quota:
        return
    if node.settings["vcpus"] > quota:  # could never start, whichever pool admits it
        raise UserError(
            f"task {node.task_id}: needs {node.settings['vcpus']} vCPUs but [{SECTION}] "
            f"{'fargate_vcpu_quota' if pool == VCPU_POOL else 'fargate_spot_vcpu_quota'} is {quota}; raise the quota or shrink the task"
        )
    if node.settings.get("pool"):
        return
    node.settings["pool"] = pool
    node.settings["pool_slots"] = node.settings["vcpus"]
