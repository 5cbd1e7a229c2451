"""A Luigi graph -> a :class:`~luigi_fargate.spec.PipelineSpec`.

The steps of :func:`build_spec`, in order:

1. check the options and resolve the run-date binding (introspect/bindings.py);
2. learn how the graph moves with the run date: the union of the graphs of
   a few chosen run dates, as rule nodes (introspect/anchors.py);
3. choose the exported part (``--select``/``--exclude``) of that union;
4. check every task can run in a container, and write each one's parameters
   (run-date rules and their Jinja templates) and its Airflow id identity;
5. make the spec's nodes (export/nodes.py) and the warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError
from luigi_fargate.export import task_ids
from luigi_fargate.export.date_warnings import frozen_date_findings
from luigi_fargate.export.docs import dag_tags, family_docs
from luigi_fargate.export.nodes import Walked, make_nodes
from luigi_fargate.export.union import luigi_id_at_export, union_graph
from luigi_fargate.introspect.anchors import RuleNode, ShapeUnion, fixed_shape, learn_shapes
from luigi_fargate.introspect.bindings import RootBinding, is_bindable, root_binding
from luigi_fargate.introspect.graph import walk_deps
from luigi_fargate.introspect.portability import Finding, class_findings, instance_findings, task_params
from luigi_fargate.introspect.rules import param_template, rule_label
from luigi_fargate.introspect.selection import select_nodes
from luigi_fargate.spec import (
    DagDefaults,
    GraphShape,
    LocalRunner,
    PipelineSpec,
    RunnerKind,
    Schedule,
    TaskParam,
)

if TYPE_CHECKING:
    import luigi
    import networkx as nx

DAG_ID = re.compile(r"^[\w.-]{1,250}$")
GROUP_BY = ("namespace", "family")


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
    #: The owning team, a DAG tag ``team:…`` (default: ``[luigi_fargate] tags``' ``team``).
    team: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    group_by: str | None = None  # "namespace" | "family": Airflow TaskGroups
    select: list[str] = field(default_factory=list)  # family globs, dbt-style + for up/downstream
    exclude: list[str] = field(default_factory=list)
    #: root param -> raw Jinja template for its value (crontab migrate: ``--day`` from ``$(date +%Y%m%d)``).
    #: Not evaluated by verify or the runner's check: prefer a binding (``ds:%Y%m%d``).
    root_templates: dict[str, str] = field(default_factory=dict)


def default_dag_id(module: str, family: str) -> str:
    """``examples.pipeline`` + ``Report`` -> ``pipeline_report``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", family.split(".")[-1]).lower()
    return f"{module.split('.')[-1]}_{snake}"


def _dag_id(root: luigi.Task, options: ExportOptions) -> str:
    if options.group_by not in (None, *GROUP_BY):
        raise UserError(f"--group-by {options.group_by!r}: expected one of {', '.join(GROUP_BY)}")
    dag_id = options.dag_id or default_dag_id(type(root).__module__, root.get_task_family())
    if not DAG_ID.match(dag_id):
        raise UserError(f"--dag-id {dag_id!r}: use letters, digits, '_', '.', '-' (at most 250 characters)")
    return dag_id


def _resource_findings(task: luigi.Task) -> list[Finding]:
    from luigi_fargate.export.settings import primary_resource

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


def _shape_findings(root: luigi.Task, union: ShapeUnion) -> list[Finding]:
    family = root.get_task_family()
    out = [Finding(family, f"{line}; runs on that date stop with exit 8", False) for line in union.unbuildable]
    optional = [n for n in union.nodes.values() if n.optional]
    if optional:
        out.append(
            Finding(
                family,
                f"the graph's shape changes with the run date ({len(optional)} task(s) are not in Luigi's graph on "
                f"every date export checked: {', '.join(union.labels)}); the DAG has all of them and skips those "
                "a run's graph lacks (exit 9); check a whole year before cutover: luigi-fargate verify SPEC "
                "--from DATE --to DATE",
                False,
            )
        )
    return out


def _params(task: luigi.Task, rule_node: RuleNode, binding: RootBinding | None, raw: dict[str, str], dag_zone: str) -> list[TaskParam]:
    """The task's parameters, with the run-date rules and templates (``raw``: hand-written templates)."""
    out = []
    for p in task_params(task, raw):
        rule = rule_node.rules.get(p.name) if binding is not None else None
        if rule is not None:
            p = TaskParam(p.name, p.value, param_template(rule, binding.run, dag_zone), p.flag, rule)  # type: ignore[union-attr]
        out.append(p)
    return out


def _check_tasks(root: luigi.Task, exported: nx.DiGraph, binding: RootBinding | None, options: ExportOptions) -> Walked:
    """Portability checks per class and instance; parameters and id identities per task."""
    walked = Walked()
    seen_classes: set[type] = set()
    for name, data in exported.nodes(data=True):
        task, rule_node = data["task"], data["rule_node"]
        if type(task) not in seen_classes:
            seen_classes.add(type(task))
            walked.findings += class_findings(type(task)) + _resource_findings(task)
        walked.findings += instance_findings(task)
        is_root = luigi_id_at_export(name) == root.task_id
        raw = options.root_templates if is_root else {}
        walked.params[name] = _params(task, rule_node, binding, raw, options.timezone)
        labels = {n: rule_label(r, binding.label) for n, r in rule_node.rules.items()} if binding else {}
        labels.update(dict.fromkeys(raw, "run"))
        significant = task.to_str_params(only_significant=True, only_public=True)
        walked.identities[name] = (task.get_task_family(), {**significant, **labels})
    fatal = [f for f in walked.findings if f.fatal]
    if fatal:
        more = f" (and {len(fatal) - 1} more; rerun with -v to list them)" if len(fatal) > 1 else ""
        raise UserError(f"can't run in a container: {fatal[0]}{more}")
    return walked


def _graph_shape(root: luigi.Task, binding: RootBinding | None, options: ExportOptions) -> GraphShape:
    """The root's command line (also when a partial export leaves it out) and the run date."""
    templates = dict(options.root_templates)
    rules = {}
    if binding is not None:
        rules[binding.name] = binding.rule
        templates[binding.name] = param_template(binding.rule, binding.run, options.timezone)
    params = [
        TaskParam(p.name, p.value, templates.get(p.name), p.flag, rules.get(p.name)) for p in task_params(root, templates)
    ]
    return GraphShape(type(root).__module__, root.get_task_family(), params, binding.run if binding else None)


def start_date(options: ExportOptions, binding: RootBinding | None) -> str | None:
    """``--start-date``; else, for a scheduled DAG, the export's run date; else none.

    Airflow gives a run dated before a task's start_date no task instances, so
    an unscheduled DAG (runs triggered for whatever date) starts nowhere: any
    date may be triggered. A schedule starts at the exported run date; the
    DAG fails a run dated earlier with a message (airflow_bridge/run_date_guard.py),
    and ``airflow backfill create`` runs that range on purpose.
    """
    if options.start_date:
        return options.start_date
    if options.schedule and binding is not None:
        return binding.anchor.date().isoformat()
    return None


def learn(root: luigi.Task, options: ExportOptions) -> tuple[RootBinding | None, ShapeUnion]:
    """Steps 1-2: the binding (checked before any walk), and the union of the run dates' graphs."""
    binding = root_binding(root, options.bindings or {}, options.timezone)
    graph = walk_deps(root)
    return binding, (learn_shapes(root, binding, graph) if binding else fixed_shape(graph))


def build_spec(root: luigi.Task, options: ExportOptions) -> tuple[PipelineSpec, list[Finding], nx.DiGraph]:
    """Walk ``root``'s graph into a spec (and the exported graph). Raises UserError when a task can't run remotely."""
    dag_id = _dag_id(root, options)
    binding, union = learn(root, options)
    full = union_graph(union)
    if options.select or options.exclude:
        chosen, sensors = select_nodes(full, options.select, options.exclude)
    else:
        chosen, sensors = set(full.nodes), set()
    exported = full.subgraph(chosen | sensors)
    walked = _check_tasks(root, exported, binding, options)
    nodes = make_nodes(exported, sensors, walked, task_ids.assign(walked.identities), union.labels, options.group_by)
    by_luigi_id = {n.task_id: n.id for n in nodes}
    root_id = by_luigi_id.get(root.task_id, nodes[-1].id)
    root_dates = {name for name, p in root.get_params() if is_bindable(p)}
    findings = walked.findings + _shape_findings(root, union) + frozen_date_findings(nodes, root_id, binding, root_dates)
    spec = PipelineSpec(
        dag_id=dag_id,
        root=root_id,
        tasks=nodes,
        schedule=Schedule(options.schedule, options.timezone) if options.schedule else None,
        start_date=start_date(options, binding),
        catchup=options.catchup,
        runner=LocalRunner(cwd=options.cwd),
        defaults=options.defaults,
        bindings=options.bindings or {},
        tags=dag_tags(type(root).__module__, root.get_task_family(), options.team, options.tags),
        description=f"Luigi {root.get_task_family()} from {type(root).__module__}, exported by luigi-fargate",
        env=options.env,
        graph=_graph_shape(root, binding, options),
        docs=family_docs(exported),
    )
    return spec, findings, exported
