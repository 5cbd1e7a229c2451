"""Partial graphs: ``--select`` / ``--exclude`` with family globs and dbt-style ``+``.

``Clean`` selects every instance of the family ``Clean``; ``sales.*`` every
family in the ``sales`` namespace; ``+Clean`` adds everything Clean depends
on, ``Clean+`` everything that depends on Clean. Selected minus excluded is
migrated; a dependency left out of the selection stays where it runs today
(cron) and becomes a completeness sensor, so the migrated part waits for it.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    import networkx as nx


def _matching(graph: nx.DiGraph, selector: str, option: str) -> set[str]:
    import networkx as nx

    up, down = selector.startswith("+"), selector.endswith("+")
    pattern = selector.strip("+")
    if not pattern:
        raise UserError(f"{option} {selector!r}: expected a family glob such as Clean, sales.* or +Report")
    hits = {n for n, d in graph.nodes(data=True) if fnmatch.fnmatchcase(d["task"].get_task_family(), pattern)}
    if not hits:
        families = sorted({d["task"].get_task_family() for _, d in graph.nodes(data=True)})
        raise UserError(f"{option} {selector!r}: no task family in the graph matches; families are {', '.join(families)}")
    out = set(hits)
    for n in hits:
        if up:
            out |= nx.ancestors(graph, n)
        if down:
            out |= nx.descendants(graph, n)
    return out


def select_nodes(graph: nx.DiGraph, select: list[str], exclude: list[str]) -> tuple[set[str], set[str]]:
    """(Luigi ids to migrate, Luigi ids to keep as completeness sensors)."""
    chosen = set(graph.nodes)
    if select:
        chosen = set().union(*(_matching(graph, s, "--select") for s in select))
    for e in exclude:
        chosen -= _matching(graph, e, "--exclude")
    if not chosen:
        raise UserError("--select/--exclude left no task to export; loosen --exclude or widen --select")
    sensors = {u for n in chosen for u in graph.predecessors(n)} - chosen
    return chosen, sensors
