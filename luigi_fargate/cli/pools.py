"""``luigi-fargate pools``: Luigi's ``[resources]`` as JSON for ``airflow pools import``.

Luigi limits concurrency with named resources: ``[resources] db=2`` lets at
most two running tasks hold ``db``. Exported tasks use an Airflow pool of
the same name with ``pool_slots`` = what the task holds; this command makes
the pools. A resource a task uses but ``[resources]`` doesn't list has one
slot in Luigi, so pass the exported specs to include those too.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from luigi_fargate.errors import UserError

#: Luigi's capacity for a resource missing from ``[resources]`` (scheduler._has_resources).
LUIGI_UNCONFIGURED_SLOTS = 1


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "pools",
        parents=[common],
        allow_abbrev=False,
        help="Luigi [resources] as JSON for 'airflow pools import'",
        description=(
            "Print (or write with --out) the Airflow pools for Luigi's [resources] configuration "
            "(luigi.cfg / LUIGI_CONFIG_PATH). Resources used by tasks in the given exported specs but not "
            "configured get 1 slot, as in Luigi. Then: airflow pools import FILE."
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


def used_resources(paths: list[str]) -> dict[str, str]:
    """pool name -> first task that uses it, from exported specs."""
    from luigi_fargate.spec import PipelineSpec, SpecError

    used: dict[str, str] = {}
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise UserError(f"{raw}: no such spec or folder; pass exported <dag_id>.json files or their folder")
        for f in sorted(p.glob("*.json")) if p.is_dir() else [p]:
            try:
                spec = PipelineSpec.load(f)
            except SpecError as exc:
                raise UserError(str(exc)) from None
            for node in spec.tasks:
                for name in [node.settings.pool, *node.settings.other_resources]:
                    if name:
                        used.setdefault(str(name), f"{spec.dag_id}.{node.id}")
    return used


def pools_json(resources: dict[str, int], used: dict[str, str]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for name, slots in sorted(resources.items()):
        out[name] = {"slots": int(slots), "description": f"Luigi resource {name} ([resources] {name}={slots})", "include_deferred": False}
    for name, user in sorted(used.items()):
        if name not in out:
            out[name] = {
                "slots": LUIGI_UNCONFIGURED_SLOTS,
                "description": f"Luigi resource {name} (not in [resources]: 1 slot, as in Luigi; used by {user})",
                "include_deferred": False,
            }
    return out


def run_pools(args: argparse.Namespace) -> int:
    from luigi_fargate.atomic_file import write_atomically

    text = json.dumps(pools_json(configured_resources(), used_resources(args.specs)), indent=1, sort_keys=True) + "\n"
    if args.out:
        write_atomically(args.out, text)
        print(f"wrote {args.out}; load it with: airflow pools import {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
