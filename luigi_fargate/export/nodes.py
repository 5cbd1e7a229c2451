"""The spec's nodes: one Airflow task per task of the exported graph, what kind, with which settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx

from luigi_fargate.export.settings import airflow_settings, retry_timing
from luigi_fargate.export.union import luigi_id_at_export
from luigi_fargate.introspect.portability import Finding
from luigi_fargate.spec import NodeKind, TaskNode, TaskParam
from luigi_fargate.spec.kinds import TriggerRule

if TYPE_CHECKING:
    import luigi

_GROUP_INVALID = re.compile(r"[^\w-]+")


@dataclass
class Walked:
    """What the checks over every exported task found: parameters, id identities, findings."""

    params: dict[str, list[TaskParam]] = field(default_factory=dict)
    identities: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def has_own_run(task: luigi.Task) -> bool:
    """The class (or a base below luigi.Task) defines run(): Luigi runs it, wrapper or not."""
    import luigi

    return type(task).run is not luigi.Task.run


def node_kind(task: luigi.Task) -> NodeKind:
    """wrapper: no work of its own; external: only checked for completeness (also disabled tasks).

    A WrapperTask with its own run() is a task: Luigi runs that run() (on
    any invocation where the wrapper was incomplete when it was scheduled).
    """
    import luigi

    if isinstance(task, luigi.WrapperTask) and not has_own_run(task):
        return NodeKind.WRAPPER
    if isinstance(task, luigi.ExternalTask) or getattr(task, "run", None) is None or getattr(task, "disabled", False):
        return NodeKind.EXTERNAL
    return NodeKind.TASK


def group_for(task: luigi.Task, group_by: str | None, family_sizes: dict[str, int]) -> str | None:
    """TaskGroup id (``^[\\w-]+$``, <= 200 chars) for ``task``, or None (top level).

    Groups keep the tasks' own ids (prefix_group_id off), so grouping never
    renames a task. Families with one instance stay at the top level.
    """
    family = task.get_task_family()
    if group_by == "namespace":
        name = family.rpartition(".")[0]
    elif group_by == "family":
        name = family if family_sizes.get(family, 0) > 1 else ""
    else:
        return None
    return _GROUP_INVALID.sub("_", name).strip("_")[:200] or None


def _notes(task: luigi.Task, kind: NodeKind, excluded: bool, optional_on: list[str], family_notes: list[str]) -> list[str]:
    notes = sorted(set(family_notes))
    if excluded:
        notes.append("left out of this export (--select/--exclude): waits until complete, never runs it")
    elif kind == NodeKind.EXTERNAL and getattr(task, "disabled", False):
        notes.append("disabled in Luigi: never run, only checked for completeness")
    if optional_on:
        notes.append(
            f"not in Luigi's graph on every run date (missing on {', '.join(optional_on)} of the dates export "
            "checked): skipped there (exit 9)"
        )
    return notes


@dataclass
class _Context:
    exported: nx.DiGraph
    sensors: set[str]
    walked: Walked
    ids: dict[str, str]
    labels: list[str]
    group_by: str | None
    timing: dict[str, float]
    family_sizes: dict[str, int]
    notes_by_family: dict[str, list[str]]


def _node(name: str, ctx: _Context) -> TaskNode:
    data = ctx.exported.nodes[name]
    task, rule_node = data["task"], data["rule_node"]
    excluded = name in ctx.sensors
    kind = NodeKind.EXTERNAL if excluded else node_kind(task)
    upstream = [] if excluded else sorted(ctx.ids[u] for u in ctx.exported.predecessors(name))
    optional_on = [label for label, here in zip(ctx.labels, rule_node.present, strict=True) if not here]
    settings = airflow_settings(task, ctx.timing)
    if any(ctx.exported.nodes[u]["rule_node"].optional for u in ctx.exported.predecessors(name)) and not excluded:
        settings.trigger_rule = TriggerRule.NONE_FAILED
    return TaskNode(
        id=ctx.ids[name],
        task_id=luigi_id_at_export(name),
        module=type(task).__module__,
        family=task.get_task_family(),
        params=ctx.walked.params[name],
        upstream=upstream,
        kind=kind,
        settings=settings,
        optional=bool(optional_on),
        notes=_notes(task, kind, excluded, optional_on, ctx.notes_by_family.get(task.get_task_family(), [])),
        group=group_for(task, ctx.group_by, ctx.family_sizes),
    )


def make_nodes(exported: nx.DiGraph, sensors: set[str], walked: Walked, ids: dict[str, str], labels: list[str],
               group_by: str | None) -> list[TaskNode]:  # fmt: skip
    """The spec's nodes in a stable topological order (ties broken by Airflow id)."""
    family_sizes: dict[str, int] = {}
    for _, data in exported.nodes(data=True):
        family = data["task"].get_task_family()
        family_sizes[family] = family_sizes.get(family, 0) + 1
    notes_by_family: dict[str, list[str]] = {}
    for f in walked.findings:
        notes_by_family.setdefault(f.family, []).append(f.message)
    ctx = _Context(exported, sensors, walked, ids, labels, group_by, retry_timing(), family_sizes, notes_by_family)
    return [_node(name, ctx) for name in nx.lexicographical_topological_sort(exported, key=lambda n: ids[n])]
