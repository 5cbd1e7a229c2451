"""Which size, capacity, architecture and tags each exported Airflow task runs with: from the specs.

A task without its own size runs with the task definition's, which
``task-definitions``/``deploy`` register from ``[luigi_fargate] cpu``/``memory``
(default 256 CPU units and the smallest memory valid with it). The CPU
architecture is the task definition's too (``[luigi_fargate] cpu_architecture``):
the spec doesn't carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from luigi_fargate.config import Configuration
from luigi_fargate.cost.pricing import FargatePricing
from luigi_fargate.errors import UserError
from luigi_fargate.fargate.sizing import decide
from luigi_fargate.spec import Capacity, FargateRunner, NodeKind, SpecError, read_specs
from luigi_fargate.spec.tags import static_cost_tags

#: Team name for a task whose tags lack the team tag.
NO_TEAM = "(no team tag)"
DEFAULT_CPU = 256


@dataclass(frozen=True)
class PricedTask:
    """One exported Fargate task: what an hour of it costs and whom it is billed to."""

    dag_id: str
    task_id: str
    family: str
    cpu: int
    memory: int
    capacity: str
    architecture: str
    tags: dict[str, str]
    hourly_rate: Decimal

    def team(self, team_tag: str) -> str:
        return self.tags.get(team_tag) or NO_TEAM


def task_definition_size(c: Configuration) -> tuple[int, int]:
    """The size a task without its own runs with: the task definition's (``[luigi_fargate] cpu``/``memory``)."""
    size = decide(c.get("cpu") or DEFAULT_CPU, c.get("memory")).size
    return size.cpu, size.memory


def priced_tasks(spec_paths: list[str], c: Configuration, pricing: FargatePricing) -> dict[tuple[str, str], PricedTask]:
    """(dag_id, Airflow task id) -> PricedTask for every Fargate task (not sensors, not EC2, not local runners)."""
    default_cpu, default_memory = task_definition_size(c)
    architecture = c.get("cpu_architecture")
    out: dict[tuple[str, str], PricedTask] = {}
    for raw in spec_paths:
        try:
            files = read_specs(raw)
        except SpecError as exc:
            raise UserError(str(exc)) from None
        for spec in (f.spec for f in files):
            runner = spec.runner
            if not isinstance(runner, FargateRunner):
                continue
            for node in spec.tasks:
                capacity = str(node.settings.capacity or runner.capacity)
                if node.kind != NodeKind.TASK or capacity == Capacity.EC2.value:
                    continue
                cpu = (node.size.cpu if node.size else None) or default_cpu
                memory = (node.size.memory if node.size else None) or (default_memory if cpu == default_cpu else decide(cpu, None).size.memory)
                out[(spec.dag_id, node.id)] = PricedTask(
                    spec.dag_id, node.id, node.family, cpu, memory, capacity, architecture,
                    static_cost_tags(spec, runner, node), pricing.hourly_rate(cpu, memory, architecture, capacity),
                )  # fmt: skip
    return out
