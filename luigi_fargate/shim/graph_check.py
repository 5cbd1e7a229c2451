"""Does this run's Luigi graph still have the shape the DAG was exported with? (exit 8)

The DAG fixes the tasks and edges of one export date; the run-date templates
move them to each run's date. Luigi code may build a different graph on
other dates (the first of the month pulls in a rollup) or after a code
change. Running a task anyway would run something the DAG doesn't know, or
skip something Luigi would run. So before anything else the runner rebuilds
the run's root (cheap: deps() only, no I/O) and checks that the task is in
that graph with as many dependencies as the DAG gave it, and that the graph
has as many tasks as the export had.

The check arrives as JSON in ``$LUIGI_FARGATE_GRAPH_CHECK`` (set by the
operators from the spec) or ``--graph-check`` before MODULE:
``{"root": [module, family, args...], "graph_size": N, "deps": K}``. It is
input like the rest of the command: its root must be the root of an
allowlisted spec that holds this task (checked before anything is imported),
and its args are read with the same strict grammar as the task's own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.introspect.loader import check_dotted_name
from luigi_fargate.spec import environment

if TYPE_CHECKING:
    import luigi
    import networkx as nx

ENV_VAR = environment.GRAPH_CHECK

FIX = (
    "re-export the DAG (luigi-fargate export) if the pipeline's code changed; if the shape depends on the "
    "date, make the varying part one task that yields its dependencies in run() (it then runs as one "
    "dynamic task, in one container)"
)

EXPECTED = '{"root": [module, family, args...], "graph_size": N, "deps": K}'


@dataclass(frozen=True)
class ShapeCheck:
    """What the exported DAG says about this task's place in its run's graph."""

    root_module: str
    root_family: str
    root_args: tuple[str, ...]
    graph_size: int
    deps: int


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


def _parse(text: str) -> ShapeCheck:
    check = json.loads(text)
    if not isinstance(check, dict):
        raise TypeError("not a JSON object")
    root = check["root"]
    if not (isinstance(root, list) and len(root) >= 2 and all(isinstance(a, str) for a in root)):
        raise TypeError("root must be [module, family, args...], all strings")
    return ShapeCheck(
        root_module=root[0],
        root_family=root[1],
        root_args=tuple(root[2:]),
        graph_size=_count(check["graph_size"], "graph_size", 1),
        deps=_count(check["deps"], "deps", 0),
    )


def check_graph_shape(task: luigi.Task, check: ShapeCheck, root: luigi.Task) -> nx.DiGraph:
    """The graph of ``root``; raises UserError (exit 8) when ``task`` doesn't sit in it as exported."""
    from luigi_fargate.introspect.graph import walk
    from luigi_fargate.shim.user_code import user_code

    try:
        with user_code(f"requires() in the graph of {root.task_id}"):
            graph = walk(root)
    except UserError as exc:
        # walk() names a requires() that raised: that's the task's code failing (retryable), not a bad command.
        raise UserError(exc.message, ExitCode.TASK_FAILED if exc.__cause__ is not None else exc.exit_code) from exc
    where = f"the graph Luigi builds for {root.task_id} ({len(graph)} tasks)"
    if task.task_id not in graph:
        problem = f"{task.task_id} is not in {where}"
    elif len(graph) != check.graph_size:
        problem = f"{where} differs from the exported DAG's ({check.graph_size} tasks)"
    elif graph.in_degree(task.task_id) != check.deps:
        problem = (
            f"{task.task_id} has {graph.in_degree(task.task_id)} dependencies in {where}, "
            f"the exported DAG gave it {check.deps}"
        )
    else:
        return graph
    raise UserError(f"graph mismatch: {problem}; {FIX}", ExitCode.GRAPH_MISMATCH)
