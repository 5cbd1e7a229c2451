"""Luigi's meaning, kept: retries, wrappers with work of their own, namespaced families (issue #13, items 2, 5, 7).

tests/fixtures/sem_faithful.py, in the ``ops`` namespace: a task that fails
twice then succeeds (retry_count 3), one that always fails (retry_count 2),
one with retry_count 0, a WrapperTask with its own run(), and a plain
WrapperTask. On three dates the DAG must run exactly what ``luigi`` runs,
attempt for attempt. Luigi retries only while its worker stays alive, so the
reference runs with ``[worker] keep_alive`` (and a short retry delay), as
pipelines that rely on retry_count do.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import luigi_fargate
from tests.semantics.parity import dag_run, export, log_of, luigi_command

LUIGI_CFG = """\
[worker]
keep_alive = true
wait_interval = 0.1

[scheduler]
retry_delay = 0.1
"""
#: Export: retry at once, no backoff (Airflow's retry_delay from [luigi_fargate]).
EXPORT_CFG = """\
[luigi_fargate]
retry_delay = 0
retry_exponential_backoff = 0
"""


@pytest.fixture
def configs(tmp_path: Path) -> tuple[Path, Path]:
    luigi_cfg, export_cfg = tmp_path / "luigi.cfg", tmp_path / "export.cfg"
    luigi_cfg.write_text(LUIGI_CFG)
    export_cfg.write_text(EXPORT_CFG)
    return luigi_cfg, export_cfg


def test_attempts_and_wrapper_runs_match_luigi_on_three_dates(airflow_home, tmp_path: Path, configs) -> None:
    luigi_cfg, export_cfg = configs
    export("ops.Done", "--module", "sem_faithful", "--date", "2026-11-01", "--dag-id", "faithful",
           out=airflow_home.dags, config=export_cfg)  # fmt: skip
    for date in ("2026-11-01", "2026-12-31", "2027-03-01"):
        expected = luigi_command("sem_faithful", "ops.Done", ["--date", date], tmp_path / f"luigi-{date}", luigi_cfg)
        stamp = date.replace("-", "_")
        assert {k.split("_")[0]: v for k, v in expected.items()} == {
            "ops.Flaky": 3, "ops.Doomed": 2, "ops.Once": 1, "ops.Publish": 1,
        }, expected  # fmt: skip
        ran, proc = dag_run(airflow_home, "faithful", date, tmp_path / f"dag-{date}")
        assert ran == expected, f"{date}: DAG ran {dict(ran)}, luigi ran {dict(expected)}\n" + log_of(proc)
        assert all(stamp in task_id for task_id in ran)


def test_retry_count_becomes_attempts_minus_one(tmp_path: Path, configs) -> None:
    from luigi_fargate.spec import NodeKind, PipelineSpec

    export("ops.Done", "--module", "sem_faithful", "--date", "2026-11-01", out=tmp_path, config=configs[1])
    spec = PipelineSpec.load(tmp_path / "sem_faithful_done.json")
    by_family = {t.family: t for t in spec.tasks}
    assert Counter({f: n.settings.retries for f, n in by_family.items()}) == Counter(
        {"ops.Flaky": 2, "ops.Doomed": 1, "ops.Once": 0, "ops.Publish": None, "ops.Done": None}
    )
    assert by_family["ops.Publish"].kind == NodeKind.TASK  # its run() runs
    assert by_family["ops.Done"].kind == NodeKind.WRAPPER  # nothing of its own: an EmptyOperator


def test_a_namespaced_family_named_without_its_namespace_says_how(tmp_path: Path) -> None:
    proc = luigi_fargate("export", "sem_faithful.Done", "--date", "2026-11-01", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "luigi-fargate: error: task 'Done' not found in module 'sem_faithful'; 'sem_faithful' defines it as 'ops.Done' "
        "(its task_namespace); give the namespaced family: --module sem_faithful ops.Done "
        "(luigi-fargate run sem_faithful ops.Done)"
    )
    run = luigi_fargate("run", "--allow-any", "sem_faithful", "Done", "--date", "2026-11-01")
    assert run.returncode == 3 and "defines it as 'ops.Done'" in run.stderr
