"""Export as a library call: what ``luigi-fargate export`` (and crontab migrate) use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from luigi_fargate import config
from luigi_fargate.export.builder import ExportOptions, build_spec
from luigi_fargate.export.docs import TEAM_TAG
from luigi_fargate.export.task_defaults import apply_task_defaults
from luigi_fargate.export.writer import write_spec_files
from luigi_fargate.introspect.bindings import default_bindings
from luigi_fargate.introspect.loader import build_task
from luigi_fargate.introspect.param_cache import fast_walks
from luigi_fargate.introspect.portability import Finding
from luigi_fargate.introspect.ranges import unwrap_range
from luigi_fargate.spec import PipelineSpec, RunnerKind

if TYPE_CHECKING:
    import networkx as nx


@dataclass
class ExportPlan:
    spec: PipelineSpec
    findings: list[Finding]
    #: The exported tasks (Luigi ids at the export date, with ``task``), the union of the run dates' graphs.
    graph: nx.DiGraph


@dataclass
class ExportResult(ExportPlan):
    json_path: Path
    py_path: Path


def plan_export(module: str, family: str, luigi_args: list[str], options: ExportOptions) -> ExportPlan:
    """Build the spec without writing anything.

    ``options.bindings`` of ``None`` means the documented default (the root's
    only DateParameter follows ``ds``); ``{}`` means no binding.
    """
    with fast_walks():
        return _plan_export(module, family, luigi_args, options)


def _plan_export(module: str, family: str, luigi_args: list[str], options: ExportOptions) -> ExportPlan:
    root = build_task(module, family, luigi_args)
    root, range_schedule = unwrap_range(root)
    if range_schedule is not None:
        # A RangeDaily/RangeHourly root: export the task it ranges over, on a schedule.
        options.schedule = options.schedule or range_schedule.schedule
        options.start_date = options.start_date or range_schedule.start_date
        options.catchup = True
        if options.bindings is None:
            options.bindings = {range_schedule.param_name: "ds"}
    if options.bindings is None:
        options.bindings = default_bindings(root)
    configuration = config.load()  # every [luigi_fargate] key checked before anything is built
    if options.team is None:
        options.team = (configuration.get("tags") or {}).get(TEAM_TAG)
    spec, findings, graph = build_spec(root, options)
    apply_task_defaults(spec, configuration)
    if options.runner == RunnerKind.FARGATE:
        from luigi_fargate.fargate.settings import apply_fargate

        apply_fargate(spec, graph, findings)  # runner settings, sizes, capacity, owner, tags
    return ExportPlan(spec, findings, graph)


def export_pipeline(
    module: str, family: str, luigi_args: list[str], options: ExportOptions, out_dir: str | Path
) -> ExportResult:
    """Build the spec and write ``<dag_id>.json`` + ``<dag_id>.py`` into ``out_dir``."""
    plan = plan_export(module, family, luigi_args, options)
    json_path, py_path = write_spec_files(plan.spec, out_dir)
    return ExportResult(plan.spec, plan.findings, plan.graph, json_path, py_path)
