"""What "complete" means for the runner, Luigi's rules included for tasks without outputs.

Luigi's default ``complete()`` on a task with no ``output()`` (its own
hello-world example) is always False: such a task is never complete, Luigi
runs it whenever an invocation reaches it, and counts it done once run()
returned *in that invocation* (the scheduler marks it DONE; its dependents
go ahead). For the runner, one Airflow DAG run is that invocation:

- the task itself runs when Luigi's walk from the run's root would reach it,
  i.e. through tasks that are not complete (with the graph check's root;
  without one, the task is its own root and runs), and is done when run()
  returns;
- a dependent counts it done: Airflow starts the dependent only after the
  task's own Airflow task succeeded in this DAG run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from luigi_fargate.shim.user_code import user_code

if TYPE_CHECKING:
    import luigi
    import networkx as nx


def has_no_outputs(task: luigi.Task) -> bool:
    """Luigi's default complete() on a task without outputs: never complete, done once it ran."""
    import luigi
    from luigi.task import flatten

    if type(task).complete is not luigi.Task.complete:
        return False
    with user_code(f"{task.task_id}: output()"):
        return not flatten(task.output())


def missing_outputs(task: luigi.Task) -> list[str]:
    """The outputs of ``task`` that don't exist, as text (the task's own code: guarded)."""
    from luigi.task import flatten

    with user_code(f"{task.task_id}: output()"):
        return [str(t) for t in flatten(task.output()) if not t.exists()]


def incomplete_dependencies(task: luigi.Task) -> tuple[list[tuple[luigi.Task, list[str]]], list[luigi.Task]]:
    """(incomplete direct dependencies with their missing outputs, dependencies without outputs)."""
    with user_code(f"{task.task_id}: requires()"):
        deps = list(task.deps())
    missing, assumed = [], []
    for dep in deps:
        with user_code(f"{dep.task_id}: complete()"):
            complete = dep.complete()
        if complete:
            continue
        if has_no_outputs(dep):
            assumed.append(dep)
        else:
            missing.append((dep, missing_outputs(dep)))
    return missing, assumed


def reached_by_luigi(graph: nx.DiGraph, root_id: str, target_id: str) -> bool:
    """Would Luigi's walk from ``root_id`` reach ``target_id``? It expands only incomplete tasks.

    Only tasks that need the target (its descendants: edges run from a
    dependency to the task that needs it) can lead there, so only their
    ``complete()`` is asked, as Luigi's worker would ask it.
    """
    import networkx as nx

    on_the_way = nx.descendants(graph, target_id) | {target_id}
    stack, seen = [root_id], set()
    while stack:
        node = stack.pop()
        if node == target_id:
            return True
        if node in seen or node not in on_the_way:
            continue
        seen.add(node)
        task = graph.nodes[node]["task"]
        with user_code(f"{task.task_id}: complete()"):
            complete = task.complete()
        if not complete and getattr(task, "run", None) is not None:  # Luigi doesn't expand external tasks
            stack.extend(graph.predecessors(node))
    return False
