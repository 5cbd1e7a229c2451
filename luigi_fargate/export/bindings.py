"""Run-date binding: which Luigi parameters follow the Airflow run's date, and how.

``--bind date=ds`` (or ``date=ds-1`` for "yesterday", as ``$(date -d yesterday +%F)``) makes the DAG run for logical date D run the graph of
``Root(date=D)``. Every DateParameter in the graph whose value is the root's
date shifted by k days becomes ``{{ macros.ds_add(<base>, k) }}``, so
``Upstream(date=self.date - timedelta(days=1))`` still gets yesterday.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError

if TYPE_CHECKING:
    import luigi

#: Binding source -> Jinja expression giving the run date as YYYY-MM-DD.
SOURCES: dict[str, str] = {
    # The logical date in UTC (what ``{{ ds }}`` is).
    "ds": "ds",
    # The logical date in the DAG's time zone: for schedules in a local zone.
    "ds_local": "(dag_run.logical_date or dag_run.run_after).astimezone(dag.timezone).strftime('%Y-%m-%d')",
    # The start of the data interval (for DAGs with data-interval timetables).
    "data_interval_start": "data_interval_start.strftime('%Y-%m-%d')",
    "data_interval_end": "data_interval_end.strftime('%Y-%m-%d')",
}


_BINDING = re.compile(r"^(?P<source>[a-z_]+)(?P<offset>[+-]\d+)?$")


def split_binding(binding: str) -> tuple[str, int]:
    """``ds`` -> (ds, 0); ``ds_local-1`` -> (ds_local, -1): a source and a day offset."""
    m = _BINDING.match(binding)
    if not m or m["source"] not in SOURCES:
        raise UserError(
            f"binding {binding!r}: expected SOURCE or SOURCE+N / SOURCE-N days, SOURCE one of {', '.join(SOURCES)} "
            "(e.g. --bind date=ds or --bind date=ds-1 for yesterday)"
        )
    return m["source"], int(m["offset"] or 0)


def parse_bindings(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, binding = item.partition("=")
        if not sep or not name:
            raise UserError(f"--bind {item!r}: expected PARAM=SOURCE (e.g. --bind date=ds)")
        split_binding(binding)
        out[name.replace("-", "_")] = binding
    return out


def default_bindings(root: luigi.Task) -> dict[str, str]:
    """A root with exactly one DateParameter binds it to ``ds`` (documented default)."""
    import luigi

    dates = [name for name, p in root.get_params() if type(p) is luigi.DateParameter]
    return {dates[0]: "ds"} if len(dates) == 1 else {}


def date_template(source: str, offset_days: int) -> str:
    base = SOURCES[source]
    if offset_days == 0:
        return "{{ " + base + " }}"
    return "{{ macros.ds_add(" + base + ", " + str(offset_days) + ") }}"


class DateBinder:
    """Computes per-task parameter templates from the root's bound date."""

    def __init__(self, root: luigi.Task, bindings: dict[str, str]) -> None:
        import luigi

        self.anchor: dt.date | None = None
        self.source: str | None = None
        params = dict(root.get_params())
        for name, binding in bindings.items():
            source, offset = split_binding(binding)
            if name not in params:
                raise UserError(
                    f"--bind {name}={binding}: {root.get_task_family()} has no parameter {name!r}; "
                    f"its parameters are {', '.join(params) or 'none'}"
                )
            if not isinstance(params[name], luigi.DateParameter) or not isinstance(root.param_kwargs[name], dt.date):
                raise UserError(
                    f"--bind {name}={binding}: parameter {name!r} is not a DateParameter; "
                    "only date parameters can follow the run date"
                )
            # The anchor is the run date itself: the root's date minus its offset.
            self.anchor = root.param_kwargs[name] - dt.timedelta(days=offset)
            self.source = source

    def templates(self, task: luigi.Task) -> tuple[dict[str, str], dict[str, str]]:
        """(param -> Jinja template, param -> id label) for ``task``."""
        import luigi

        if self.anchor is None or self.source is None:
            return {}, {}
        templates: dict[str, str] = {}
        labels: dict[str, str] = {}
        for name, param in task.get_params():
            value = task.param_kwargs[name]
            if type(param) is luigi.DateParameter and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                offset = (value - self.anchor).days
                templates[name] = date_template(self.source, offset)
                labels[name] = self.source + (f"{offset:+d}" if offset else "")
        return templates, labels
