"""Does this run's Luigi graph still have the shape the DAG was exported with? (exit 8)

The DAG fixes the tasks and edges of one export date; the run-date templates
move them to each run's date. Luigi code may build a different graph on
other dates (the first of the month pulls in a rollup) or after a code
change. Running a task anyway would run something the DAG doesn't know, or
skip something Luigi would run. So before anything else the runner rebuilds
the run's root (cheap: deps() only, no I/O) and checks that the task is in
that graph with as many dependencies as the DAG gave it, and that the graph
has as many tasks as the export had.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode

if TYPE_CHECKING:
    import luigi

ENV_VAR = "LUIGI_FARGATE_GRAPH_CHECK"

FIX = (
    "re-export the DAG (luigi-fargate export) if the pipeline's code changed; if the shape depends on the "
    "date, make the varying part one task that yields its dependencies in run() (it then runs as one "
    "dynamic task, in one container)"
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
        return {"root": root, "graph_size": int(check["graph_size"]), "deps": int(check["deps"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"--graph-check / ${ENV_VAR}: expected JSON {{\"root\": [module, family, args...], \"graph_size\": N, "
            f"\"deps\": K}} ({exc}); re-export the DAG",
        ) from None


def check_graph_shape(task: luigi.Task, check: dict[str, Any]) -> None:
    """Raise UserError (exit 8) when ``task`` doesn't sit in its run's graph as exported."""
    from luigi_fargate.introspect.graph import walk
    from luigi_fargate.introspect.loader import build_task

    module, family, *args = check["root"]
    root = build_task(module, family, args)
    graph = walk(root)
    where = f"the graph Luigi builds for {root.task_id} ({len(graph)} tasks)"
    if task.task_id not in graph:
        problem = f"{task.task_id} is not in {where}"
    elif len(graph) != check["graph_size"]:
        problem = f"{where} differs from the exported DAG's ({check['graph_size']} tasks)"
    elif graph.in_degree(task.task_id) != check["deps"]:
        problem = (
            f"{task.task_id} has {graph.in_degree(task.task_id)} dependencies in {where}, "
            f"the exported DAG gave it {check['deps']}"
        )
    else:
        return
    raise UserError(f"graph mismatch: {problem}; {FIX}", ExitCode.GRAPH_MISMATCH)
