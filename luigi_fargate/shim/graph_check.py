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

The check arrives as JSON in ``$LUIGI_FARGATE_GRAPH_CHECK`` (set by the
operators from the spec, rendered by Airflow) or ``--graph-check`` before
MODULE: ``{"root": [module, family, args...], "dag": ID, "node": ID, "run":
ISO-TIME}``. It is input like the rest of the command: its root must be the
root of an allowlisted spec that holds this task (checked before anything is
imported), its args are read with the same strict grammar as the task's own,
and the rules come from the DAG's spec in the allowlist, never from the
check. A check without ``dag``/``node`` (written by luigi-fargate 0.1:
``"graph_size"``, ``"deps"``) compares graph size and dependency count.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.introspect.loader import check_dotted_name
from luigi_fargate.spec import environment

if TYPE_CHECKING:
    import luigi

    from luigi_fargate.introspect.graph import LuigiGraph
    from luigi_fargate.shim.allowlist import Allowlist

ENV_VAR = environment.GRAPH_CHECK
#: DAG and task ids as Airflow allows them (a DAG id also names its spec file: no path can hide in it).
AIRFLOW_ID = re.compile(r"^[\w.-]{1,250}$")

FIX = (
    "re-export the DAG (luigi-fargate export) if the pipeline's code changed; if the shape depends on the "
    "date in a way the export didn't see, check the dates with luigi-fargate verify, or make the varying part "
    "one task that yields its dependencies in run() (it then runs as one dynamic task, in one container)"
)

EXPECTED = '{"root": [module, family, args...], "dag": ID, "node": ID, "run": ISO-TIME}'


@dataclass(frozen=True)
class ShapeCheck:
    """What the exported DAG says about this task's place in its run's graph."""

    root_module: str
    root_family: str
    root_args: tuple[str, ...]
    dag: str | None = None
    node: str | None = None
    run: dt.datetime | None = None
    #: Version-1 checks only.
    graph_size: int | None = None
    deps: int | None = None


def load_check(cli_value: str | None, environ: Mapping[str, str] | None = None) -> ShapeCheck | None:
    """The check from ``--graph-check`` or ``$LUIGI_FARGATE_GRAPH_CHECK``, or None. Imports nothing."""
    env = os.environ if environ is None else environ
    text = cli_value or env.get(ENV_VAR)
    if not text:
        return None
    try:
        check = _parse(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"--graph-check / ${ENV_VAR}: expected JSON {EXPECTED} ({exc}); re-export the DAG") from None
    check_dotted_name(check.root_module, "graph check root module")
    check_dotted_name(check.root_family, "graph check root family")
    return check


def _count(value: Any, name: str, minimum: int) -> int:
    # bool is an int in Python: {"deps": true} is not a count.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TypeError(f"{name} must be a whole number >= {minimum}")
    return value


def _airflow_id(value: Any, name: str) -> str:
    if not (isinstance(value, str) and AIRFLOW_ID.match(value)):
        raise ValueError(f"{name} {value!r} is not an Airflow id")
    return value


def _instant(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("run must be an ISO date and time")
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _parse(text: str) -> ShapeCheck:
    check = json.loads(text)
    if not isinstance(check, dict):
        raise TypeError("not a JSON object")
    root = check["root"]
    if not (isinstance(root, list) and len(root) >= 2 and all(isinstance(a, str) for a in root)):
        raise TypeError("root must be [module, family, args...], all strings")
    head = {"root_module": root[0], "root_family": root[1], "root_args": tuple(root[2:])}
    if "node" in check:
        return ShapeCheck(**head, dag=_airflow_id(check["dag"], "dag"), node=_airflow_id(check["node"], "node"), run=_instant(check.get("run")))
    return ShapeCheck(**head, graph_size=_count(check["graph_size"], "graph_size", 1), deps=_count(check["deps"], "deps", 0))


def _mismatch(problem: str) -> UserError:
    return UserError(f"graph mismatch: {problem}; {FIX}", ExitCode.GRAPH_MISMATCH)


def _compare_with_spec(task: luigi.Task, root: luigi.Task, graph: LuigiGraph, check: ShapeCheck, allowlist: Allowlist) -> None:
    from luigi_fargate.introspect.rules import run_anchor
    from luigi_fargate.introspect.run_plan import TaskState, compare_run, plan_nodes

    assert check.dag is not None and check.node is not None
    spec = allowlist.spec_of(check.dag)
    try:
        node = spec.node(check.node)
    except KeyError:
        raise _mismatch(f"DAG {spec.dag_id}'s spec has no task {check.node!r} (the image's specs are older than the DAG?)") from None
    run_date = spec.graph.run_date if spec.graph is not None else None
    anchor = run_anchor(run_date, check.run) if run_date is not None and check.run is not None else None
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


def _compare_sizes(task: luigi.Task, root: luigi.Task, graph: LuigiGraph, check: ShapeCheck) -> None:
    """The check of version-1 specs: graph size and this task's dependency count."""
    where = f"the graph Luigi builds for {root.task_id} ({len(graph)} tasks)"
    if task.task_id not in graph:
        raise _mismatch(f"{task.task_id} is not in {where}")
    if len(graph) != check.graph_size:
        raise _mismatch(f"{where} differs from the exported DAG's ({check.graph_size} tasks)")
    deps = len(graph.deps[task.task_id])
    if deps != check.deps:
        raise _mismatch(f"{task.task_id} has {deps} dependencies in {where}, the exported DAG gave it {check.deps}")


def check_graph_shape(task: luigi.Task, check: ShapeCheck, root: luigi.Task, allowlist: Allowlist) -> LuigiGraph:
    """The graph of ``root``; raises UserError: exit 9 when ``task`` is not in this run's graph, 8 when it changed."""
    from luigi_fargate.introspect.graph import walk_deps
    from luigi_fargate.shim.user_code import user_code

    try:
        with user_code(f"requires() in the graph of {root.task_id}"):
            graph = walk_deps(root)
    except UserError as exc:
        # walk_deps() names a requires() that raised: that's the task's code failing (retryable), not a bad command.
        raise UserError(exc.message, ExitCode.TASK_FAILED if exc.__cause__ is not None else exc.exit_code) from exc
    if check.node is not None:
        _compare_with_spec(task, root, graph, check, allowlist)
    else:
        _compare_sizes(task, root, graph, check)
    return graph
