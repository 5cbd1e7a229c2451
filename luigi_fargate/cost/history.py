"""Airflow's run history as task instance tries: each try started a container, and each is billed.

A history file is JSON lines, a JSON document or CSV with the columns
``dag_id, task_id, run_id, try_number, start_date, end_date, state, map_index``
(docs/sizing-and-cost.md). The JSON the REST API returns is accepted as it
is: ``{"task_instances": [...]}`` from ``/taskInstances`` or ``/tries``, where
the run id is called ``dag_run_id``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luigi_fargate.errors import UserError

COLUMNS = ("dag_id", "task_id", "run_id", "try_number", "start_date", "end_date", "state", "map_index")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class TaskTry:
    """One try of one task instance, as Airflow recorded it."""

    dag_id: str
    task_id: str
    run_id: str
    try_number: int
    map_index: int
    start: dt.datetime | None
    end: dt.datetime | None
    state: str | None

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        return (self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number)

    @property
    def duration_us(self) -> int | None:
        """Whole microseconds from start to end (exact), or None while it has no end."""
        if self.start is None or self.end is None:
            return None
        delta = self.end - self.start
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_time(value: Any, where: str) -> dt.datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; naive means UTC), or None for empty."""
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{where}: {value!r} is not an ISO 8601 time; write it like 2026-11-02T06:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def task_try(record: Mapping[str, Any], where: str) -> TaskTry:
    """One row (export file or REST API object) as a TaskTry; a missing column is a one-line error."""
    run_id = record.get("run_id", record.get("dag_run_id"))
    missing = [name for name, value in (("dag_id", record.get("dag_id")), ("task_id", record.get("task_id")), ("run_id", run_id)) if not value]
    if missing:
        raise UserError(f"{where}: no {missing[0]}; each row needs {', '.join(COLUMNS)} (docs/sizing-and-cost.md)")
    try:
        try_number = int(record.get("try_number") or 1)
        map_index = int(record.get("map_index") if record.get("map_index") not in (None, "") else -1)
    except (TypeError, ValueError):
        raise UserError(f"{where}: try_number and map_index must be whole numbers") from None
    start, end = parse_time(record.get("start_date"), where), parse_time(record.get("end_date"), where)
    if start is not None and end is not None and end < start:
        raise UserError(f"{where}: end_date {end.isoformat()} is before start_date {start.isoformat()}; fix or drop that row")
    return TaskTry(
        str(record["dag_id"]), str(record["task_id"]), str(run_id), try_number, map_index, start, end, record.get("state") or None,
    )  # fmt: skip


def _document(text: str) -> Any:
    """The file as one JSON document, or None when it is JSON lines (or not JSON)."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_rows(text: str, source: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Rows of a JSON list, a REST answer ``{"task_instances": [...]}``, or JSON lines (one row a line)."""
    data = _document(text)
    if isinstance(data, dict) and "task_instances" in data:
        data = data["task_instances"]
    if isinstance(data, list):
        for number, row in enumerate(data, 1):
            yield f"{source} item {number}", row
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise UserError(f"{source} line {number}: not a JSON object; one task instance try per line") from None
        yield f"{source} line {number}", row


def read_history(path: str) -> list[TaskTry]:
    """Every try in a history file (JSON lines, JSON, or CSV with a header row)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # -sig: a spreadsheet's CSV starts with a byte-order mark
    except OSError as exc:
        raise UserError(f"--history {path}: can't read it ({exc.strerror}); check the path") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"--history {path}: byte {exc.start} is not UTF-8; save the file as UTF-8") from None
    if text.lstrip().startswith(("{", "[")):
        rows: Iterable[tuple[str, Mapping[str, Any]]] = _json_rows(text, path)
    else:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "dag_id" not in reader.fieldnames:
            raise UserError(f"{path}: expected a CSV header with {', '.join(COLUMNS)}, JSON lines or JSON")
        rows = ((f"{path} line {n}", row) for n, row in enumerate(reader, 2))
    out = []
    for where, row in rows:
        if not isinstance(row, Mapping):
            raise UserError(f"{where}: expected an object with {', '.join(COLUMNS)}")
        out.append(task_try(row, where))
    return out


def latest_tries(tries: Iterable[TaskTry]) -> list[TaskTry]:
    """One row per try: the same try listed twice (a task instance and its /tries history) counts once."""
    seen: dict[tuple[str, str, str, int, int], TaskTry] = {}
    for t in tries:
        seen[t.key] = t
    return list(seen.values())
