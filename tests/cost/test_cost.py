"""``luigi-fargate cost``: Fargate's billing rules, to the cent, from history files and the specs' sizes and tags."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.cost import history_rows, setup, write_specs
from luigi_fargate import config
from luigi_fargate.cost.catalog import priced_tasks
from luigi_fargate.cost.history import TaskTry
from luigi_fargate.cost.pricing import pricing_from
from luigi_fargate.cost.report import cost_report

T0 = dt.datetime(2026, 11, 2, 6, 0, tzinfo=dt.UTC)


def test_10000_tries_cost_the_hand_computed_total_to_the_cent(cli, tmp_path: Path):
    history, expected_cents = setup(tmp_path, 10_000)
    result = cli("cost", str(tmp_path), "--history", str(history), "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert Decimal(report["total_usd"]) * 100 == expected_cents
    sensor_tries = sum(1 for r in history_rows(10_000) if r["task_id"] == "wait")
    assert report["skipped"] == {"not a Fargate task in the specs": sensor_tries}  # the sensor runs in Airflow, not on Fargate
    assert {line["team"] for line in report["lines"]} == {"ledger", "ml", "growth"}


def _try(task_id: str, seconds: float, start: dt.datetime = T0, dag: str = "ledger", number: int = 1) -> TaskTry:
    return TaskTry(dag, task_id, "r1", number, -1, start, start + dt.timedelta(seconds=seconds), "success")


def _report(tmp_path: Path, tries: list[TaskTry], raw: dict | None = None, **kw):
    write_specs(tmp_path)
    c = config.load(raw or {})
    return cost_report(tries, priced_tasks([str(tmp_path)], c, pricing_from(c)), **kw)


# convert: 1 vCPU, 3 GiB on demand: 0.04048 + 3 x 0.004445 = $0.053815 an hour; train: 4 vCPU 16 GiB on Spot at 30 %.
CONVERT_HOURLY = Fraction("0.04048") + 3 * Fraction("0.004445")
TRAIN_HOURLY = (4 * Fraction("0.04048") + 16 * Fraction("0.004445")) * Fraction(3, 10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["convert", "train"]), st.integers(0, 20_000_000)), min_size=1, max_size=30))
def test_each_try_is_billed_per_second_rounded_up_with_a_one_minute_minimum(tmp_path_factory, tries):
    folder = tmp_path_factory.mktemp("specs")
    dags = {"convert": "ledger", "train": "growth"}
    rows = [_try(task, micros / 1_000_000, dag=dags[task]) for task, micros in tries]
    report = _report(folder, rows, grouping="task")
    expected = Fraction(0)
    for task, micros in tries:
        seconds = max(60, -(-micros // 1_000_000))
        expected += seconds * (CONVERT_HOURLY if task == "convert" else TRAIN_HOURLY) / 3600
    cents = (expected * 100 + Fraction(1, 2)).__floor__()
    assert report.total.cost == Decimal(cents) / 100
    assert report.total.billed_seconds == sum(max(60, -(-m // 1_000_000)) for _, m in tries)


def test_arm_and_spot_discounts_and_prices_come_from_configuration(tmp_path: Path):
    tries = [_try("convert", 3600), _try("train", 3600, dag="growth")]
    default = _report(tmp_path, tries, grouping="task")
    assert {k: v.cost for k, v in default.lines.items()} == {"ledger.convert": Decimal("0.05"), "growth.train": Decimal("0.07")}
    raw = {"cpu_architecture": "ARM64", "price_vcpu_hour": "1", "price_gb_hour": "0.5", "arm_discount": "0.25", "spot_discount": "0.5"}
    arm = _report(tmp_path, tries, raw, grouping="task")
    # convert: (1 + 3 x 0.5) x 0.75 = 1.875; train: (4 + 16 x 0.5) x 0.75 x 0.5 = 4.5
    assert {k: v.cost for k, v in arm.lines.items()} == {"ledger.convert": Decimal("1.88"), "growth.train": Decimal("4.50")}


def test_retried_tries_running_tries_and_the_period(tmp_path: Path):
    tries = [
        _try("convert", 120, number=1), _try("convert", 120, start=T0 + dt.timedelta(minutes=5), number=2),  # each try is billed
        TaskTry("ledger", "convert", "r2", 1, -1, T0, None, "running"),  # not finished: not billed yet
        _try("convert", 120, start=T0 + dt.timedelta(days=3)),  # after --until
    ]
    report = _report(tmp_path, tries, since=T0, until=T0 + dt.timedelta(days=1))
    assert report.total.tries == 2 and report.total.billed_seconds == 240
    assert report.skipped == {"not started or not finished": 1, "outside the period": 1}


HISTORY_ROWS = [
    {"dag_id": "ledger", "task_id": "convert", "run_id": "r1", "try_number": 1, "map_index": -1,
     "start_date": "2026-11-02T06:00:00+00:00", "end_date": "2026-11-02T07:00:00+00:00", "state": "failed"},
    {"dag_id": "ledger", "task_id": "convert", "run_id": "r1", "try_number": 2, "map_index": -1,
     "start_date": "2026-11-02T07:05:00Z", "end_date": "2026-11-02T08:05:00.5Z", "state": "success"},
    {"dag_id": "growth", "task_id": "train", "run_id": "r1", "try_number": 1, "map_index": -1,
     "start_date": "2026-11-03T06:00:00Z", "end_date": "2026-11-03T16:00:00Z", "state": "success"},
]  # fmt: skip


def _write_history(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "exports" / f"history.{kind}"  # not beside the specs: a .json there would be read as one
    path.parent.mkdir(exist_ok=True)
    if kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in HISTORY_ROWS))
    elif kind == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(HISTORY_ROWS[0]))
        writer.writeheader()
        writer.writerows(HISTORY_ROWS)
        path.write_text(out.getvalue())
    else:  # what GET /api/v2/dags/~/dagRuns/~/taskInstances answers
        rest = [{("dag_run_id" if k == "run_id" else k): v for k, v in r.items()} | {"duration": 1.0} for r in HISTORY_ROWS]
        path.write_text(json.dumps({"task_instances": rest, "total_entries": len(rest)}))
    return path


@pytest.mark.parametrize("kind", ["jsonl", "csv", "json"])
def test_history_files_in_each_format_give_the_same_costs(cli, tmp_path: Path, kind: str):
    write_specs(tmp_path)
    result = cli("cost", str(tmp_path), "--history", str(_write_history(tmp_path, kind)), "--by", "team", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    # convert: 3600 + 3601 s x $0.053815/h = 0.1076; train: 10 h x $0.23304 x 0.3 = 0.6991
    assert rows == [
        {"team": "ml", "tries": "1", "billed_seconds": "36000", "cost_usd": "0.70"},
        {"team": "ledger", "tries": "2", "billed_seconds": "7201", "cost_usd": "0.11"},
    ]


def test_table_by_dag_and_period_options(cli, tmp_path: Path):
    write_specs(tmp_path)
    history = _write_history(tmp_path, "jsonl")
    result = cli("cost", str(tmp_path), "--history", str(history), "--by", "dag", "--since", "2026-11-02", "--until", "2026-11-03")
    assert result.returncode == 0, result.stderr
    assert "ledger" in result.stdout and "growth" not in result.stdout and "0.11" in result.stdout
    assert "1 tries left out: outside the period" in result.stderr


def test_chart_of_cost_per_team_per_day(cli, tmp_path: Path):
    pytest.importorskip("matplotlib")
    write_specs(tmp_path)
    history = _write_history(tmp_path, "jsonl")
    for name in ("teams.png", "teams.svg"):
        result = cli("cost", str(tmp_path), "--history", str(history), "--chart", str(tmp_path / name), "--format", "json")
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "teams.png").read_bytes().startswith(b"\x89PNG")
    svg = (tmp_path / "teams.svg").read_text()
    assert "<svg" in svg and "2026-11-02" in svg and "ledger" in svg and "ml" in svg


def test_chart_without_matplotlib_names_the_extra(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    write_specs(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    result = cli("cost", str(tmp_path), "--history", str(_write_history(tmp_path, "jsonl")), "--chart", str(tmp_path / "c.png"))
    assert result.returncode == 2 and "pip install 'luigi-fargate[report]'" in result.stderr and result.stderr.count("\n") == 1


def test_bad_inputs_are_one_line_errors(cli, tmp_path: Path):
    write_specs(tmp_path)
    bad_row = tmp_path / "bad.jsonl"
    bad_row.write_text(json.dumps({"dag_id": "ledger", "task_id": "convert", "run_id": "r", "start_date": "yesterday"}) + "\n")
    no_run = tmp_path / "norun.jsonl"
    no_run.write_text(json.dumps({"dag_id": "ledger", "task_id": "convert"}) + "\n")
    local = tmp_path / "local"
    local.mkdir()
    cases = [
        ([str(tmp_path), "--history", str(bad_row)], "bad.jsonl line 1: 'yesterday' is not an ISO 8601 time"),
        ([str(tmp_path), "--history", str(no_run)], "norun.jsonl line 1: no run_id"),
        ([str(tmp_path), "--history", str(tmp_path / "missing.csv")], "can't read it"),
        ([str(tmp_path)], "no history; pass --history FILE or --airflow-url URL"),
        ([str(tmp_path), "--history", str(bad_row), "--since", "2026-11-03", "--until", "2026-11-02"], "is not after --since"),
        ([str(local), "--history", str(bad_row)], "no Fargate tasks in these specs"),
        ([str(tmp_path), "--history", str(bad_row), "--chart", str(tmp_path / "c.gif")], "c.gif: expected a .png or .svg"),
    ]
    for args, words in cases:
        result = cli("cost", *args)
        assert result.returncode == 2 and words in result.stderr and result.stderr.count("\n") == 1, (args, result.stderr)


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("price_vcpu_hour", "four cents", "expected a price in US dollars"),
        ("price_gb_hour", "-0.1", "of 0 or more"),
        ("spot_discount", "1.5", "a fraction from 0 to 1"),
        ("sizes_headroom", "0.8", "a multiplier from 1 to 10"),
    ],
)
def test_bad_price_and_sizing_settings_name_the_key(key: str, value: str, words: str):
    from luigi_fargate.errors import UserError

    with pytest.raises(UserError) as caught:
        config.load({key: value})
    assert caught.value.message.startswith(f"[luigi_fargate] {key}=") and words in caught.value.message
