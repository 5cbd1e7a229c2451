"""One loader for [luigi_fargate]: every key checked at once, each view naming what it lacks, task defaults exported."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_bridge.dag_builder import build_dag
from tests.conftest import base_env, luigi_fargate


def _cfg(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "luigi.cfg"
    path.write_text("[core]\n\n" + body)
    return path


def _export(tmp_path: Path, cfg: Path, *extra: str):
    return luigi_fargate(
        "export", "--module", "sem_daily", "Daily", "--date", "2026-11-01", "--out", str(tmp_path / "dags"), *extra,
        env=base_env(LUIGI_CONFIG_PATH=str(cfg)),
    )  # fmt: skip


def test_queue_and_sensor_timing_from_configuration_reach_the_operators(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "[luigi_fargate]\nqueue = batch\nsensor_timeout = 7200\n"
               "[luigi_fargate.family.Landing]\nqueue = edge\nsensor_poke_interval = 60\n")  # fmt: skip
    proc = _export(tmp_path, cfg)
    assert proc.returncode == 0, proc.stderr
    dag = build_dag(tmp_path / "dags" / "sem_daily_daily.json")
    landing = next(t for t in dag.tasks if t.task_id.startswith("Landing"))
    raw = next(t for t in dag.tasks if t.task_id.startswith("Raw"))
    assert (landing.queue, landing.poke_interval, float(landing.timeout)) == ("edge", 60.0, 7200.0)
    assert raw.queue == "batch"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[luigi_fargate]\nsensor_timeout = soon\n", "[luigi_fargate] sensor_timeout='soon': expected a number of seconds"),
        ("[luigi_fargate]\nqueu = batch\n", "[luigi_fargate] queu: unknown setting; did you mean 'queue'?"),
        ("[luigi_fargate]\nstop_timeout = 300\n", "[luigi_fargate] stop_timeout='300': expected seconds from 2 to 120"),
        ("[luigi_fargate.family.Landing]\nqueues = x\n", "[luigi_fargate.family.Landing] queues: unknown setting; did you mean 'queue'?"),
    ],
    ids=["bad-value", "typo", "release-key-checked-at-export-too", "family-typo"],
)
def test_any_bad_key_stops_export_with_one_line_and_nothing_written(tmp_path: Path, body: str, message: str) -> None:
    proc = _export(tmp_path, _cfg(tmp_path, body))
    assert proc.returncode == 2
    assert proc.stderr == f"luigi-fargate: error: {message}\n" or proc.stderr.startswith(f"luigi-fargate: error: {message}")
    assert "\n" not in proc.stderr.rstrip("\n") and not (tmp_path / "dags").exists()


def test_a_toml_configuration_without_the_toml_parser_is_one_line(tmp_path: Path) -> None:
    toml = tmp_path / "luigi.toml"
    toml.write_text('[luigi_fargate]\nqueue = "batch"\n')
    proc = luigi_fargate(
        "task-definitions", "policy", "worker", env=base_env(LUIGI_CONFIG_PATH=str(toml), LUIGI_CONFIG_PARSER="toml")
    )
    assert proc.returncode == 2
    assert proc.stderr == "luigi-fargate: error: LUIGI_CONFIG_PARSER=toml: Luigi's toml parser is not installed; pip install 'luigi[toml]' or use luigi.cfg\n"
