"""The size a family runs with now, when its usage events don't say: the specs, then the configuration.

The order export uses: ``[luigi_fargate.family.X] cpu/memory``, then
``[luigi_fargate] cpu/memory`` (the task definition's size; 256 CPU units
and the smallest memory valid with it when unset); a spec's node size (what export decided,
class attributes included) wins over both when specs are given.
"""

from __future__ import annotations

from luigi_fargate.config import Configuration
from luigi_fargate.cost.catalog import DEFAULT_CPU
from luigi_fargate.errors import UserError
from luigi_fargate.fargate.sizing import FargateSize, decide
from luigi_fargate.sizes.suggest import CurrentSize
from luigi_fargate.spec import NodeKind, SpecError, read_specs


def sizes_in_specs(paths: list[str]) -> dict[str, FargateSize]:
    out: dict[str, FargateSize] = {}
    for raw in paths:
        try:
            files = read_specs(raw)
        except SpecError as exc:
            raise UserError(str(exc)) from None
        for node in (n for f in files for n in f.spec.tasks):
            if node.kind == NodeKind.TASK and node.size and node.size.cpu and node.size.memory:
                out.setdefault(node.family, FargateSize(node.size.cpu, node.size.memory))
    return out


def current_sizes(c: Configuration, spec_paths: list[str]) -> CurrentSize:
    in_specs = sizes_in_specs(spec_paths)

    def current(family: str) -> FargateSize:
        if family in in_specs:
            return in_specs[family]
        own = c.family(family)
        cpu = own.get("cpu") or c.get("cpu") or DEFAULT_CPU
        memory = own.get("memory") or (None if own.get("cpu") else c.get("memory"))
        size = decide(cpu, memory).size
        return FargateSize(size.cpu, size.memory)

    return current
