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

from luigi_fargate import config
from luigi_fargate import validators as check
from luigi_fargate.config import FAMILY_SECTION, SECTION, Configuration
from luigi_fargate.config.parsers import PROPAGATED_TAGS, RESERVED_TAGS
from luigi_fargate.errors import UserError
from luigi_fargate.fargate.sizing import decide
from luigi_fargate.spec import Capacity, CapacityProviderItem, FargateRunner, FargateSize, NodeKind

if TYPE_CHECKING:
    import networkx as nx

    from luigi_fargate.introspect.portability import Finding
    from luigi_fargate.spec import PipelineSpec, TaskNode

#: Airflow pools that admit Fargate tasks by vCPU (``luigi-fargate pools`` sizes them to the quotas).
VCPU_POOL = "fargate_vcpu"
SPOT_VCPU_POOL = "fargate_spot_vcpu"
VCPU_POOLS = {Capacity.FARGATE: VCPU_POOL, Capacity.FARGATE_SPOT: SPOT_VCPU_POOL}
#: CPU units of a task that declares no size: Fargate's smallest, the task definition's default.
DEFAULT_TASK_CPU = 256
#: What the fargate view needs, for the error that names a missing key.
WHAT = "export --runner fargate"


class FargateResources:
    """Mixin for Luigi tasks that declare their Fargate size next to their code.

    ``class Train(FargateResources, luigi.Task): fargate_cpu = 4096; fargate_memory = 16384``.
    Values are CPU units (1024 = 1 vCPU), MiB and GiB; ``[luigi_fargate.family.Train]`` wins.
    """

    fargate_cpu: int | None = None
    fargate_memory: int | None = None
    fargate_ephemeral_storage_gib: int | None = None
    fargate_spot: bool | None = None


@dataclass
class FargateSettings:
    """The fargate view of ``[luigi_fargate]``: what the Fargate runner needs (docs/configuration.md lists each)."""

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
    ec2_capacity_provider_strategy: list[CapacityProviderItem] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    owner: str | None = None
    aws_conn_id: str = "aws_default"
    poll_seconds: int = 6
    start_attempts: int = 5
    start_backoff_seconds: float = 5.0
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
    #: After an out-of-memory stop the retry asks for the next size up, at most this many MiB (0: off).
    oom_memory_ceiling: int = 30720
    #: The account's Fargate vCPU quotas: when set, tasks queue in Airflow pools sized to them.
    fargate_vcpu_quota: int | None = None
    fargate_spot_vcpu_quota: int | None = None

    def runner(self) -> FargateRunner:
        """``spec.runner`` for ``--runner fargate`` (the contract read by airflow_bridge and deploy)."""
        return FargateRunner(
            cluster=self.cluster,
            region=self.region,
            task_definition=self.task_definition,
            container_name=self.container_name,
            subnets=self.subnets,
            security_groups=self.security_groups,
            assign_public_ip=self.assign_public_ip,
            log_group=self.log_group,
            log_stream_prefix=self.log_stream_prefix,
            capacity=Capacity(self.capacity),
            ec2_capacity_provider_strategy=list(self.ec2_capacity_provider_strategy),
            tags=self.tags,
            aws_conn_id=self.aws_conn_id,
            poll_seconds=float(self.poll_seconds),
            start_attempts=self.start_attempts,
            start_backoff_seconds=self.start_backoff_seconds,
            deferrable=self.deferrable,
            runner_options=self.runner_options,
            describe_tasks_per_second=self.describe_tasks_per_second,
            get_log_events_per_second=self.get_log_events_per_second,
            triggerers=self.triggerers,
            spot_fallback_to_on_demand=self.spot_fallback_to_on_demand,
            oom_memory_ceiling=self.oom_memory_ceiling,
        )


#: Keys the view copies as they are (checked by the loader).
_COPIED = (
    "assign_public_ip", "log_group", "log_stream_prefix", "capacity", "tags", "owner", "aws_conn_id", "poll_seconds",
    "start_attempts", "start_backoff_seconds", "deferrable", "runner_options", "describe_tasks_per_second",
    "get_log_events_per_second", "triggerers", "spot_fallback_to_on_demand", "oom_memory_ceiling", "fargate_vcpu_quota", "fargate_spot_vcpu_quota",
)  # fmt: skip


def fargate_settings(c: Configuration) -> FargateSettings:
    """The fargate view of the checked configuration; a missing key it needs is a one-line error."""
    required = {name: c.require(name, WHAT) for name in ("cluster", "region", "task_definition", "container_name", "subnets", "security_groups")}
    if not required["subnets"] or not required["security_groups"]:
        raise UserError(f"[{SECTION}] subnets/security_groups: at least one of each is needed; list them comma-separated")
    return FargateSettings(
        **required,
        **{name: c.get(name) for name in _COPIED},
        ec2_capacity_provider_strategy=[CapacityProviderItem(name, weight) for name, weight in c.get("ec2_capacity_providers")],
        default_cpu=c.get("cpu"),
        default_memory=c.get("memory"),
    )


def load_settings() -> FargateSettings:
    """Read and check ``[luigi_fargate]``; raise UserError naming the first bad or missing key."""
    return fargate_settings(config.load())


def sweeper_settings(c: Configuration | None = None) -> dict[str, Any]:
    """What ``luigi-fargate ecs sweep`` reads (cluster and region may come from its options instead)."""
    c = c or config.load()
    return {name: c.get(name) for name in ("cluster", "region", "sweep_grace_seconds", "airflow_api_url", "airflow_api_user")}


def vcpu_quotas(c: Configuration | None = None) -> dict[str, int]:
    """Pool name -> the quota it stands for, for the configured Fargate vCPU quotas."""
    c = c or config.load()
    pools = {VCPU_POOL: c.get("fargate_vcpu_quota"), SPOT_VCPU_POOL: c.get("fargate_spot_vcpu_quota")}
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


def family_settings(family: str, task_cls: type, c: Configuration) -> FamilySettings:
    """Merge ``[luigi_fargate.family.<family>]`` (checked by the loader) over the task class's ``fargate_*`` attributes."""
    own = c.family(family)

    def number(name: str, attr: str) -> int | None:
        if name in own:
            return own[name]
        value = getattr(task_cls, attr, None)
        return None if value is None else check.positive_int(f"{family}.{attr}", value)

    capacity = own.get("capacity")
    if capacity is None and getattr(task_cls, "fargate_spot", None) is not None:
        capacity = Capacity.FARGATE_SPOT if task_cls.fargate_spot else Capacity.FARGATE
    return FamilySettings(
        cpu=number("cpu", "fargate_cpu"),
        memory=number("memory", "fargate_memory"),
        ephemeral_storage_gib=number("ephemeral_storage_gib", "fargate_ephemeral_storage_gib"),
        capacity=capacity,
        owner=own.get("owner"),
        tags=own.get("tags", {}),
    )


def apply_fargate(spec: PipelineSpec, graph: nx.DiGraph, findings: list[Finding]) -> None:
    """Fill ``spec.runner`` and each node's size, capacity, owner, tags and vCPU pool for the Fargate runner.

    Appends a warning finding for every rounded size; raises UserError for a
    task too big for Fargate when no EC2 capacity provider is configured, and
    for an owner or tags ECS would refuse.
    """
    configuration = config.load()
    settings = fargate_settings(configuration)
    spec.runner = settings.runner()
    classes = {data["task"].task_id: type(data["task"]) for _, data in graph.nodes(data=True)}
    per_family: dict[str, FamilySettings] = {}
    for node in spec.tasks:
        if node.kind != NodeKind.TASK:
            continue
        cls = classes.get(node.task_id, object)
        wanted = per_family.get(node.family) or per_family.setdefault(node.family, family_settings(node.family, cls, configuration))
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
    node.size = FargateSize(**decision.size.to_spec())
    if not decision.fits_fargate or wanted.capacity == Capacity.EC2:
        if not settings.ec2_capacity_provider_strategy:
            raise UserError(
                f"task {node.task_id}: size {decision.size} is over Fargate's maximum (16 vCPU, 120 GiB, 200 GiB storage) "
                f"and no EC2 capacity provider is configured; set [{SECTION}] ec2_capacity_providers or shrink the task"
            )
        node.settings.capacity = Capacity.EC2
        node.notes.append(f"size {decision.size} is over Fargate's maximum: runs on the EC2 capacity providers")
    elif decision.rounded_from is not None:
        message = f"requested {decision.rounded_from} is not a Fargate size; rounded up to {decision.size}"
        node.notes.append(message)
        findings.append(Finding(node.family, f"task {node.task_id}: {message}", False))


def _apply_capacity(node: TaskNode, wanted: FamilySettings, settings: FargateSettings) -> None:
    if wanted.capacity and wanted.capacity != settings.capacity and node.settings.capacity != Capacity.EC2:
        node.settings.capacity = Capacity(wanted.capacity)
    if node.settings.capacity == Capacity.EC2 and not settings.ec2_capacity_provider_strategy:
        raise UserError(f"task {node.task_id}: capacity EC2 needs [{SECTION}] ec2_capacity_providers; configure one or use FARGATE")


def _apply_owner_and_tags(node: TaskNode, wanted: FamilySettings, settings: FargateSettings) -> None:
    """The owner (Airflow's, as written) and its ``owner`` tag (as ECS accepts it); all tags fit in 50."""
    section = FAMILY_SECTION.format(family=node.family)
    if wanted.owner:
        owner, source = wanted.owner, f"[{section}] owner"
    elif node.settings.owner:
        owner, source = node.settings.owner, f"{node.family}.owner_email (task {node.task_id})"
    else:
        owner, source = settings.owner, f"[{SECTION}] owner"
    if owner:
        node.settings.owner = owner
        check.owner_tag(source, owner)  # the operator tags it so: refuse here what ECS would refuse
    if wanted.tags:
        node.settings.tags = wanted.tags
    merged = {**settings.tags, **wanted.tags}
    check.tag_count(f"[{SECTION}] tags with [{section}] tags", len(merged), len(RESERVED_TAGS) + PROPAGATED_TAGS)


def _apply_vcpu_pool(node: TaskNode, settings: FargateSettings) -> None:
    """Admission by vCPU: a Fargate task without a Luigi resource takes its vCPUs from the quota's pool.

    A task holds one Airflow pool. A Luigi resource pool is a promise Luigi
    made (at most N at once), so it wins; ``luigi-fargate pools`` keeps room in
    the quota for the vCPUs those pools can hold (docs/fargate.md).
    """
    capacity = node.settings.capacity or settings.capacity
    needed = vcpus((node.size.cpu if node.size else None) or settings.default_cpu)
    pool = VCPU_POOLS.get(Capacity(capacity))
    quota = {VCPU_POOL: settings.fargate_vcpu_quota, SPOT_VCPU_POOL: settings.fargate_spot_vcpu_quota}.get(pool or "")
    if pool is None or not quota:
        return
    if needed > quota:  # could never start, whichever pool admits it
        raise UserError(
            f"task {node.task_id}: needs {needed} vCPUs but [{SECTION}] "
            f"{'fargate_vcpu_quota' if pool == VCPU_POOL else 'fargate_spot_vcpu_quota'} is {quota}; raise the quota or shrink the task"
        )
    if node.settings.pool:
        return
    node.settings.pool = pool
    node.settings.pool_slots = needed
