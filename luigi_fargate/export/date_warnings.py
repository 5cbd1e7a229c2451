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
from luigi_fargate.introspect.date_formats import COMMON_FORMATS
from luigi_fargate.introspect.portability import Finding
from luigi_fargate.spec import TaskNode


def _dates(binding: RootBinding | None, today: dt.date) -> dict[dt.date, str]:
    out = {today: "today's date"}
    if binding is not None:
        out.setdefault(binding.anchor.date(), "the export date")
    return out


def _written(dates: dict[dt.date, str]) -> dict[str, tuple[str, str]]:
    """Each date in each common format -> (format, what the date is)."""
    return {d.strftime(fmt): (fmt, what) for d, what in dates.items() for fmt in COMMON_FORMATS}


def _advice(node: TaskNode, name: str, fmt: str, is_root: bool, binding: RootBinding | None) -> str:
    if is_root and binding is None:
        return f"bind it: --bind {name}=ds:{fmt} (or --bind {name}=ds for a Luigi date parameter)"
    if is_root:
        return f"derive it from {binding.name!r} in the task (one parameter follows the run date)"  # type: ignore[union-attr]
    return f"derive it in requires() from the date of the task that requires {node.family}, not from an import-time default (datetime.now())"


def frozen_date_findings(
    nodes: Iterable[TaskNode], root_id: str, binding: RootBinding | None, today: dt.date | None = None
) -> list[Finding]:
    """One warning per (family, parameter) whose fixed value writes the export date or today's."""
    written = _written(_dates(binding, today or dt.date.today()))
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
                + _advice(node, p.name, fmt, node.id == root_id, binding),
                False,
            )
    return list(out.values())
