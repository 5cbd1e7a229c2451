"""The union of the sampled graphs as the graph export turns into Airflow tasks.

:mod:`luigi_fargate.introspect.anchors` learns rule nodes; here each becomes a
Luigi task instance *at the export date* (the parameters the spec shows, the
task the Fargate sizing looks at), in a networkx graph that ``--select`` and
``--exclude`` work on like on Luigi's own graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

from luigi_fargate.introspect.anchors import RuleNode, ShapeUnion
from luigi_fargate.introspect.rules import rule_value

if TYPE_CHECKING:
    import datetime as dt

    import luigi


def at_anchor(node: RuleNode, anchor: dt.datetime) -> luigi.Task:
    """The node's task with its rules evaluated at ``anchor`` (its own instance when that fails)."""
    if not node.rules or node.luigi_ids[0] == node.task.task_id:  # already the export date's instance
        return node.task
    moved = {name: rule_value(rule, anchor) for name, rule in node.rules.items()}
    try:
        return type(node.task).from_str_params({**node.task.to_str_params(), **moved})
    except Exception:  # noqa: BLE001 - a value the parameter rejects on that date: keep the instance seen
        return node.task


def union_graph(union: ShapeUnion) -> nx.DiGraph:
    """Nodes: rule-node names (the Luigi id at the export date), with ``task`` (at the export date) and ``rule_node``."""
    graph = nx.DiGraph()
    anchor = union.anchors[0]
    for name, node in union.nodes.items():
        graph.add_node(name, task=at_anchor(node, anchor), rule_node=node)
    graph.add_edges_from(union.edges)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(a for a, _ in nx.find_cycle(graph))
        from luigi_fargate.errors import UserError

        raise UserError(
            f"dependencies point both ways on different run dates ({cycle}, dates {', '.join(union.labels)}); "
            "export per shape, or make the varying part one task that yields its dependencies in run()"
        )
    return graph


def luigi_id_at_export(name: str) -> str:
    """The Luigi id a union node stands for at the export date (names of duplicates carry a ``'``)."""
    return name.rstrip("'")
