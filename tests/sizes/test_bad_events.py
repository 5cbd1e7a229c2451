"""Usage events are input from outside: a number that can't be a measurement, or a family or parameter value that
would write configuration of its own into ``--write``'s file, is a one-line error (exit 2) naming the line, and
nothing is written."""

from __future__ import annotations

import configparser
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luigi_fargate.errors import UserError
from luigi_fargate.sizes.usage import runs_from_lines
from tests.sizes.events import usage, write_events

NOT_A_MEASUREMENT = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False),
    st.floats(min_value=1e12, allow_nan=False, allow_infinity=False),
)
FIELDS = st.sampled_from(["max_rss_mb", "cpu_s", "wall_s", "cpu", "memory", "ts"])


@settings(max_examples=80, deadline=None)
@given(field=FIELDS, value=NOT_A_MEASUREMENT, before=st.integers(0, 3))
def test_a_usage_event_with_a_number_no_run_can_have_is_an_error_naming_its_line(field, value, before) -> None:
    lines = [json.dumps(usage("F", 300.0, 0.5)) for _ in range(before)]
    lines.append(json.dumps(usage("F", 300.0, 0.5, **{field: value})))
    with pytest.raises(UserError) as caught:
        list(runs_from_lines(lines, "events.jsonl"))
    assert caught.value.message.startswith(f"events.jsonl line {before + 1}: {field}"), caught.value.message
    assert "\n" not in caught.value.message


@settings(max_examples=40, deadline=None)
@given(family=st.text(min_size=1, max_size=12).filter(lambda f: any(c in f for c in "[]\n\r\x00 \t") or not f.isprintable()))
def test_a_family_that_is_no_config_section_name_is_an_error(family) -> None:
    with pytest.raises(UserError) as caught:
        list(runs_from_lines([json.dumps(usage(family, 300.0, 0.5))], "events.jsonl"))
    assert caught.value.message.startswith("events.jsonl line 1: family"), caught.value.message


def test_bad_numbers_fail_before_anything_is_written(cli, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", [usage("F", 300.0, 0.5, cpu=1e30, memory=1e30) for _ in range(5)])
    out = tmp_path / "sizes.cfg"
    result = cli("sizes", "suggest", "--events", str(events), "--write", str(out), "--format", "json")
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and f"{events} line" in result.stderr and "cpu" in result.stderr, result.stderr
    assert not out.exists()


def test_a_parameter_value_with_a_newline_stays_in_its_comment(cli, tmp_path: Path) -> None:
    evil = "eu\n[core]\nlogging_conf_file = /tmp/evil.cfg"
    events = [usage("Split", 6000, 0.5, params={"region": evil}) for _ in range(5)]
    events += [usage("Split", 500, 0.5, params={"region": "us"}) for _ in range(5)]
    out = tmp_path / "sizes.cfg"
    result = cli("sizes", "suggest", "--events", str(write_events(tmp_path / "e.jsonl", events)), "--write", str(out))
    assert result.returncode == 0, result
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(out)
    assert parser.sections() == ["luigi_fargate.family.Split"], out.read_text()
    assert set(parser["luigi_fargate.family.Split"]) == {"cpu", "memory"}, out.read_text()


def test_write_into_a_missing_folder_is_a_one_line_error(cli, tmp_path: Path) -> None:
    events = write_events(tmp_path / "events.jsonl", [usage("F", 300.0, 0.5) for _ in range(5)])
    out = tmp_path / "missing" / "sizes.cfg"
    result = cli("sizes", "suggest", "--events", str(events), "--write", str(out))
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and f"--write {out}" in result.stderr, result.stderr
    assert result.stdout == ""


def test_the_same_event_read_twice_counts_once(cli, tmp_path: Path) -> None:
    """The events file and a saved log holding the same runs: each run once, or the saving doubles."""
    events = [usage("F", 300.0 + i, 0.5, ts=1_764_660_000.0 + 3600 * i, pid=1000 + i) for i in range(6)]
    first = write_events(tmp_path / "events.jsonl", events)
    second = write_events(tmp_path / "saved-log.jsonl", events[3:], noise=False)
    result = cli("sizes", "suggest", "--events", str(first), str(second), "--format", "json")
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["runs"] == 6
