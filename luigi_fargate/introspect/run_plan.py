"""What the DAG runs on a date, and whether that is what Luigi's graph for the date runs.

One comparison for ``luigi-fargate verify`` (every date of a range, before
cutover) and for the runner (each task start, exit 8 or 9):

1. :func:`plan_run` evaluates every task's run-date rules for the run (in
   Python, the same rules the Jinja templates were generated from) into the
   Luigi task each Airflow task will run;
2. :func:`compare_run` plays Airflow's part with Luigi's graph for that run:
   a task whose Luigi task is in the graph runs, an optional one that is not
   is skipped (exit 9), a skipped task skips its downstream tasks unless their
   trigger rule tolerates it; then every task that runs must have each of its
   Luigi dependencies run by one of its upstream Airflow tasks. Anything else
   is a difference: the graph changed in a way the export never saw.

Both functions are pure: Luigi's graph is walked by the caller.
"""

from __future__ import annotations

import datetime as dt
import graphlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from luigi_fargate.introspect.rules import rule_value, run_anchor
from luigi_fargate.spec.kinds import NodeKind, TriggerRule

if TYPE_CHECKING:
    from luigi_fargate.introspect.graph import LuigiGraph
    from luigi_fargate.spec import PipelineSpec, TaskNode

#: Differences shown per date (the rest are counted).
SHOWN = 3


@dataclass(frozen=True)
class PlannedTask:
    """One Airflow task on one run: the Luigi task it runs, and what Airflow needs to start it."""

    airflow_id: str
    #: The Luigi task id it runs on this date; None when it can't be computed in Python
    #: (a hand-written template) or its rule gives no valid date.
    luigi_id: str | None
    upstream: tuple[str, ...]
    optional: bool = False
    #: It runs Luigi work (a task or a wrapper): its Luigi dependencies must be done before it.
    runs_work: bool = True
    #: Its trigger rule starts it after skipped upstream tasks (none_failed).
    tolerates_skips: bool = False
    #: True when luigi_id is None because of a hand-written template: not checked.
    unchecked: bool = False


class TaskState(Enum):
    RUNS = "runs"
    SKIPPED = "skipped"  # exit 9, or skipped after a skipped upstream task
    FAILS = "fails"  # exit 8: a required task missing from Luigi's graph
    NOT_STARTED = "not started"  # after a failing upstream task


@dataclass
class RunComparison:
    """The outcome of one run as Airflow would play it, and where it differs from Luigi's graph."""

    states: dict[str, TaskState] = field(default_factory=dict)
    differences: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # Airflow ids whose Luigi task isn't known in Python

    @property
    def matches(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        """The first differences, one line."""
        shown = "; ".join(self.differences[:SHOWN])
        more = len(self.differences) - SHOWN
        return shown + (f"; and {more} more" if more > 0 else "")


# --- planning ---------------------------------------------------------------------


class LuigiIds:
    """Luigi task ids of spec nodes from their parameters' strings (Luigi's own task_id_str, no instances)."""

    def __init__(self) -> None:
        self._classes: dict[str, tuple[tuple[str, ...], dict[str, str]] | None] = {}
        self._values: dict[tuple[object, dt.datetime], str | None] = {}

    def _rule_value(self, rule: object, anchor: dt.datetime) -> str | None:
        """rule_value, once per rule and anchor (tasks of one family share rules); None: no valid date."""
        key = (rule, anchor)
        if key not in self._values:
            try:
                self._values[key] = rule_value(rule, anchor)  # type: ignore[arg-type]
            except (ValueError, OverflowError):
                self._values[key] = None
        return self._values[key]

    def _class_info(self, module: str, family: str) -> tuple[tuple[str, ...], dict[str, str]] | None:
        """(significant public parameter names, serialized defaults of those a node may leave out)."""
        key = f"{module}:{family}"
        if key not in self._classes:
            self._classes[key] = _significant(module, family)
        return self._classes[key]

    def luigi_id(self, node: TaskNode, anchor: dt.datetime | None) -> tuple[str | None, bool]:
        """(the node's Luigi id for the run at ``anchor``, whether it is unknown because of a hand-written template)."""
        from luigi.task import task_id_str

        info = self._class_info(node.module, node.family)
        if info is None:
            return None, False
        names, defaults = info
        values = dict(defaults)
        for p in node.params:
            if p.name not in names:
                continue
            if p.rule is not None:
                if anchor is None:
                    return None, True
                value = self._rule_value(p.rule, anchor)
                if value is None:
                    return None, False
                values[p.name] = value
            elif p.template is not None:
                return None, True
            else:
                values[p.name] = p.value
        if set(values) != set(names):
            return None, False  # a parameter without a default the spec doesn't give: the class changed
        return task_id_str(node.family, {n: values[n] for n in names}), False


def _significant(module: str, family: str) -> tuple[tuple[str, ...], dict[str, str]] | None:
    import importlib

    from luigi.parameter import BoolParameter, ParameterVisibility
    from luigi.task_register import Register, TaskClassException

    try:
        importlib.import_module(module)
        cls = Register.get_task_cls(family)
    except (ImportError, TaskClassException):
        return None
    names, defaults = [], {}
    for name, p in cls.get_params():
        if not (p.significant and p.visibility == ParameterVisibility.PUBLIC):
            continue
        names.append(name)
        if isinstance(p, BoolParameter) and p.parsing == BoolParameter.IMPLICIT_PARSING:
            defaults[name] = "False"  # an implicit flag the spec leaves out when unset
    return tuple(names), defaults


def plan_nodes(nodes: Sequence[TaskNode], anchor: dt.datetime | None, ids: LuigiIds | None = None,
               known: Mapping[str, str] | None = None) -> list[PlannedTask]:  # fmt: skip
    """Every node's Luigi task for the run whose anchor is ``anchor`` (None: a spec without a run date).

    ``known`` gives the Luigi ids a caller already has (the runner: its own
    task and the root, rebuilt from what Airflow rendered), used where a
    hand-written template leaves Python without one.
    """
    ids = ids or LuigiIds()
    known = known or {}
    out = []
    for node in nodes:
        luigi_id, unchecked = ids.luigi_id(node, anchor)
        if unchecked and node.id in known:
            luigi_id, unchecked = known[node.id], False
        out.append(
            PlannedTask(
                airflow_id=node.id, luigi_id=luigi_id, upstream=tuple(node.upstream), optional=node.optional,
                runs_work=node.kind != NodeKind.EXTERNAL,
                tolerates_skips=node.settings.trigger_rule == TriggerRule.NONE_FAILED, unchecked=unchecked,
            )
        )  # fmt: skip
    return out


def plan_run(spec: PipelineSpec, instant: dt.datetime, ids: LuigiIds | None = None) -> list[PlannedTask]:
    """What each Airflow task of ``spec`` runs in the run at ``instant`` (its logical date, aware)."""
    run = spec.graph.run_date if spec.graph is not None else None
    return plan_nodes(spec.tasks, run_anchor(run, instant) if run is not None else None, ids)


# --- comparing ---------------------------------------------------------------------------


def _order(plan: Sequence[PlannedTask]) -> Sequence[PlannedTask]:
    """The tasks, every one after its upstream tasks (export writes them so: then as they are)."""
    seen: set[str] = set()
    for t in plan:
        if not seen.issuperset(t.upstream):
            break
        seen.add(t.airflow_id)
    else:
        return plan
    by_id = {t.airflow_id: t for t in plan}
    order = graphlib.TopologicalSorter({t.airflow_id: [u for u in t.upstream if u in by_id] for t in plan}).static_order()
    return [by_id[i] for i in order]


def _state(task: PlannedTask, states: Mapping[str, TaskState], graph: LuigiGraph) -> TaskState:
    ups = [states[u] for u in task.upstream if u in states]
    if any(s in (TaskState.FAILS, TaskState.NOT_STARTED) for s in ups):
        return TaskState.NOT_STARTED
    if TaskState.SKIPPED in ups and not task.tolerates_skips:
        return TaskState.SKIPPED
    if task.unchecked or task.luigi_id in graph:
        return TaskState.RUNS
    return TaskState.SKIPPED if task.optional else TaskState.FAILS


def _explain(task: PlannedTask, state: TaskState, states: Mapping[str, TaskState], graph: LuigiGraph,
             luigi_of: Mapping[str, str | None]) -> list[str]:  # fmt: skip
    """The differences one task shows (none when it does what Luigi does)."""
    if state == TaskState.FAILS:
        shown = task.luigi_id or "a task its rules can't compute for this date"
        return [f"{task.airflow_id} ({shown}) is not in Luigi's graph, and it was in the graph of every date export checked"]
    in_graph = task.luigi_id in graph
    if state == TaskState.SKIPPED and in_graph:
        return [f"{task.airflow_id} ({task.luigi_id}) is in Luigi's graph but Airflow skips it after a skipped upstream task"]
    if state != TaskState.RUNS or not task.runs_work or not in_graph:
        return []
    before = {luigi_of[u] for u in task.upstream if states.get(u) == TaskState.RUNS}
    missing = [d for d in graph.deps.get(task.luigi_id or "", ()) if d not in before]
    return [f"{task.airflow_id} ({task.luigi_id}) needs {d}, which no task before it runs" for d in missing]


def compare_run(plan: Sequence[PlannedTask], graph: LuigiGraph) -> RunComparison:
    """Play the run as Airflow would with Luigi's ``graph`` for the date, and say where it differs."""
    result = RunComparison()
    luigi_of = {t.airflow_id: t.luigi_id for t in plan}
    for task in _order(plan):
        state = _state(task, result.states, graph)
        result.states[task.airflow_id] = state
        result.differences += _explain(task, state, result.states, graph, luigi_of)
        if task.unchecked:
            result.unchecked.append(task.airflow_id)
    return result
