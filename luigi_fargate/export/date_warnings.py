"""Dates frozen at export: parameters whose value is the export date (or today) but that don't follow the run.

A string holding ``2026-11-01``, an import-time default like
``default=datetime.now().strftime('%Y%m%d')`` or a DateParameter defaulting
to ``date.today()`` looks right on the export date and silently stays there
on every later run. Export warns about each one and says how to bind it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from luigi_fargate.introspect.bindings import RootBinding
from luigi_fargate.introspect.date_formats import COMMON_FORMATS, matching_formats, parse
from luigi_fargate.introspect.portability import Finding
from luigi_fargate.spec import TaskNode


def _dates(root: TaskNode | None, binding: RootBinding | None, today: dt.date) -> dict[dt.date, str]:
    """The export date (the bound one; unbound: any date the root was given) and today's."""
    out = {today: "today's date"}
    if binding is not None:
        out[binding.anchor.date()] = "the export date"
    elif root is not None:
        for p in root.params:
            for fmt in matching_formats(p.value):
                out[parse(p.value, fmt).date()] = "the export date"
    return out


def _written(dates: dict[dt.date, str]) -> dict[str, tuple[str, str]]:
    """Each date in each common format -> (format, what the date is)."""
    return {d.strftime(fmt): (fmt, what) for d, what in dates.items() for fmt in COMMON_FORMATS}


def _advice(node: TaskNode, name: str, fmt: str, root_dates: set[str] | None, binding: RootBinding | None) -> str:
    """How to make it follow the run date. ``root_dates``: the root's Luigi date parameters (None: not the root)."""
    is_root = root_dates is not None
    if is_root and binding is None:
        return f"bind it: --bind {name}=ds" + ("" if name in root_dates else f":{fmt}")  # type: ignore[operator]
    if is_root:
        return f"derive it from {binding.name!r} in the task (one parameter follows the run date)"  # type: ignore[union-attr]
    return f"derive it in requires() from the date of the task that requires {node.family}, not from an import-time default (datetime.now())"


def frozen_date_findings(
    nodes: Iterable[TaskNode], root_id: str, binding: RootBinding | None, root_dates: set[str], today: dt.date | None = None
) -> list[Finding]:
    """One warning per (family, parameter) whose fixed value writes the export date or today's.

    ``root_dates`` names the root's Luigi date parameters (bound without a format).
    """
    nodes = list(nodes)
    root = next((n for n in nodes if n.id == root_id), None)
    written = _written(_dates(root, binding, today or dt.date.today()))
    out: dict[tuple[str, str], Finding] = {}
    for node in nodes:
        for p in node.params:
            if p.rule is not None or p.template is not None or p.flag or p.value not in written:
                continue
            key = (node.family, p.name)
            if key in out:
                continue
            fmt, what = written[p.value]
            out[key] = Finding(
                node.family,
                f"parameter {p.name!r} = {p.value!r} is {what} ({fmt}) but stays the same on every run; "
                + _advice(node, p.name, fmt, root_dates if node.id == root_id else None, binding),
                False,
            )
    return list(out.values())
