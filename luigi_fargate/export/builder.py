"""A Luigi graph -> a :class:`~luigi_fargate.spec.PipelineSpec`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx

from luigi_fargate.errors import UserError
from luigi_fargate.export import task_ids
from luigi_fargate.export.bindings import DateBinder
from luigi_fargate.export.settings import airflow_settings
from luigi_fargate.introspect.portability import Finding, class_findings, cli_args, instance_findings
from luigi_fargate.spec import PipelineSpec, TaskNode

if TYPE_CHECKING:
    import luigi

DAG_ID = re.compile(r"^[\w.-]{1,250}$")


@dataclass
class ExportOptions:
    dag_id: str | None = None
    schedule: str | None = None  # cron expression or preset
    timezone: str = "UTC"
    bindings: dict[str, str] | None = None  # None: the documented default (see export.api)
    runner: dict[str, Any] = field(default_factory=lambda: {"kind": "local"})
    start_date: str | None = None
    catchup: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def default_dag_id(module: str, family: str) -> str:
    """``examples.pipeline`` + ``Report`` -> ``pipeline_report``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", family.split(".")[-1]).lower()
    return f"{module.split('.')[-1]}_{snake}"


def _kind(task: luigi.Task) -> str:
    import luigi

    if isinstance(task, luigi.WrapperTask):
        return "wrapper"
    if isinstance(task, luigi.ExternalTask) or getattr(task, "run", None) is None:
        return "external"
    return "task"


def build_spec(root: luigi.Task, graph: nx.DiGraph, options: ExportOptions) -> tuple[PipelineSpec, list[Finding]]:
    """Turn the walked graph into a spec. Raises UserError when a task can't be rebuilt remotely."""
    binder = DateBinder(root, options.bindings or {})

    findings: list[Finding] = []
    seen_classes: set[type] = set()
    templates: dict[str, dict[str, str]] = {}
    identities: dict[str, tuple[str, dict[str, str]]] = {}
    for luigi_id, data in graph.nodes(data=True):
        task = data["task"]
        cls = type(task)
        if cls not in seen_classes:
            seen_classes.add(cls)
            findings += class_findings(cls)
        findings += instance_findings(task)
        tmpl, labels = binder.templates(task)
        templates[luigi_id] = tmpl
        significant = task.to_str_params(only_significant=True, only_public=True)
        identities[luigi_id] = (task.get_task_family(), {**significant, **labels})

    fatal = [f for f in findings if f.fatal]
    if fatal:
        more = f" (and {len(fatal) - 1} more; rerun with -v to list them)" if len(fatal) > 1 else ""
        raise UserError(f"can't run in a container: {fatal[0]}{more}")

    ids = task_ids.assign(identities)
    nodes: list[TaskNode] = []
    order = nx.lexicographical_topological_sort(graph, key=lambda n: ids[n])
    notes_by_family: dict[str, list[str]] = {}
    for f in findings:
        notes_by_family.setdefault(f.family, []).append(f.message)
    for luigi_id in order:
        task = graph.nodes[luigi_id]["task"]
        family = task.get_task_family()
        nodes.append(
            TaskNode(
                id=ids[luigi_id],
                task_id=luigi_id,
                module=type(task).__module__,
                family=family,
                params=task.to_str_params(),
                upstream=sorted(ids[u] for u in graph.predecessors(luigi_id)),
                args=cli_args(task, templates[luigi_id]),
                kind=_kind(task),
                param_templates=templates[luigi_id],
                settings=airflow_settings(task),
                notes=sorted(set(notes_by_family.get(family, []))),
            )
        )

    dag_id = options.dag_id or default_dag_id(type(root).__module__, root.get_task_family())
    if not DAG_ID.match(dag_id):
        raise UserError(f"--dag-id {dag_id!r}: use letters, digits, '_', '.', '-' (at most 250 characters)")
    schedule = {"cron": options.schedule, "timezone": options.timezone} if options.schedule else None
    start_date = options.start_date
    if start_date is None and binder.anchor is not None:
        start_date = binder.anchor.isoformat()
    spec = PipelineSpec(
        dag_id=dag_id,
        root=ids[root.task_id],
        tasks=nodes,
        schedule=schedule,
        start_date=start_date,
        catchup=options.catchup,
        runner=options.runner,
        defaults=options.defaults,
        bindings=options.bindings or {},
        tags=["luigi-fargate", *options.tags],
        description=f"Luigi {root.get_task_family()} from {type(root).__module__}, exported by luigi-fargate",
        env=options.env,
    )
    return spec, findings
