"""Is this task in this run's Luigi graph, and does that graph still have a shape the export saw? (exit 9 / 8)

The DAG holds the tasks of every run-date shape the export saw (the union of
the graphs of the dates it checked), each with run-date rules. Before
anything else the runner rebuilds this run's root and walks its graph
(cheap: ``deps()`` only, no I/O), then asks the one comparison that
``luigi-fargate verify`` also uses (luigi_fargate/introspect/run_plan.py)
what the DAG runs on this date:

- this task's Luigi task is in the graph: go on;
- it is not, and export saw dates without it (an optional task): exit 9, and
  Airflow marks it skipped;
- anything else (a task the export never saw, a dependency the DAG doesn't
  order, a required task missing): the graph changed, exit 8.

The check (``--graph-check`` / ``$LUIGI_FARGATE_GRAPH_CHECK``, JSON rendered by
Airflow) names the root's command line for the run, the DAG, this task's
Airflow id and the run's instant; the rules come from the DAG's spec in the
runner's allowlist. A check without ``dag``/``node`` (written by an older
luigi-fargate) compares graph size and dependency count as before.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode

if TYPE_CHECKING:
    import luigi

    from luigi_fargate.introspect.graph import LuigiGraph
    from luigi_fargate.spec import PipelineSpec

ENV_VAR = "LUIGI_FARGATE_GRAPH_CHECK"
AIRFLOW_ID = re.compile(r"^[\w.-]{1,250}$")

FIX = (
    "re-export the DAG (luigi-fargate export) if the pipeline's code changed; if the shape depends on the "
    "date in a way the export didn't see, check the dates with luigi-fargate verify, or make the varying part "
    "one task that yields its dependencies in run() (it then runs as one dynamic task, in one container)"
)


def load_check(cli_value: str | None) -> dict[str, Any] | None:
    """The check from ``--graph-check`` or ``$LUIGI_FARGATE_GRAPH_CHECK`` (JSON), or None."""
    text = cli_value or os.environ.get(ENV_VAR)
    if not text:
        return None
    try:
        check = json.loads(text)
        root = check["root"]
        if not (isinstance(root, list) and len(root) >= 2 and all(isinstance(a, str) for a in root)):
            raise TypeError("root must be [module, family, args...]")
        if "node" in check:
            out = {"root": root, "dag": _airflow_id(check["dag"]), "node": _airflow_id(check["node"]), "run": check.get("run")}
            if out["run"] is not None:
                out["run"] = _instant(str(out["run"]))
            return out
        return {"root": root, "graph_size": int(check["graph_size"]), "deps": int(check["deps"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"--graph-check / ${ENV_VAR}: expected JSON {{\"root\": [module, family, args...], \"dag\": ID, "
            f"\"node\": ID, \"run\": ISO-TIME}} ({exc}); re-export the DAG",
        ) from None


def _airflow_id(value: object) -> str:
    """A DAG or task id as Airflow allows them (it also names the spec file: no path can hide in it)."""
    if not (isinstance(value, str) and AIRFLOW_ID.match(value)):
        raise ValueError(f"{value!r} is not an Airflow id")
    return value


def _instant(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _spec_for(dag_id: str, allow: str | None) -> PipelineSpec:
    """The DAG's spec from the runner's allowlist (the image's specs, or the local operator's spec file)."""
    from luigi_fargate.spec import PipelineSpec, spec_files

    source = allow or os.environ.get("LUIGI_FARGATE_ALLOW")
    if not source:
        raise UserError(
            f"the graph check for DAG {dag_id!r} needs its spec: pass --allow SPEC_OR_DIR or set LUIGI_FARGATE_ALLOW",
            ExitCode.NOT_ALLOWED,
        )
    folder = Path(source)
    files = [folder / f"{dag_id}.json"] if (folder / f"{dag_id}.json").is_file() else spec_files(folder)
    for f in files:
        spec = PipelineSpec.load(f)
        if spec.dag_id == dag_id:
            return spec
    raise UserError(
        f"DAG {dag_id!r} has no spec in the allowlist {source}; rebuild the image with the exported specs",
        ExitCode.NOT_ALLOWED,
    )


def _mismatch(problem: str) -> UserError:
    return UserError(f"graph mismatch: {problem}; {FIX}", ExitCode.GRAPH_MISMATCH)


def _compare_with_spec(task: luigi.Task, root: luigi.Task, graph: LuigiGraph, check: dict[str, Any], allow: str | None) -> None:
    from luigi_fargate.introspect.rules import run_anchor
    from luigi_fargate.introspect.run_plan import TaskState, compare_run, plan_nodes

    spec = _spec_for(check["dag"], allow)
    try:
        node = spec.node(check["node"])
    except KeyError:
        raise _mismatch(f"DAG {spec.dag_id}'s spec has no task {check['node']!r} (the image's specs are older than the DAG?)") from None
    run_date = spec.graph.run_date if spec.graph is not None else None
    anchor = run_anchor(run_date, check["run"]) if run_date is not None and check["run"] is not None else None
    plan = plan_nodes(spec.tasks, anchor, known={node.id: task.task_id})
    mine = next(p for p in plan if p.airflow_id == node.id)
    if mine.luigi_id is not None and mine.luigi_id != task.task_id:
        raise _mismatch(f"this run's parameters make {task.task_id}, its run-date rule gives {mine.luigi_id}")
    where = f"the graph Luigi builds for {root.task_id} ({len(graph)} tasks)"
    result = compare_run(plan, graph)
    if result.differences:
        raise _mismatch(f"in {where}: {result.summary()}")
    if result.states[node.id] == TaskState.SKIPPED:
        raise UserError(f"{task.task_id} is not in {where}: not in this run's graph, skipped", ExitCode.NOT_IN_THIS_RUN)


def _compare_sizes(task: luigi.Task, root: luigi.Task, graph: LuigiGraph, check: dict[str, Any]) -> None:
    """The check of specs exported before run-date rules: graph size and this task's dependency count."""
    where = f"the graph Luigi builds for {root.task_id} ({len(graph)} tasks)"
    if task.task_id not in graph:
        raise _mismatch(f"{task.task_id} is not in {where}")
    if len(graph) != check["graph_size"]:
        raise _mismatch(f"{where} differs from the exported DAG's ({check['graph_size']} tasks)")
    deps = len(graph.deps[task.task_id])
    if deps != check["deps"]:
        raise _mismatch(f"{task.task_id} has {deps} dependencies in {where}, the exported DAG gave it {check['deps']}")


def check_graph_shape(task: luigi.Task, check: dict[str, Any], allow: str | None = None) -> None:
    """Raise UserError: exit 9 when ``task`` is not in this run's graph (as export saw on other dates), 8 when the graph changed."""
    from luigi_fargate.introspect.graph import walk_deps
    from luigi_fargate.introspect.loader import build_task

    module, family, *args = check["root"]
    root = build_task(module, family, args)
    graph = walk_deps(root)
    if "node" in check:
        _compare_with_spec(task, root, graph, check, allow)
    else:
        _compare_sizes(task, root, graph, check)
