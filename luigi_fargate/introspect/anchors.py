"""Learn which parameters move with the run date by asking Luigi for other dates' graphs.

Guessing from one graph ("this date is the root's minus one day") is a
hypothesis. Here the root is rebuilt for other run dates (one period later
and a month-or-so later), their graphs are walked, and each task's rule is
kept only if it predicts exactly the task Luigi builds for those dates. A
parameter that doesn't move (a fixed start date) is recognised the same way.
What no rule explains is reported: such runs stop with exit 8 at run time.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError
from luigi_fargate.export.bindings import RelativeDate, RootBinding, relative_date, truncate
from luigi_fargate.introspect.graph import walk

if TYPE_CHECKING:
    import luigi
    import networkx as nx

#: Run periods after the export's at which the graph is rebuilt and compared:
#: the next period, and one that crosses a month (days) / day (hours) / year (months).
CHECK_STEPS: dict[str, tuple[int, ...]] = {
    "second": (1, 61), "minute": (1, 61), "hour": (1, 25), "day": (1, 31),
    "week": (1, 5), "month": (1, 13), "year": (1, 4),
}  # fmt: skip
#: The boundary where code most often branches: midnight for hourly roots, the 1st for daily ones.
BOUNDARY = {"second": "minute", "minute": "hour", "hour": "day", "day": "month", "week": "month", "month": "year"}


def check_steps(binding: RootBinding) -> list[int]:
    """The next run, and the first run that starts a new day / month / year (else CHECK_STEPS' second)."""
    fallback = CHECK_STEPS[binding.step_unit][1]
    coarser = BOUNDARY.get(binding.step_unit)
    if coarser:
        for s in range(2, 400):
            anchor = binding.anchor_at(s)
            if truncate(anchor, coarser) == anchor:
                return [1, s]
    return [1, fallback]


@dataclass
class DateRules:
    """What was learnt: per Luigi task id, the parameters that follow the run date."""

    moving: dict[str, dict[str, RelativeDate]] = field(default_factory=dict)
    unexplained: list[str] = field(default_factory=list)  # Luigi ids no rule predicts
    differences: list[str] = field(default_factory=list)  # one line per checked date whose shape differs
    checked: list[str] = field(default_factory=list)  # the run dates compared


class _Predictor:
    """Luigi task ids of a task moved to other anchors, without instantiating tasks (fast on big graphs)."""

    def __init__(self) -> None:
        self._params: dict[type, dict[str, luigi.Parameter]] = {}

    def params(self, task: luigi.Task) -> dict[str, luigi.Parameter]:
        cls = type(task)
        if cls not in self._params:
            self._params[cls] = dict(cls.get_params())
        return self._params[cls]

    def date_params(self, task: luigi.Task, anchor: dt.datetime) -> list[tuple[str, RelativeDate]]:
        out = []
        for name, param in self.params(task).items():
            rd = relative_date(param, task.param_kwargs[name], anchor)
            if rd is not None:
                out.append((name, rd))
        return out

    def task_id(self, task: luigi.Task, moving: list[tuple[str, RelativeDate]], anchor: dt.datetime) -> str | None:
        from luigi.parameter import ParameterVisibility
        from luigi.task import task_id_str

        params = self.params(task)
        # What Luigi hashes into a task id: significant, public parameters as strings.
        values = {n: p.serialize(task.param_kwargs[n]) for n, p in params.items()
                  if p.significant and p.visibility == ParameterVisibility.PUBLIC}  # fmt: skip
        try:
            for name, rd in moving:
                if name in values:
                    values[name] = params[name].serialize(params[name].normalize(rd.value_at(anchor, task.param_kwargs[name])))
        except Exception:  # noqa: BLE001 - a value the parameter rejects: this rule is wrong
            return None
        return task_id_str(task.get_task_family(), values)


def _rebuild_root(root: luigi.Task, binding: RootBinding, anchor: dt.datetime) -> luigi.Task:
    param = dict(root.get_params())[binding.name]
    value = root.param_kwargs[binding.name]
    rd = relative_date(param, value, binding.anchor)
    assert rd is not None
    return type(root)(**{**root.param_kwargs, binding.name: rd.value_at(anchor, value)})


def learn_date_rules(root: luigi.Task, binding: RootBinding, graph: nx.DiGraph) -> DateRules:
    """Rules for every task of ``graph`` (the export date's), verified on other dates' graphs."""
    rules = DateRules()
    others: list[tuple[dt.datetime, nx.DiGraph | None]] = []
    for steps in check_steps(binding):
        anchor = binding.anchor_at(steps)
        shown = anchor.isoformat(sep=" ", timespec="minutes")
        rules.checked.append(shown.removesuffix(" 00:00") if binding.step_unit in ("day", "week", "month", "year") else shown)
        try:
            others.append((anchor, walk(_rebuild_root(root, binding, anchor))))
        except (UserError, ValueError, TypeError) as exc:
            rules.differences.append(f"{rules.checked[-1]}: the graph can't be built ({exc})")
            others.append((anchor, None))

    mapped: list[dict[str, str]] = [{} for _ in others]
    predictor = _Predictor()
    for luigi_id, data in graph.nodes(data=True):
        task = data["task"]
        candidates = predictor.date_params(task, binding.anchor)
        chosen: list[tuple[str, RelativeDate]] | None = None
        predicted: list[str | None] = []
        # Most parameters moving first; a fixed date is the exception.
        for fixed_count in range(len(candidates) + 1):
            for fixed in itertools.combinations(range(len(candidates)), fixed_count):
                moving = [c for i, c in enumerate(candidates) if i not in fixed]
                predicted = [predictor.task_id(task, moving, anchor) for anchor, _ in others]
                if all(g is not None and p in g for p, (_, g) in zip(predicted, others, strict=True)):
                    chosen = moving
                    break
            if chosen is not None:
                break
        if chosen is None:
            rules.unexplained.append(luigi_id)
            chosen = candidates
            predicted = [predictor.task_id(task, chosen, anchor) for anchor, _ in others]
        rules.moving[luigi_id] = dict(chosen)
        for i, p in enumerate(predicted):
            if p is not None:
                mapped[i][luigi_id] = p

    for i, (_, g) in enumerate(others):
        if g is None:
            continue
        expected = set(mapped[i].values())
        extra = sorted(set(g.nodes) - expected)
        missing = sorted(set(graph.nodes) - set(mapped[i]) | {k for k, v in mapped[i].items() if v not in g})
        edges = {(mapped[i].get(a), mapped[i].get(b)) for a, b in graph.edges}
        edge_diff = edges != set(g.edges)
        if extra or missing or edge_diff:
            what = []
            if extra:
                what.append(f"{len(extra)} task(s) the export lacks, e.g. {extra[0]}")
            if missing:
                what.append(f"no counterpart for {len(missing)} exported task(s), e.g. {missing[0]}")
            if edge_diff and not (extra or missing):
                what.append("different dependencies between the same tasks")
            rules.differences.append(f"{rules.checked[i]}: " + "; ".join(what))
    return rules
