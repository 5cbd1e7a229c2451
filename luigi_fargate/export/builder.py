"""A Luigi graph -> a :class:`~luigi_fargate.spec.PipelineSpec`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx

from luigi_fargate.errors import UserError
from luigi_fargate.export import task_ids
from luigi_fargate.export.bindings import RootBinding, root_binding
from luigi_fargate.export.settings import airflow_settings, primary_resource, retry_timing
from luigi_fargate.introspect.anchors import DateRules, learn_date_rules
from luigi_fargate.introspect.portability import Finding, class_findings, instance_findings, task_params
from luigi_fargate.introspect.selection import select_nodes
from luigi_fargate.spec import (
    DagDefaults,
    GraphShape,
    LocalRunner,
    NodeKind,
    PipelineSpec,
    RunnerKind,
    Schedule,
    TaskNode,
)

if TYPE_CHECKING:
    import luigi

DAG_ID = re.compile(r"^[\w.-]{1,250}$")
GROUP_BY = ("namespace", "family")
_GROUP_INVALID = re.compile(r"[^\w-]+")


@dataclass
class ExportOptions:
    dag_id: str | None = None
    schedule: str | None = None  # cron expression or preset
    timezone: str = "UTC"
    bindings: dict[str, str] | None = None  # None: the documented default (see export.api)
    runner: RunnerKind = RunnerKind.LOCAL
    cwd: str | None = None  # the local runner's working directory (a crontab job's ``cd DIR &&``)
    start_date: str | None = None
    catchup: bool = False
    defaults: DagDefaults = field(default_factory=DagDefaults)
    tags: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    group_by: str | None = None  # "namespace" | "family": Airflow TaskGroups
    select: list[str] = field(default_factory=list)  # family globs, dbt-style + for up/downstream
    exclude: list[str] = field(default_factory=list)
    #: root param -> raw Jinja template for its value (crontab migrate: ``--day`` from ``$(date +%Y%m%d)``).
    root_templates: dict[str, str] = field(default_factory=dict)


def default_dag_id(module: str, family: str) -> str:
    """``examples.pipeline`` + ``Report`` -> ``pipeline_report``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", family.split(".")[-1]).lower()
    return f"{module.split('.')[-1]}_{snake}"


def _kind(task: luigi.Task) -> NodeKind:
    """wrapper: no work of its own; external: only checked for completeness (also disabled tasks)."""
    import luigi

    if isinstance(task, luigi.WrapperTask):
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


def _resource_findings(task: luigi.Task) -> list[Finding]:
    resources = dict(getattr(task, "resources", None) or {})
    if len(resources) < 2:
        return []
    name, slots = primary_resource(resources)
    others = ", ".join(f"{k}={v}" for k, v in sorted(resources.items()) if k != name)
    return [
        Finding(
            task.get_task_family(),
            f"holds several Luigi resources: Airflow pool {name!r} ({slots} slots) limits it, {others} do not "
            "(an Airflow task has one pool; see docs/concepts.md for combining resources)",
            False,
        )
    ]


def _rule_findings(root: luigi.Task, graph: nx.DiGraph, rules: DateRules) -> list[Finding]:
    family = root.get_task_family()
    dates = ", ".join(rules.checked)
    out = [
        Finding(
            graph.nodes[n]["task"].get_task_family(),
            f"{n}: its parameters don't follow the run date in a way that matches the graphs for {dates}; "
            "runs where it differs stop with exit 8",
            False,
        )
        for n in rules.unexplained
    ]
    for line in rules.differences:
        out.append(
            Finding(
                family,
                f"the graph's shape changes with the run date ({line}); such runs stop with exit 8: "
                "make the varying part one task with dynamic dependencies (yield in run()) or export per shape",
                False,
            )
        )
    return out


@dataclass
class _Walked:
    """What the checks over every exported task found: templates, id identities, findings."""

    templates: dict[str, dict[str, str]] = field(default_factory=dict)
    identities: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def _check_tasks(root: luigi.Task, exported: nx.DiGraph, binding: RootBinding | None, rules: DateRules, options: ExportOptions) -> _Walked:
    """Portability checks per class and instance, run-date templates and id-relevant parameters per task."""
    walked = _Walked()
    seen_classes: set[type] = set()
    for luigi_id, data in exported.nodes(data=True):
        task = data["task"]
        if type(task) not in seen_classes:
            seen_classes.add(type(task))
            walked.findings += class_findings(type(task)) + _resource_findings(task)
        walked.findings += instance_findings(task)
        moving = rules.moving.get(luigi_id, {}) if binding else {}
        templates = {name: rd.template(binding.source, binding.step_unit) for name, rd in moving.items()} if binding else {}
        labels = {name: rd.label(binding.source) for name, rd in moving.items()} if binding else {}
        if luigi_id == root.task_id and options.root_templates:
            templates.update(options.root_templates)
            labels.update(dict.fromkeys(options.root_templates, "run"))
        walked.templates[luigi_id] = templates
        significant = task.to_str_params(only_significant=True, only_public=True)
        walked.identities[luigi_id] = (task.get_task_family(), {**significant, **labels})
    fatal = [f for f in walked.findings if f.fatal]
    if fatal:
        more = f" (and {len(fatal) - 1} more; rerun with -v to list them)" if len(fatal) > 1 else ""
        raise UserError(f"can't run in a container: {fatal[0]}{more}")
    return walked


def _node(task: luigi.Task, luigi_id: str, *, graph: nx.DiGraph, exported: nx.DiGraph, excluded: bool, ids: dict[str, str],
          walked: _Walked, notes: list[str], group: str | None, timing: dict[str, float]) -> TaskNode:  # fmt: skip
    kind = NodeKind.EXTERNAL if excluded else _kind(task)
    notes = sorted(set(notes))
    if excluded:
        notes.append("left out of this export (--select/--exclude): waits until complete, never runs it")
    elif kind == NodeKind.EXTERNAL and getattr(task, "disabled", False):
        notes.append("disabled in Luigi: never run, only checked for completeness")
    return TaskNode(
        id=ids[luigi_id],
        task_id=luigi_id,
        module=type(task).__module__,
        family=task.get_task_family(),
        params=task_params(task, walked.templates[luigi_id]),
        upstream=[] if excluded else sorted(ids[u] for u in exported.predecessors(luigi_id)),
        kind=kind,
        settings=airflow_settings(task, timing),
        luigi_deps=graph.in_degree(luigi_id),
        notes=notes,
        group=group,
    )


def _nodes(root: luigi.Task, graph: nx.DiGraph, exported: nx.DiGraph, sensors: set[str], walked: _Walked,
           options: ExportOptions) -> list[TaskNode]:  # fmt: skip
    """The spec's nodes in a stable topological order (ties broken by Airflow id)."""
    ids = task_ids.assign(walked.identities)
    timing = retry_timing()
    family_sizes: dict[str, int] = {}
    for _, data in exported.nodes(data=True):
        family_sizes[data["task"].get_task_family()] = family_sizes.get(data["task"].get_task_family(), 0) + 1
    notes_by_family: dict[str, list[str]] = {}
    for f in walked.findings:
        notes_by_family.setdefault(f.family, []).append(f.message)
    nodes = []
    for luigi_id in nx.lexicographical_topological_sort(exported, key=lambda n: ids[n]):
        task = graph.nodes[luigi_id]["task"]
        nodes.append(
            _node(task, luigi_id, graph=graph, exported=exported, excluded=luigi_id in sensors, ids=ids, walked=walked,
                  notes=notes_by_family.get(task.get_task_family(), []),
                  group=group_for(task, options.group_by, family_sizes), timing=timing)
        )  # fmt: skip
    return nodes


def build_spec(root: luigi.Task, graph: nx.DiGraph, options: ExportOptions) -> tuple[PipelineSpec, list[Finding]]:
    """Turn the walked graph into a spec. Raises UserError when a task can't be rebuilt remotely."""
    if options.group_by not in (None, *GROUP_BY):
        raise UserError(f"--group-by {options.group_by!r}: expected one of {', '.join(GROUP_BY)}")
    dag_id = options.dag_id or default_dag_id(type(root).__module__, root.get_task_family())
    if not DAG_ID.match(dag_id):
        raise UserError(f"--dag-id {dag_id!r}: use letters, digits, '_', '.', '-' (at most 250 characters)")
    binding = root_binding(root, options.bindings or {})
    rules = learn_date_rules(root, binding, graph) if binding else DateRules()
    if options.select or options.exclude:
        chosen, sensors = select_nodes(graph, options.select, options.exclude)
    else:
        chosen, sensors = set(graph.nodes), set()
    exported = graph.subgraph(chosen | sensors)
    walked = _check_tasks(root, exported, binding, rules, options)
    walked.findings += _rule_findings(root, graph, rules)
    nodes = _nodes(root, graph, exported, sensors, walked, options)
    by_luigi_id = {n.task_id: n.id for n in nodes}
    root_templates = walked.templates.get(root.task_id) or _root_templates(root, binding, rules)
    start_date = options.start_date
    if start_date is None and binding is not None:
        start_date = binding.anchor.date().isoformat()
    spec = PipelineSpec(
        dag_id=dag_id,
        root=by_luigi_id.get(root.task_id, nodes[-1].id),
        tasks=nodes,
        schedule=Schedule(options.schedule, options.timezone) if options.schedule else None,
        start_date=start_date,
        catchup=options.catchup,
        runner=LocalRunner(cwd=options.cwd),
        defaults=options.defaults,
        bindings=options.bindings or {},
        tags=["luigi-fargate", *options.tags],
        description=f"Luigi {root.get_task_family()} from {type(root).__module__}, exported by luigi-fargate",
        env=options.env,
        # What the runner needs to check that a run's Luigi graph still has the exported shape.
        graph=GraphShape(type(root).__module__, root.get_task_family(), task_params(root, root_templates), len(graph)),
    )
    return spec, walked.findings


def _root_templates(root: luigi.Task, binding: RootBinding | None, rules: DateRules) -> dict[str, str]:
    """The root's templates when the root itself was left out of a partial export."""
    moving = rules.moving.get(root.task_id, {})
    if binding is None:
        return {}
    return {name: rd.template(binding.source, binding.step_unit) for name, rd in moving.items()}
