"""Run-date binding: which Luigi parameters follow the Airflow run's date, and how.

``--bind date=ds`` makes the DAG run for logical date D run the graph of
``Root(date=D)``. Every DateParameter in the graph whose value is the root's
date shifted by k days becomes ``{{ macros.ds_add(<base>, k) }}``, so
``Upstream(date=self.date - timedelta(days=1))`` still gets yesterday.
"""

from __future__ import annotations

import datetime as dt
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


def parse_bindings(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, source = item.partition("=")
        if not sep or not name or source not in SOURCES:
            raise UserError(
                f"--bind {item!r}: expected PARAM=SOURCE with SOURCE one of {', '.join(SOURCES)} (e.g. --bind date=ds)"
            )
        out[name.replace("-", "_")] = source
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
        for name, source in bindings.items():
            if name not in params:
                raise UserError(
                    f"--bind {name}={source}: {root.get_task_family()} has no parameter {name!r}; "
                    f"its parameters are {', '.join(params) or 'none'}"
                )
            if not isinstance(params[name], luigi.DateParameter) or not isinstance(root.param_kwargs[name], dt.date):
                raise UserError(
                    f"--bind {name}={source}: parameter {name!r} is not a DateParameter; "
                    "only date parameters can follow the run date"
                )
            self.anchor, self.source = root.param_kwargs[name], source

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
