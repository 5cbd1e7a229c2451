"""Which ready task Airflow starts first: sensors, then Luigi's priority, then nearness to the inputs.

Airflow's default weight rule sums the weights downstream, so a completeness
sensor with one dependent ranks below a task feeding many, and a missing
external input surfaced last. Every task here gets an absolute weight instead
(computed from the spec's graph at parse, O(tasks + edges)), in three tiers:

1. completeness sensors (ExternalTasks, disabled or excluded upstream tasks)
   above every task: a poke is cheap and a missing input fails the run first;
2. among the other tasks, the Luigi class's ``priority`` decides, as in Luigi
   (higher first, the same absolute meaning it had);
3. within one Luigi priority, the task nearer the inputs (fewer tasks
   between it and a source of the graph) goes first.

The weights only order tasks that are ready at the same time (pools,
``parallelism``); they never change what runs.
"""

from __future__ import annotations

from luigi_fargate.spec import NodeKind, PipelineSpec


def depths(spec: PipelineSpec) -> dict[str, int]:
    """Each task's longest path from a source of the graph (sources: 0), in any task order (Kahn's walk)."""
    waiting = {n.id: len(n.upstream) for n in spec.tasks}
    downstream: dict[str, list[str]] = {n.id: [] for n in spec.tasks}
    for n in spec.tasks:
        for u in n.upstream:
            downstream[u].append(n.id)
    depth = dict.fromkeys((i for i, w in waiting.items() if not w), 0)
    ready = list(depth)
    while ready:
        task_id = ready.pop()
        for d in downstream[task_id]:
            depth[d] = max(depth.get(d, 0), depth[task_id] + 1)
            waiting[d] -= 1
            if not waiting[d]:
                ready.append(d)
    return depth


def priority_weights(spec: PipelineSpec) -> dict[str, int]:
    """Absolute priority_weight per Airflow task id (see the module docstring)."""
    depth = depths(spec)
    span = max(depth.values(), default=0) + 1  # nearness in [1, span]: never reaches the next Luigi priority
    out: dict[str, int] = {}
    for node in spec.tasks:
        if node.kind != NodeKind.EXTERNAL:
            out[node.id] = (node.settings.priority_weight or 0) * (span + 1) + span - depth[node.id]
    top = max(out.values(), default=0) + 1
    for node in spec.tasks:
        if node.kind == NodeKind.EXTERNAL:
            out[node.id] = top + span - depth[node.id]
    return out
