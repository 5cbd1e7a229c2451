"""The runner's log-line contract, read back the way the operators read it."""

from __future__ import annotations

import io
import json

from hypothesis import given
from hypothesis import strategies as st

from luigi_fargate.shim.events import EventLog
from luigi_fargate.spec.runner_log import TASK_EVENT, parse_event, task_id_from_line

luigi_ids = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,60}", fullmatch=True)


@given(task_id=luigi_ids, fmt=st.sampled_from(["text", "json"]))
def test_the_task_line_the_runner_writes_names_its_task_id(task_id: str, fmt: str) -> None:
    out = io.StringIO()
    log = EventLog(fmt, stream=out)
    log.bind(task_id=task_id, family="F")
    log.emit(TASK_EVENT, "rebuilt", module="m")
    assert task_id_from_line(out.getvalue()) == task_id


def test_other_lines_name_no_task() -> None:
    assert task_id_from_line("luigi-fargate: start: T_1 running") is None
    assert task_id_from_line("INFO luigi-interface: task: T_1") is None
    assert task_id_from_line(json.dumps({"event": "done", "task_id": "T_1"})) is None
    assert task_id_from_line("{not json") is None
    assert parse_event("[1, 2]") is None
    assert parse_event('{"event": "usage", "cpu_s": 1.5}') == {"event": "usage", "cpu_s": 1.5}
