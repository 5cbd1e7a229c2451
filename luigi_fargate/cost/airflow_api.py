"""Task instance tries from Airflow's REST API (``/api/v2``), page by page.

``GET /api/v2/dags/{dag_id}/dagRuns/~/taskInstances`` lists a DAG's task
instances (their latest try) filtered by ``start_date``; a task instance with
``try_number`` > 1 had earlier tries, each a container that was billed, so its
``/tries`` list is read too. Pages are ``limit`` 100 (Airflow's default
``[api] maximum_page_limit``) by ``offset``, ordered by ``id``.
"""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.parse
from collections.abc import Iterable, Iterator
from typing import Any

from luigi_fargate.cost.history import TaskTry, latest_tries, task_try
from luigi_fargate.errors import UserError
from luigi_fargate.fargate.sweep import AirflowRestApi

PAGE = 100


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


class TaskInstanceHistory(AirflowRestApi):
    """The sweeper's REST client, reading task instances and their tries."""

    def get(self, path: str, query: dict[str, Any] | None = None) -> dict[str, Any]:
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        try:
            return self._request(url)
        except urllib.error.HTTPError as exc:
            raise UserError(f"{self.base_url}{path}: Airflow answered HTTP {exc.code}; check the URL, the user's access and the DAG id") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise UserError(f"{self.base_url}{path}: can't read it ({exc}); check --airflow-url") from None

    def task_instances(self, dag_id: str, since: dt.datetime | None, until: dt.datetime | None) -> Iterator[dict[str, Any]]:
        path = f"/api/v2/dags/{urllib.parse.quote(dag_id, safe='')}/dagRuns/~/taskInstances"
        query: dict[str, Any] = {"limit": PAGE, "order_by": "id"}
        if since is not None:
            query["start_date_gte"] = _iso(since)
        if until is not None:
            query["start_date_lt"] = _iso(until)
        offset = 0
        while True:
            page = self.get(path, {**query, "offset": offset})
            rows = page.get("task_instances") or []
            yield from rows
            offset += len(rows)
            if not rows or offset >= int(page.get("total_entries") or 0):
                return

    def tries_of(self, ti: dict[str, Any]) -> list[dict[str, Any]]:
        dag, run, task = (urllib.parse.quote(str(ti[k]), safe="") for k in ("dag_id", "dag_run_id", "task_id"))
        map_index = int(ti.get("map_index", -1))
        tail = f"/{map_index}/tries" if map_index >= 0 else "/tries"
        return list(self.get(f"/api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}{tail}").get("task_instances") or [])

    def tries(self, dag_ids: Iterable[str], since: dt.datetime | None, until: dt.datetime | None) -> list[TaskTry]:
        """Every try of the DAGs' task instances that started in the period (earlier tries of a retried one too)."""
        self.login()
        out: list[TaskTry] = []
        for dag_id in sorted(set(dag_ids)):
            for ti in self.task_instances(dag_id, since, until):
                where = f"{self.base_url} task instance {ti.get('dag_id')}.{ti.get('task_id')}"
                rows = self.tries_of(ti) if int(ti.get("try_number") or 1) > 1 else [ti]
                out.extend(task_try(row, where) for row in rows)
        return latest_tries(out)
