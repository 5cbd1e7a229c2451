"""``luigi-fargate pools``: the Airflow pools exported tasks use, as JSON for ``airflow pools import``.

Two kinds of pool:

- **Luigi resources.** ``[resources] db=2`` lets at most two running tasks
  hold ``db``. Exported tasks use an Airflow pool of the same name with
  ``pool_slots`` = what the task holds. A resource a task uses but
  ``[resources]`` doesn't list has one slot in Luigi, so pass the exported
  specs to include those too.
- **Fargate vCPUs.** With ``[luigi_fargate] fargate_vcpu_quota`` (and
  ``fargate_spot_vcpu_quota``), Fargate tasks without a Luigi resource use
  the pool ``fargate_vcpu`` (``fargate_spot_vcpu``) with ``pool_slots`` = their
  vCPUs, so work waits in Airflow instead of failing at RunTask. A task has
  one pool, and a Luigi resource wins (it is a promise about the work), so
  the vCPU pool is the quota minus what the resource pools' Fargate tasks can
  hold at once: together they never exceed the quota.

Every pool counts deferred tasks (``include_deferred``): a deferred Fargate
task's container is still running.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from luigi_fargate.errors import UserError

#: Luigi's capacity for a resource missing from ``[resources]`` (scheduler._has_resources).
LUIGI_UNCONFIGURED_SLOTS = 1


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "pools",
        parents=[common],
        allow_abbrev=False,
        help="Airflow pools for Luigi [resources] and the Fargate vCPU quota, as JSON for 'airflow pools import'",
        description=(
            "Print (or write with --out) the Airflow pools for Luigi's [resources] configuration "
            "(luigi.cfg / LUIGI_CONFIG_PATH) and, when [luigi_fargate] fargate_vcpu_quota / fargate_spot_vcpu_quota "
            "are set, the vCPU pools that keep Fargate tasks within the quota. Resources used by tasks in the given "
            "exported specs but not configured get 1 slot, as in Luigi. Then: airflow pools import FILE."
        ),
    )
    p.add_argument("specs", nargs="*", metavar="SPEC_OR_DIR", help="exported specs (or folders of them) whose pools to include")
    p.add_argument("--out", help="write the JSON to this file instead of stdout")
    p.set_defaults(handler=run_pools)


def configured_resources() -> dict[str, int]:
    from luigi.configuration import get_config

    try:
        return dict(get_config().getintdict("resources"))
    except ValueError as exc:
        raise UserError(f"[resources] in the Luigi configuration: {exc}; give each resource a whole number of slots") from None


@dataclass
class SpecPools:
    """What exported specs say about pools."""

    #: pool name -> first task that uses it
    used: dict[str, str] = field(default_factory=dict)
    #: (Luigi resource pool, vCPU pool) -> most vCPUs a Fargate task in it takes per pool slot
    vcpus_per_slot: dict[tuple[str, str], float] = field(default_factory=dict)


def _vcpu_pool_of(capacity: str | None) -> str | None:
    from luigi_fargate.fargate.settings import VCPU_POOLS

    return VCPU_POOLS.get(capacity or "")


def read_specs(paths: list[str]) -> SpecPools:
    from luigi_fargate.fargate.settings import SPOT_VCPU_POOL, VCPU_POOL, vcpus
    from luigi_fargate.spec import FargateRunner, NodeKind, SpecError
    from luigi_fargate.spec import read_specs as read_spec_files

    out = SpecPools()
    for raw in paths:
        if not Path(raw).exists():
            raise UserError(f"{raw}: no such spec or folder; pass exported <dag_id>.json files or their folder")
        try:
            files = read_spec_files(raw)
        except SpecError as exc:
            raise UserError(str(exc)) from None
        for spec in (f.spec for f in files):
            for node in spec.tasks:
                for name in [node.settings.pool, *node.settings.other_resources]:
                    if name:
                        out.used.setdefault(str(name), f"{spec.dag_id}.{node.id}")
                runner = spec.runner
                pool = node.settings.pool
                if not isinstance(runner, FargateRunner) or node.kind != NodeKind.TASK or not pool or pool in (VCPU_POOL, SPOT_VCPU_POOL):
                    continue
                vcpu_pool = _vcpu_pool_of(str(node.settings.capacity or runner.capacity))
                if not vcpu_pool:
                    continue
                per_slot = vcpus(node.size.cpu if node.size else None) / max(1, node.settings.pool_slots or 1)
                key = (str(pool), vcpu_pool)
                out.vcpus_per_slot[key] = max(out.vcpus_per_slot.get(key, 0.0), per_slot)
    return out


def _pool(slots: int, description: str) -> dict[str, object]:
    # Deferred tasks hold their slot: a deferred Fargate task's container is still running.
    return {"slots": int(slots), "description": description, "include_deferred": True}


def vcpu_pools(quotas: dict[str, int], resources: dict[str, int], specs: SpecPools, warn: list[str]) -> dict[str, dict[str, object]]:
    """The vCPU pools: each quota minus what Luigi resource pools' Fargate tasks can hold at once."""
    out: dict[str, dict[str, object]] = {}
    for vcpu_pool, quota in sorted(quotas.items()):
        reserve = 0
        held = []
        for (pool, target), per_slot in sorted(specs.vcpus_per_slot.items()):
            if target == vcpu_pool:
                most = math.ceil(resources.get(pool, LUIGI_UNCONFIGURED_SLOTS) * per_slot)
                reserve += most
                held.append(f"{pool} {most}")
        slots = quota - reserve
        if slots < 1:
            warn.append(
                f"pool {vcpu_pool}: the Luigi resource pools can hold {reserve} vCPUs of Fargate tasks at once, the quota is "
                f"{quota}; raise the quota or lower [resources] (the pool gets 1 slot)"
            )
            slots = 1
        kept = f"; {reserve} kept for tasks in Luigi resource pools ({', '.join(held)})" if held else ""
        out[vcpu_pool] = _pool(slots, f"Fargate vCPUs: quota {quota}{kept}; pool_slots = a task's vCPUs")
    return out


def pools_json(resources: dict[str, int], specs: SpecPools, quotas: dict[str, int], warn: list[str]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for name, slots in sorted(resources.items()):
        out[name] = _pool(slots, f"Luigi resource {name} ([resources] {name}={slots})")
    vcpu = vcpu_pools(quotas, resources, specs, warn)
    for name, user in sorted(specs.used.items()):
        if name in out or name in vcpu:
            continue
        if _is_vcpu_pool(name):
            raise UserError(
                f"{user} uses pool {name}, but [luigi_fargate] {'fargate_vcpu_quota' if name == 'fargate_vcpu' else 'fargate_spot_vcpu_quota'} "
                "is not set; set it to the account's Fargate vCPU quota (Service Quotas console)"
            )
        out[name] = _pool(LUIGI_UNCONFIGURED_SLOTS, f"Luigi resource {name} (not in [resources]: 1 slot, as in Luigi; used by {user})")
    return {**out, **vcpu}


def _is_vcpu_pool(name: str) -> bool:
    from luigi_fargate.fargate.settings import SPOT_VCPU_POOL, VCPU_POOL

    return name in (VCPU_POOL, SPOT_VCPU_POOL)


def run_pools(args: argparse.Namespace) -> int:
    from luigi_fargate.atomic_file import write_atomically
    from luigi_fargate.fargate.settings import vcpu_quotas

    warnings: list[str] = []
    pools = pools_json(configured_resources(), read_specs(args.specs), vcpu_quotas(), warnings)
    for warning in warnings:
        print(f"luigi-fargate: warning: {warning}", file=sys.stderr)
    text = json.dumps(pools, indent=1, sort_keys=True) + "\n"
    if args.out:
        write_atomically(args.out, text)
        print(f"wrote {args.out}; load it with: airflow pools import {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
