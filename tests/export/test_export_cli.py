"""``luigi-fargate export``: what a user sees, and what lands in --out."""

from __future__ import annotations

import json

import pytest

from luigi_fargate.spec import SCHEMA_VERSION
from tests.conftest import base_env, luigi_fargate


def export(tmp_path, *args):
    return luigi_fargate("export", *args, "--out", str(tmp_path / "dags"), cwd=tmp_path)


def test_export_writes_spec_and_stub_and_reexport_is_byte_identical(tmp_path):
    proc = export(tmp_path, "examples.pipeline.Report", "--date", "2026-11-01")
    assert proc.returncode == 0, proc.stderr
    assert "exported 7 Luigi tasks as DAG 'pipeline_report'" in proc.stdout
    spec_file, stub = tmp_path / "dags/pipeline_report.json", tmp_path / "dags/pipeline_report.py"
    first = spec_file.read_bytes(), stub.read_bytes()
    assert export(tmp_path, "examples.pipeline.Report", "--date", "2026-11-01").returncode == 0
    assert (spec_file.read_bytes(), stub.read_bytes()) == first
    spec = json.loads(first[0])
    assert spec["schema_version"] == SCHEMA_VERSION
    by_id = {t["id"]: t for t in spec["tasks"]}
    assert set(by_id) == {
        "ExchangeRates", "ExtractTransactions.region-eu", "ExtractTransactions.region-us",
        "ConvertToEur.region-eu", "ConvertToEur.region-us", "DailyLedger", "Report",
    }  # fmt: skip
    # The diamond: both conversions depend on the one shared ExchangeRates.
    assert by_id["ConvertToEur.region-eu"]["upstream"] == ["ExchangeRates", "ExtractTransactions.region-eu"]
    assert by_id["DailyLedger"]["upstream"] == ["ConvertToEur.region-eu", "ConvertToEur.region-us"]
    # Luigi's own serialized params, and the run command bound to the run date.
    assert by_id["ExtractTransactions.region-us"]["params"] == [
        {"name": "date", "value": "2026-11-01", "template": "{{ (dag_run.logical_date or dag_run.run_after) | ds }}", "rule": {"unit": "day"}},
        {"name": "region", "value": "us"},
    ]  # fmt: skip
    assert by_id["ExtractTransactions.region-us"]["settings"]["retries"] == 1  # retry_count = 2: two attempts


def test_same_graph_from_another_date_gives_the_same_airflow_task_ids(tmp_path):
    export(tmp_path, "examples.pipeline.Report", "--date", "2026-11-01")
    a = json.loads((tmp_path / "dags/pipeline_report.json").read_text())
    export(tmp_path, "examples.pipeline.Report", "--date", "2027-02-28")
    b = json.loads((tmp_path / "dags/pipeline_report.json").read_text())
    assert [t["id"] for t in a["tasks"]] == [t["id"] for t in b["tasks"]]
    assert [t["task_id"] for t in a["tasks"]] != [t["task_id"] for t in b["tasks"]]


BAD_INPUTS = [
    (["examples.pipeline.Reprt", "--date", "2026-11-01"], "did you mean 'Report'"),
    (["examples.pipeline.Report", "--date", "1st of May"], "parameters for Report"),
    (["examples.pipeline.Report"], "requires the 'date' parameter"),
    (["nosuch.module.Report", "--date", "2026-11-01"], "module 'nosuch.module' not found"),
    (["Report", "--date", "2026-11-01"], "write MODULE.Task"),
    (["examples.pipeline.Report", "--date", "2026-11-01", "--schedule", "every day"], "not a cron expression"),
    (["examples.pipeline.Report", "--date", "2026-11-01", "--timezone", "Mars/Olympus"], "unknown time zone"),
    (["examples.pipeline.Report", "--date", "2026-11-01", "--bind", "region=ds"], "has no parameter 'region'"),
    (["examples.pipeline.Report", "--date", "2026-11-01", "--dag-id", "bad id!"], "--dag-id"),
    (["portability_tasks.PrivateRoot"], "'secret' is PRIVATE"),
    (["portability_tasks.LocalRoot"], "defined inside a function"),
    (["portability_tasks.LossyRoot"], "serialize/parse changes the value"),
    (["portability_tasks.AmbiguousRoot"], "ambiguous"),
    (["portability_tasks.BrokenRequires"], "requires() raised KeyError"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, cli, args, message):
    """In process, for speed; test_one_bad_input_through_the_installed_command runs the real command."""
    proc = cli("export", *args, "--out", str(tmp_path / "dags"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("luigi-fargate: error: "), proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "dags").exists() or not any((tmp_path / "dags").iterdir())


def test_one_bad_input_through_the_installed_command(tmp_path):
    proc = export(tmp_path, "examples.pipeline.Reprt", "--date", "2026-11-01")
    assert proc.returncode == 2 and proc.stderr.startswith("luigi-fargate: error: ") and "did you mean 'Report'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_verbose_shows_the_traceback(tmp_path):
    proc = luigi_fargate("-v", "export", "portability_tasks.BrokenRequires", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "no such region" in proc.stderr


def test_unwritable_out_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = luigi_fargate("export", "examples.pipeline.Report", "--date", "2026-11-01", "--out", str(blocker / "dags"))
    assert proc.returncode == 2
    assert "can't write there" in proc.stderr and "Traceback" not in proc.stderr


def test_dynamic_dependencies_are_flagged_but_exported(tmp_path):
    proc = export(tmp_path, "portability_tasks.DatedRoot")
    assert proc.returncode == 0, proc.stderr
    assert "Yielding: run() yields dynamic dependencies" in proc.stderr
    spec = json.loads((tmp_path / "dags/portability_tasks_dated_root.json").read_text())
    assert any("dynamic dependencies" in n for t in spec["tasks"] for n in t["notes"])


def test_export_never_calls_complete(tmp_path):
    """Exporting must touch no data: a graph whose complete() raises still exports."""
    env = base_env(EXPLODE_ON_COMPLETE="1")
    proc = luigi_fargate("export", "explosive_tasks.Top", "--out", str(tmp_path / "dags"), env=env)
    assert proc.returncode == 0, proc.stderr
