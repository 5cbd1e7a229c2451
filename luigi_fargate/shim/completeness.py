"""What "complete" means for the runner, Luigi's rules included for tasks without outputs.

Luigi's default ``complete()`` on a task with no ``output()`` (its own
hello-world example) is always False: such a task is never complete. Luigi
runs it whenever an invocation reaches it, and its worker marks it DONE once
run() returned *in that invocation*. What happens to the tasks that need it
depends on ``[worker] check_unfulfilled_deps``: on (Luigi's default), the
worker re-checks their dependencies just before run() and fails them ("Unfulfilled
dependency at run time"); off, they run. For the runner, one Airflow DAG run
is that invocation:

- the task itself runs when Luigi's walk from the run's root would reach it,
  i.e. through tasks that are not complete (with the graph check's root;
  without one, the task is its own root and runs), and is done when run()
  returns;
- a task that needs it counts it done when ``check_unfulfilled_deps`` is off:
  Airflow starts that task only after the no-output task succeeded in this
  DAG run. When it is on, the runner refuses like Luigi (exit 4, naming the
  setting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Dependencies:
    """A task's direct dependencies that are not complete, sorted by why."""

    #: Dependencies with outputs that are missing, and those outputs.
    missing: list[tuple[luigi.Task, list[str]]] = field(default_factory=list)
    #: Dependencies without outputs (never complete in Luigi's sense).
    no_outputs: list[luigi.Task] = field(default_factory=list)
    #: Whether those count as done: Luigi's ``[worker] check_unfulfilled_deps`` is off.
    no_outputs_done: bool = False

    @property
    def ready(self) -> bool:
        return not self.missing and (self.no_outputs_done or not self.no_outputs)


def luigi_checks_dependencies_at_run_time() -> bool:
    """Luigi's ``[worker] check_unfulfilled_deps`` (default true), read by Luigi's own config class.

    With it on, Luigi's worker re-checks a task's dependencies just before
    run() and fails the task when one is not complete; a dependency without
    outputs never is, so Luigi never runs the tasks that need one. With it off,
    they run once the dependency ran in the same invocation.
    """
    from luigi.worker import worker

    return bool(worker().check_unfulfilled_deps)


def incomplete_dependencies(task: luigi.Task) -> Dependencies:
    """The direct dependencies of ``task`` that are not complete (each asked once, like Luigi's worker)."""
    with user_code(f"{task.task_id}: requires()"):
        deps = list(task.deps())
    out = Dependencies()
    for dep in deps:
        with user_code(f"{dep.task_id}: complete()"):
            complete = dep.complete()
        if complete:
            continue
        if has_no_outputs(dep):
            out.no_outputs.append(dep)
        else:
            out.missing.append((dep, missing_outputs(dep)))
    if out.no_outputs:
        out.no_outputs_done = not luigi_checks_dependencies_at_run_time()
    return out


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


def is_wrapper_with_run(task: luigi.Task) -> bool:
    """A WrapperTask that does work of its own: complete once its dependencies are, yet Luigi runs its run()."""
    import luigi

    return isinstance(task, luigi.WrapperTask) and type(task).run is not luigi.Task.run
