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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from luigi_fargate import validators as check
from luigi_fargate.config import SECTION
from luigi_fargate.config import keys as config_keys
from luigi_fargate.errors import UserError
from luigi_fargate.fargate.sizing import decide
from luigi_fargate.spec import Capacity, CapacityProviderItem, FargateRunner, FargateSize, NodeKind

if TYPE_CHECKING:
    import networkx as nx

    from luigi_fargate.introspect.portability import Finding
    from luigi_fargate.spec import PipelineSpec

FAMILY_SECTION = SECTION + ".family.{family}"
CAPACITY_CHOICES = ("FARGATE", "FARGATE_SPOT")
ASSIGN_PUBLIC_IP = ("DISABLED", "ENABLED")
#: Keys a family section may set (anything else is a typo and fails the export).
FAMILY_KEYS = tuple(config_keys.FAMILY_KEYS)
#: Tag keys the operator sets itself; configured tags can't override them.
RESERVED_TAGS = ("owner", "dag_id", "luigi_family", "airflow_run_id")


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
    if len(tags) > 40:
        raise UserError(f"{key}: {len(tags)} tags; ECS allows 50 per task and luigi-fargate sets up to 10 itself, so use at most 40")
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
    """The ``[luigi_fargate]`` settings that the Fargate runner needs."""

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
    start_backoff_seconds: float = 5.0
    default_cpu: int | None = None
    default_memory: int | None = None
    deferrable: bool = False
    runner_options: list[str] = field(default_factory=list)

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
            ec2_capacity_provider_strategy=[
                CapacityProviderItem(s["capacityProvider"], s.get("weight", 1)) for s in self.ec2_capacity_provider_strategy
            ],
            tags=self.tags,
            aws_conn_id=self.aws_conn_id,
            poll_seconds=float(self.poll_seconds),
            start_attempts=self.start_attempts,
            start_backoff_seconds=self.start_backoff_seconds,
            deferrable=self.deferrable,
            runner_options=self.runner_options,
        )


def _required(key: str) -> str:
    value = _raw(SECTION, key)
    if value is None:
        raise UserError(f"[{SECTION}] {key}: missing; --runner fargate needs it in luigi.cfg (see docs/fargate.md)")
    return value


def load_settings() -> FargateSettings:
    """Read and validate ``[luigi_fargate]``; raise UserError naming the first bad key."""
    def key(name: str) -> str:
        return f"[{SECTION}] {name}"

    subnets = [check.subnet_id(key("subnets"), s) for s in _list(_required("subnets"))]
    groups = [check.security_group_id(key("security_groups"), s) for s in _list(_required("security_groups"))]
    settings = FargateSettings(
        cluster=check.cluster(key("cluster"), _required("cluster")),
        region=check.region(key("region"), _required("region")),
        task_definition=check.task_definition(key("task_definition"), _required("task_definition")),
        container_name=check.container_name(key("container_name"), _required("container_name")),
        subnets=subnets,
        security_groups=groups,
        assign_public_ip=check.choice(key("assign_public_ip"), _raw(SECTION, "assign_public_ip") or "DISABLED", ASSIGN_PUBLIC_IP),
        log_group=_raw(SECTION, "log_group"),
        log_stream_prefix=_raw(SECTION, "log_stream_prefix") or "luigi",
        capacity=check.choice(key("capacity"), _raw(SECTION, "capacity") or "FARGATE", CAPACITY_CHOICES),
        ec2_capacity_provider_strategy=parse_strategy(key("ec2_capacity_providers"), _raw(SECTION, "ec2_capacity_providers")),
        tags=parse_tags(key("tags"), _raw(SECTION, "tags")),
        owner=_raw(SECTION, "owner"),
        aws_conn_id=_raw(SECTION, "aws_conn_id") or "aws_default",
        poll_seconds=check.positive_int(key("poll_seconds"), _raw(SECTION, "poll_seconds") or "6"),
        start_attempts=check.positive_int(key("start_attempts"), _raw(SECTION, "start_attempts") or "5"),
        start_backoff_seconds=config_keys.KEYS["start_backoff_seconds"].parse(key("start_backoff_seconds"), _raw(SECTION, "start_backoff_seconds") or "5"),
        deferrable=check.choice(key("deferrable"), _raw(SECTION, "deferrable") or "false", ("true", "false")) == "true",
        runner_options=_runner_options(key("runner_options"), _raw(SECTION, "runner_options")),
    )
    if _raw(SECTION, "cpu"):
        settings.default_cpu = check.positive_int(key("cpu"), _raw(SECTION, "cpu"))
    if _raw(SECTION, "memory"):
        settings.default_memory = check.positive_int(key("memory"), _raw(SECTION, "memory"))
    if not subnets or not groups:
        raise UserError(f"[{SECTION}] subnets/security_groups: at least one of each is needed; list them comma-separated")
    return settings


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
    """Fill ``spec.runner`` and each node's size, capacity, owner and tags for the Fargate runner.

    Appends a warning finding for every rounded size; raises UserError for a
    task too big for Fargate when no EC2 capacity provider is configured.
    """
    from luigi_fargate.introspect.portability import Finding

    settings = load_settings()
    spec.runner = settings.runner()
    classes = {data["task"].task_id: type(data["task"]) for _, data in graph.nodes(data=True)}
    per_family: dict[str, FamilySettings] = {}
    for node in spec.tasks:
        if node.kind != NodeKind.TASK:
            continue
        cls = classes.get(node.task_id, object)
        wanted = per_family.get(node.family) or per_family.setdefault(node.family, family_settings(node.family, cls))
        cpu = wanted.cpu or settings.default_cpu
        memory = wanted.memory or settings.default_memory
        if cpu or memory or wanted.ephemeral_storage_gib:
            decision = decide(cpu, memory, wanted.ephemeral_storage_gib)
            node.size = FargateSize(**decision.size.to_spec())
            if not decision.fits_fargate or wanted.capacity == "EC2":
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
        if wanted.capacity and wanted.capacity != settings.capacity and node.settings.capacity != Capacity.EC2:
            node.settings.capacity = Capacity(wanted.capacity)
        if node.settings.capacity == Capacity.EC2 and not settings.ec2_capacity_provider_strategy:
            raise UserError(f"task {node.task_id}: capacity EC2 needs [{SECTION}] ec2_capacity_providers; configure one or use FARGATE")
        owner = wanted.owner or node.settings.owner or settings.owner
        if owner:
            node.settings.owner = owner
        if wanted.tags:
            node.settings.tags = wanted.tags
