"""Parity: for several run dates, the DAG runs exactly the Luigi tasks ``luigi.build`` runs.

Each pipeline is exported once (at its first date), then for every date:
``airflow dags test`` (local runner) in a fresh data folder, and
``luigi.build([Root(...)], local_scheduler=True)`` in another fresh folder.
Both record every ``run()`` in a ledger (tests/fixtures/sem_common.py).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import base_env, luigi_fargate

#: (module, root family, root parameter, [(Luigi value, Airflow logical date)])
PIPELINES = [
    pytest.param(
        "sem_daily", "Daily", "date",
        [("2026-11-01", "2026-11-01"), ("2026-11-02", "2026-11-02"), ("2027-01-01", "2027-01-01")],
        id="daily-offsets-diamond-wrapper-external-dynamic",
    ),
    pytest.param(
        "sem_hourly", "HourReport", "date_hour",
        [("2026-11-01T05", "2026-11-01T05:00:00+00:00"), ("2026-11-01T06", "2026-11-01T06:00:00+00:00"),
         ("2026-11-02T00", "2026-11-02T00:00:00+00:00")],
        id="hourly",
    ),
    pytest.param(
        "sem_monthly", "MonthReport", "month",
        [("2026-11", "2026-11-01"), ("2026-12", "2026-12-01"), ("2027-01", "2027-01-01")],
        id="monthly",
    ),
]  # fmt: skip


def _prepare(module: str, data_dir: Path, value: str) -> None:
    data_dir.mkdir(parents=True)
    if module == "sem_daily":
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
        import sem_daily

        sem_daily.prepare(str(data_dir), dt.date.fromisoformat(value))


def _ledger(path: Path) -> list[str]:
    return sorted(path.read_text().splitlines()) if path.exists() else []


def _luigi_build(module: str, family: str, param: str, value: str, data_dir: Path) -> list[str]:
    ledger = data_dir / "ledger.txt"
    code = (
        "import luigi, importlib, sys\n"
        f"m = importlib.import_module({module!r})\n"
        f"cls = getattr(m, {family!r})\n"
        f"task = cls(**{{{param!r}: cls.get_params()[0][1].parse({value!r})}})\n"
        "sys.exit(0 if luigi.build([task], local_scheduler=True, log_level='WARNING') else 1)\n"
    )
    env = base_env(SEM_DATA_DIR=str(data_dir), SEM_LEDGER=str(ledger))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return _ledger(ledger)


@pytest.mark.parametrize(("module", "family", "param", "dates"), PIPELINES)
def test_dag_runs_what_luigi_runs(airflow_home, tmp_path: Path, module: str, family: str, param: str, dates) -> None:
    first = dates[0][0]
    flag = "--" + param.replace("_", "-")
    out = luigi_fargate("export", f"{module}.{family}", flag, first, "--out", str(airflow_home.dags), "--dag-id", module)
    assert out.returncode == 0, out.stderr

    for value, logical_date in dates:
        dag_dir, luigi_dir = tmp_path / f"dag-{value}", tmp_path / f"luigi-{value}"
        _prepare(module, dag_dir, value)
        _prepare(module, luigi_dir, value)
        expected = _luigi_build(module, family, param, value, luigi_dir)

        ledger = dag_dir / "ledger.txt"
        proc = airflow_home.dags_test(module, logical_date, SEM_DATA_DIR=str(dag_dir), SEM_LEDGER=str(ledger))
        assert proc.returncode == 0, f"{value}: " + (proc.stdout[-4000:] + proc.stderr[-4000:])
        ran = _ledger(ledger)
        assert expected, f"{value}: luigi.build ran nothing"
        assert ran == expected, f"{value}: DAG ran {ran}, luigi.build ran {expected}"
