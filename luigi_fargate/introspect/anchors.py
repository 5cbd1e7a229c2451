"""Learn how the graph moves with the run date, by asking Luigi for the graphs of other run dates.

Export walks the root's graph for the export date and for a few other run
dates chosen to cross what calendars vary in: the next boundary (midnight,
the 1st, January), a month end, months of 28, 29, 30 and 31 days, a week
across a year change, a leap year; the next period when those give fewer
than two dates. Each task of each of
those graphs is then written as a *rule node*: its family, its fixed
parameters, and a :class:`~luigi_fargate.spec.dates.DateRule` for every
parameter that follows the run date. A rule is kept when it predicts the
tasks Luigi builds for the other dates; a parameter that doesn't move (a
fixed start date) is recognised the same way.

The DAG is the union of the rule nodes of all those dates. A rule node
missing from some date's graph is *optional*: the runner skips it (exit 9)
on dates whose Luigi graph lacks it, and the tasks after it tolerate that.
``luigi-fargate verify`` checks the union against Luigi's graph for every
date of a range.
"""

from __future__ import annotations

import datetime as dt
import itertools
from calendar import isleap, monthrange
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from luigi_fargate.errors import UserError
from luigi_fargate.introspect import date_formats, date_math
from luigi_fargate.introspect.bindings import INTERVALS, RootBinding, is_date_interval, param_unit
from luigi_fargate.introspect.graph import LuigiGraph, walk_deps
from luigi_fargate.introspect.rules import rule_value
from luigi_fargate.spec.dates import DateRule, DateUnit

if TYPE_CHECKING:
    import luigi

#: The boundary where code most often branches: midnight for hourly roots, the 1st for daily ones.
BOUNDARY = {DateUnit.SECOND: DateUnit.MINUTE, DateUnit.MINUTE: DateUnit.HOUR, DateUnit.HOUR: DateUnit.DAY,
            DateUnit.DAY: DateUnit.MONTH, DateUnit.WEEK: DateUnit.MONTH, DateUnit.MONTH: DateUnit.YEAR}  # fmt: skip
#: How far ahead (in run periods) a calendar feature is looked for.
_HORIZON = 3000


# --- which run dates to compare ---------------------------------------------------


def _first(binding: RootBinding, test: Any, start: int = 1) -> dt.datetime | None:
    for periods in range(start, _HORIZON):
        anchor = binding.anchor_at(periods)
        if test(anchor):
            return anchor
    return None


def _month_features(binding: RootBinding, chosen: list[dt.datetime]) -> list[dt.datetime]:
    """Months of every length (28, 29, 30, 31 days) among the samples."""
    out = []
    for length in (28, 29, 30, 31):
        if any(monthrange(a.year, a.month)[1] == length for a in chosen + out):
            continue
        found = _first(binding, lambda a, n=length: monthrange(a.year, a.month)[1] == n)
        if found is not None:
            out.append(found)
    return out


def _calendar_features(binding: RootBinding, chosen: list[dt.datetime]) -> list[dt.datetime]:
    """The extra dates for this root's unit (see the module docstring)."""
    unit, a0 = binding.run.unit, binding.anchor
    if binding.run.step != 1:
        return []
    if unit == DateUnit.DAY:  # a month's last day (the day before the boundary, the 1st)
        month_end = _first(binding, lambda a: (a + dt.timedelta(days=1)).day == 1)
        return [month_end] if month_end is not None else []
    if unit == DateUnit.WEEK:
        return [date_math.truncate(dt.datetime(a0.year + 1, 1, 1), DateUnit.WEEK)]
    if unit == DateUnit.MONTH:
        return _month_features(binding, chosen)
    if unit == DateUnit.YEAR:
        leap = any(isleap(a.year) for a in chosen)
        return [a for a in [_first(binding, lambda a: isleap(a.year) != leap)] if a is not None]
    return []


def sample_anchors(binding: RootBinding) -> list[dt.datetime]:
    """The run anchors export walks: the export's first, then the others (no repeats, in time order).

    Calendar features first (the next boundary, a month end, months of each
    length...); the next period only when they give fewer than two other
    dates: each walk of a big graph costs seconds.
    """
    a0 = binding.anchor
    chosen = [a0]
    coarser = BOUNDARY.get(binding.run.unit)
    if coarser is not None:
        start = 1 if binding.run.unit == DateUnit.DAY and binding.run.step == 1 else 2
        boundary = _first(binding, lambda a: date_math.truncate(a, coarser) == a, start=start)
        if boundary is not None:
            chosen.append(boundary)
    chosen += _calendar_features(binding, chosen)
    periods = 1
    while len(set(chosen) - {a0}) < 2:
        chosen.append(binding.anchor_at(periods))
        periods += 1
    return [a0, *sorted(set(chosen) - {a0})]


def anchor_label(anchor: dt.datetime, unit: DateUnit) -> str:
    """``2026-11-02`` for days and coarser, ``2026-11-02 05:00`` for hours and finer."""
    shown = anchor.isoformat(sep=" ", timespec="minutes")
    return shown.removesuffix(" 00:00") if unit.rank >= DateUnit.DAY.rank else shown


# --- rules for one task ---------------------------------------------------------------


def _interval_rule(value: Any, anchor: dt.datetime) -> DateRule | None:
    from luigi import date_interval as di

    start = date_math.as_datetime(value.date_a)
    if isinstance(value, di.Custom):
        day = date_math.truncate(anchor, DateUnit.DAY)
        offset = date_math.distance(day, start, DateUnit.DAY)
        end = date_math.distance(day, date_math.as_datetime(value.date_b), DateUnit.DAY)
        return DateRule(DateUnit.DAY, offset or 0, "%Y-%m-%d", end_offset=end or 0)
    unit_fmt = INTERVALS.get(type(value).__name__)
    if unit_fmt is None:
        return None
    offset = date_math.distance(date_math.truncate(anchor, unit_fmt[0]), start, unit_fmt[0])
    return None if offset is None else DateRule(unit_fmt[0], offset, unit_fmt[1])


def typed_rule(param: luigi.Parameter, value: Any, anchor: dt.datetime) -> DateRule | None:
    """``value`` of a Luigi date-like parameter as a rule relative to ``anchor``, or None."""
    from luigi import date_interval as di

    unit = param_unit(param)
    if unit is not None and isinstance(value, dt.date):
        moment = date_math.truncate(date_math.as_datetime(value), unit)
        offset = date_math.distance(date_math.truncate(anchor, unit), moment, unit)
        return None if offset is None else DateRule(unit, offset, getattr(param, "date_format", None) or "%Y-%m-%d")
    if is_date_interval(param) and isinstance(value, di.DateInterval):
        return _interval_rule(value, anchor)
    return None


def string_rules(serialized: str, anchor: dt.datetime, formats: tuple[str, ...] = date_formats.COMMON_FORMATS) -> list[DateRule]:
    """Rules for a date written as a string (``'20261101'``, ``'11/01/2026'``): one per format it matches."""
    out = []
    for fmt in date_formats.matching_formats(serialized, formats):
        unit = date_formats.resolution(fmt)
        moment = date_formats.parse(serialized, fmt)
        offset = date_math.distance(date_math.truncate(anchor, unit), moment, unit)
        if offset is not None and abs(offset) <= 400:
            out.append(DateRule(unit, offset, fmt))
    return out


@dataclass(frozen=True)
class _Choice:
    """One way of reading a task's parameters: which move with the run date, and how."""

    moving: tuple[tuple[str, DateRule], ...]
    typed_moving: int  # typed date parameters moving: preferred when the dates can't tell
    untyped_moving: int  # strings read as dates: kept fixed when the dates can't tell

    @property
    def preference(self) -> tuple[int, int]:
        return (-self.typed_moving, self.untyped_moving)


class TaskIds:
    """Luigi task ids of tasks moved to other anchors, without building task instances (fast on big graphs)."""

    def __init__(self) -> None:
        self._significant: dict[type, tuple[str, ...]] = {}
        self._values: dict[int, dict[str, str]] = {}
        self._rule_values: dict[tuple[DateRule, dt.datetime], str | None] = {}

    def significant(self, cls: type) -> tuple[str, ...]:
        """What Luigi hashes into a task id: significant, public parameters."""
        names = self._significant.get(cls)
        if names is None:
            from luigi.parameter import ParameterVisibility

            names = tuple(n for n, p in cls.get_params() if p.significant and p.visibility == ParameterVisibility.PUBLIC)
            self._significant[cls] = names
        return names

    def values(self, task: luigi.Task) -> dict[str, str]:
        out = self._values.get(id(task))
        if out is None:
            out = self._values[id(task)] = task.to_str_params(only_significant=True, only_public=True)
        return out

    def value(self, rule: DateRule, anchor: dt.datetime) -> str | None:
        key = (rule, anchor)
        if key not in self._rule_values:
            try:
                self._rule_values[key] = rule_value(rule, anchor)
            except (ValueError, OverflowError):  # beyond year 9999, or before year 1
                self._rule_values[key] = None
        return self._rule_values[key]

    def moved(self, family: str, values: dict[str, str], moving: tuple[tuple[str, DateRule], ...], anchor: dt.datetime) -> str | None:
        """The Luigi id of ``family`` with ``values``, its ``moving`` parameters evaluated at ``anchor``."""
        from luigi.task import task_id_str

        if not moving:
            return task_id_str(family, values)
        out = dict(values)
        for name, rule in moving:
            v = self.value(rule, anchor)
            if v is None:
                return None
            out[name] = v
        return task_id_str(family, out)


def _choices(task: luigi.Task, anchor: dt.datetime, ids: TaskIds, formats: tuple[str, ...]) -> Iterator[_Choice]:
    """Every reading of ``task``'s parameters at ``anchor``, the preferred ones first."""
    params = dict(task.get_params())
    significant = ids.values(task)
    options: list[list[tuple[str, DateRule, bool]]] = []
    for name in ids.significant(type(task)):
        rule = typed_rule(params[name], task.param_kwargs[name], anchor)
        if rule is not None:
            options.append([(name, rule, True)])
        elif name in significant:
            options.append([(name, r, False) for r in string_rules(significant[name], anchor, formats)])
    candidates = []
    for picks in itertools.product(*[[None, *opts] for opts in options if opts]):
        chosen = [p for p in picks if p is not None]
        candidates.append(
            _Choice(tuple((n, r) for n, r, _ in chosen), sum(1 for *_, t in chosen if t), sum(1 for *_, t in chosen if not t))
        )
    yield from sorted(candidates, key=lambda c: c.preference)


# --- the union of the sampled graphs -----------------------------------------------------


@dataclass
class RuleNode:
    """One task of the DAG: a family, its fixed parameters and the rules of those that follow the run date."""

    task: luigi.Task  # an instance from the first sampled graph that has it
    rules: dict[str, DateRule]
    #: Per sampled anchor: the Luigi id this node stands for there (None: its rules give no valid value).
    luigi_ids: list[str | None]
    #: Per sampled anchor: whether Luigi's graph for that date has it.
    present: list[bool]

    @property
    def optional(self) -> bool:
        return not all(self.present)

    @property
    def family(self) -> str:
        return self.task.get_task_family()


@dataclass
class ShapeUnion:
    """What export learnt: the DAG's tasks as rule nodes, named by their Luigi id at the export date."""

    anchors: list[dt.datetime]
    labels: list[str]  # the anchors, as dates for messages
    nodes: dict[str, RuleNode] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)  # (dependency, dependent) node names
    unbuildable: list[str] = field(default_factory=list)  # one line per date whose graph Luigi can't build

    def optional_dates(self) -> list[str]:
        """The checked dates on which some task is missing from Luigi's graph."""
        return [label for i, label in enumerate(self.labels) if any(not n.present[i] for n in self.nodes.values())]


def _rebuild_root(root: luigi.Task, binding: RootBinding, anchor: dt.datetime) -> luigi.Task:
    param = dict(root.get_params())[binding.name]
    return type(root)(**{**root.param_kwargs, binding.name: param.parse(binding.root_value(anchor))})


def _sample_graphs(root: luigi.Task, binding: RootBinding, graph: LuigiGraph, union: ShapeUnion) -> list[LuigiGraph | None]:
    graphs: list[LuigiGraph | None] = [graph]
    for anchor, label in zip(union.anchors[1:], union.labels[1:], strict=True):
        try:
            graphs.append(walk_deps(_rebuild_root(root, binding, anchor)))
        except (UserError, ValueError, TypeError) as exc:
            union.unbuildable.append(f"{label}: the graph can't be built ({getattr(exc, 'message', exc)})")
            graphs.append(None)
    return graphs


class _UnionBuilder:
    """Cover every task of every sampled graph with rule nodes, preferring rules that explain the most dates."""

    def __init__(self, union: ShapeUnion, graphs: list[LuigiGraph | None], formats: tuple[str, ...]) -> None:
        self.union, self.graphs, self.ids, self.formats = union, graphs, TaskIds(), formats
        #: Per sample: Luigi id -> names of the rule nodes standing for it there.
        self.covers: list[dict[str, list[str]]] = [{} for _ in graphs]
        self._keys: dict[tuple[Any, ...], str] = {}

    def evaluate(self, task: luigi.Task, choice: _Choice) -> list[str | None]:
        values = self.ids.values(task)
        return [self.ids.moved(task.get_task_family(), values, choice.moving, a) for a in self.union.anchors]

    def gain(self, predicted: list[str | None]) -> int:
        """Tasks of the sampled graphs this reading explains that no rule node explains yet."""
        return sum(
            1
            for p, g, covered in zip(predicted, self.graphs, self.covers, strict=True)
            if g is not None and p in g and p not in covered
        )

    def best(self, task: luigi.Task, anchor: dt.datetime) -> tuple[_Choice, list[str | None]]:
        """The reading of ``task`` that explains the most new tasks (greedy set cover); ties: the preferred."""
        most = sum(1 for g, covered in zip(self.graphs, self.covers, strict=True) if g is not None)
        best: tuple[int, _Choice, list[str | None]] | None = None
        for choice in _choices(task, anchor, self.ids, self.formats):
            predicted = self.evaluate(task, choice)
            score = self.gain(predicted)
            if best is None or score > best[0]:
                best = (score, choice, predicted)
            if score == most:
                break
        assert best is not None
        return best[1], best[2]

    def add(self, task: luigi.Task, choice: _Choice, predicted: list[str | None]) -> None:
        fixed = tuple(sorted((n, v) for n, v in self.ids.values(task).items() if n not in dict(choice.moving)))
        key = (task.get_task_family(), fixed, choice.moving)
        if key in self._keys:
            return
        present = [g is not None and p in g for p, g in zip(predicted, self.graphs, strict=True)]
        name = predicted[0] or next(p for p in predicted if p)
        while name in self.union.nodes:
            name += "'"
        self._keys[key] = name
        self.union.nodes[name] = RuleNode(task, dict(choice.moving), predicted, present)
        for i, (p, here) in enumerate(zip(predicted, present, strict=True)):
            if here:
                self.covers[i].setdefault(p, []).append(name)  # type: ignore[arg-type]

    def cover(self) -> None:
        for i, (graph, anchor) in enumerate(zip(self.graphs, self.union.anchors, strict=True)):
            if graph is None:
                continue
            for luigi_id in sorted(graph.tasks):
                if luigi_id not in self.covers[i]:
                    task = graph.tasks[luigi_id]
                    choice, predicted = self.best(task, anchor)
                    if predicted[i] != luigi_id:  # a parameter Luigi normalizes: keep it as it is here
                        choice, predicted = _Choice((), 0, 0), self.evaluate(task, _Choice((), 0, 0))
                    self.add(task, choice, predicted)

    def link(self) -> None:
        for i, graph in enumerate(self.graphs):
            if graph is None:
                continue
            for dep, task in graph.edges():
                for a in self.covers[i][dep]:
                    for b in self.covers[i][task]:
                        self.union.edges.add((a, b))


def learn_shapes(root: luigi.Task, binding: RootBinding, graph: LuigiGraph) -> ShapeUnion:
    """The union of the graphs of the sampled run dates, as rule nodes (``graph``: the export date's)."""
    anchors = sample_anchors(binding)
    union = ShapeUnion(anchors, [anchor_label(a, binding.run.unit) for a in anchors])
    graphs = _sample_graphs(root, binding, graph, union)
    # Strings written like the bound one (``--bind day=ds:%d-%m-%Y``) are read as dates too.
    formats = tuple(dict.fromkeys((*date_formats.COMMON_FORMATS, binding.rule.format)))
    builder = _UnionBuilder(union, graphs, formats)
    builder.cover()
    builder.link()
    return union


def fixed_shape(graph: LuigiGraph) -> ShapeUnion:
    """The union for a DAG that nothing binds to the run date: the one graph, every task required."""
    union = ShapeUnion([dt.datetime(1970, 1, 1)], ["export"])
    for luigi_id, task in graph.tasks.items():
        union.nodes[luigi_id] = RuleNode(task, {}, [luigi_id], [True])
    union.edges = set(graph.edges())
    return union
