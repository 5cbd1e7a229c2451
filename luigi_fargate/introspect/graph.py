"""Walk a Luigi task's dependencies into a graph.

Only ``deps()`` is called: never ``complete()``, ``output().exists()`` or
``run()``, so exporting (and verifying, and the runner's graph check) touches
no data and costs no I/O.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    import luigi
    import networkx as nx


@dataclass
class LuigiGraph:
    """A walked Luigi graph as plain data: task ids, the task objects, and each task's direct dependencies."""

    root: str
    tasks: dict[str, luigi.Task] = field(default_factory=dict)
    deps: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tasks)

    def __contains__(self, luigi_id: object) -> bool:
        return luigi_id in self.tasks

    def edges(self) -> list[tuple[str, str]]:
        """(dependency, dependent) pairs."""
        return [(d, t) for t, ds in self.deps.items() for d in ds]


def walk_deps(root: luigi.Task) -> LuigiGraph:
    """The graph of ``root`` and everything it depends on (instances with equal task ids are one task)."""
    graph = LuigiGraph(root.task_id, {root.task_id: root})
    stack = [root]
    while stack:
        task = stack.pop()
        try:
            deps = task.deps()
        except Exception as exc:
            raise UserError(
                f"{task.task_id}: requires() raised {type(exc).__name__}: {exc}; fix that task's requires()"
            ) from exc
        ids = []
        for dep in deps:
            dep_id = dep.task_id
            if dep_id not in graph.tasks:
                graph.tasks[dep_id] = dep
                stack.append(dep)
            ids.append(dep_id)
        graph.deps[task.task_id] = tuple(dict.fromkeys(ids))
    try:
        graphlib.TopologicalSorter(graph.deps).prepare()
    except graphlib.CycleError as exc:
        raise UserError(f"dependency cycle: {' -> '.join(exc.args[1])}; break it in requires()") from None
    return graph


def to_networkx(graph: LuigiGraph) -> nx.DiGraph:
    """The graph as networkx (nodes: Luigi ids with the task in ``task``; edges from dependency to dependent)."""
    import networkx as nx

    out = nx.DiGraph()
    for luigi_id, task in graph.tasks.items():
        out.add_node(luigi_id, task=task)
    out.add_edges_from(graph.edges())
    return out


def walk(root: luigi.Task) -> nx.DiGraph:
    """The graph of ``root`` and everything it depends on, as networkx (see :func:`walk_deps`)."""
    return to_networkx(walk_deps(root))
