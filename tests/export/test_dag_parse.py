"""The DAG file Airflow parses: no Luigi, no user code, no boto3; the right structure in DagBag."""

from __future__ import annotations

import json
import subprocess
import sys

from luigi_fargate.spec import SCHEMA_VERSION
from tests.conftest import base_env, luigi_fargate

CHECK_IMPORTS = """
import json, runpy, sys
ns = runpy.run_path(sys.argv[1])
dag = ns["dag"]
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"luigi", "examples", "boto3", "botocore"})
print(json.dumps({"tasks": len(dag.task_ids), "heavy": heavy}))
"""


def _export(tmp_path, *extra):
    proc = luigi_fargate(
        "export", "examples.pipeline.Report", "--date", "2026-11-01", "--out", str(tmp_path / "dags"), *extra
    )
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "dags" / "pipeline_report.py"


def test_building_the_dag_imports_no_luigi_no_user_module_no_boto3(tmp_path):
    stub = _export(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", CHECK_IMPORTS, str(stub)], env=base_env(), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"tasks": 7, "heavy": []}


def test_dagbag_parses_the_export_with_luigi_order_ids_and_display_names(tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    stub = _export(tmp_path, "--schedule", "15 18 * * *", "--timezone", "Europe/Berlin")
    bag = DagBag(dag_folder=str(stub.parent))
    assert bag.import_errors == {}
    dag = bag.dags["pipeline_report"]
    assert {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} == {
        "ExchangeRates": [],
        "ExtractTransactions.region-eu": [],
        "ExtractTransactions.region-us": [],
        "ConvertToEur.region-eu": ["ExchangeRates", "ExtractTransactions.region-eu"],
        "ConvertToEur.region-us": ["ExchangeRates", "ExtractTransactions.region-us"],
        "DailyLedger": ["ConvertToEur.region-eu", "ConvertToEur.region-us"],
        "Report": ["DailyLedger"],
    }
    # The readable, stable Airflow id is what the UI shows (the export date's Luigi id named another run's task).
    assert dag.get_task("Report").task_display_name == "Report"
    from airflow.timetables.trigger import CronTriggerTimetable

    assert isinstance(dag.timetable, CronTriggerTimetable)  # guarded against manual runs before its start_date
    saved = dag.timetable.serialize()  # as Airflow stores it
    assert (saved["expression"], saved["timezone"]) == ("15 18 * * *", "Europe/Berlin")
    extract = dag.get_task("ExtractTransactions.region-eu")
    assert extract.retries == 1 and extract.owner == "ledger-team@example.com"  # retry_count = 2: two attempts


def test_unknown_schema_version_is_a_clear_import_error(tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    stub = _export(tmp_path)
    spec = stub.with_suffix(".json")
    spec.write_text(spec.read_text().replace(f'"schema_version": {SCHEMA_VERSION}', '"schema_version": 99'))
    bag = DagBag(dag_folder=str(stub.parent))
    (error,) = bag.import_errors.values()
    assert "unknown spec schema_version 99" in error and "re-export" in error
