"""Walk a Luigi task's dependencies into a networkx graph.

Only ``deps()`` is called: never ``complete()``, ``output().exists()`` or
``run()``, so exporting touches no data and costs no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    import luigi


def walk(root: luigi.Task) -> nx.DiGraph:
    """The graph of ``root`` and everything it depends on.

    Nodes are Luigi task ids (instances that differ only in insignificant
    parameters are one node), with the task object in the ``task`` attribute.
    Edges point from a dependency to the task that needs it.
    """
    graph = nx.DiGraph()
    graph.add_node(root.task_id, task=root)
    stack = [root]
    while stack:
        task = stack.pop()
        try:
            deps = task.deps()
        except Exception as exc:
            raise UserError(
                f"{task.task_id}: requires() raised {type(exc).__name__}: {exc}; fix that task's requires()"
            ) from exc
        for dep in deps:
            if dep.task_id not in graph:
                graph.add_node(dep.task_id, task=dep)
                stack.append(dep)
            graph.add_edge(dep.task_id, task.task_id)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(a for a, _ in nx.find_cycle(graph))
        raise UserError(f"dependency cycle: {cycle}; break it in requires()")
    return graph
