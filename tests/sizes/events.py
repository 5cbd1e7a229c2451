"""Usage events as the runner writes them (luigi_fargate/spec/runner_log.py), for the sizing tests."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

BASE_TS = 1_764_660_000.0
#: Each event a run of its own process, as the runner's are (the same pid and time twice is the same event read twice).
_PIDS = itertools.count(1000)


def usage(family: str, rss: float, vcpus: float, wall: float = 60.0, ts: float = BASE_TS, ran: bool = True, **extra: Any) -> dict[str, Any]:
    event = {
        "ts": ts, "event": "usage", "task_id": f"{family}_2026_11_02_65622d3fce", "family": family, "module": "pipeline",
        "params": extra.pop("params", {}), "dag_id": "d", "run_id": "r", "airflow_task_id": family.lower(), "try_number": 1,
        "map_index": -1, "pid": next(_PIDS), "max_rss_mb": rss, "cpu_s": vcpus * wall, "wall_s": wall, "ran": ran, "exit_code": 0, "message": "",
    }  # fmt: skip
    event.update(extra)
    return event


def write_events(path: Path, events: Iterable[dict[str, Any]], noise: bool = True) -> Path:
    """One JSON object per line; with ``noise``, the other lines a log holds (text, other events)."""
    lines = []
    for number, event in enumerate(events):
        if noise and number % 3 == 0:
            lines.append("luigi-fargate: task: Some_task_id started (pid=1)")
            lines.append(json.dumps({"ts": event["ts"], "event": "task", "task_id": event["task_id"], "family": event["family"]}))
        lines.append(json.dumps(event))
    path.write_text("\n".join(lines) + "\n")
    return path
