"""Wall time of one run of the example DAG under a real scheduler vs ``airflow dags test``.

    .venv/bin/python bench/deployment_vs_dags_test.py [ROUNDS]

Both run examples.pipeline.Report (7 Luigi tasks, local runner) for ROUNDS
different dates (so every task really runs), and time:

- deployment: the local deployment of examples/local_deployment.py (api-server,
  scheduler, dag-processor, triggerer; LocalExecutor on SQLite), from the
  REST call that triggers the run until the API reports it finished; the
  components are started once, before the first round (start-up is printed apart);
- dags test: ``airflow dags test pipeline_report DATE`` in a fresh process
  (serial, in-process), against its own migrated home, start to exit; run
  after the deployment has stopped, so that its idle components don't slow it.

Prints one JSON line with the medians and each round.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from examples.local_deployment import LocalDeployment, export_example, free_port, running  # noqa: E402

DAG_ID = "pipeline_report"
FIRST_DATE = dt.date(2026, 11, 1)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    dates = [str(FIRST_DATE + dt.timedelta(days=i)) for i in range(rounds)]
    with tempfile.TemporaryDirectory(prefix="lf-bench-deploy-") as tmp:
        root = Path(tmp)
        deployment = LocalDeployment(root / "deployment", free_port(), env=_task_env(root / "deployment"))
        export_example(deployment, str(FIRST_DATE))
        deployment.migrate()
        # `airflow dags test` gets a home of its own, the same DAG files, its own data.
        dags_test = LocalDeployment(root / "dags-test", free_port(), env=_task_env(root / "dags-test"))
        export_example(dags_test, str(FIRST_DATE))
        dags_test.migrate()

        started = time.monotonic()
        scheduler_runs, dags_test_runs = [], []
        with running(deployment):
            startup = time.monotonic() - started
            deployment.wait_for_dag(DAG_ID)
            deployment.unpause(DAG_ID)
            for date in dates:
                t0 = time.monotonic()
                state = deployment.wait_for_run(DAG_ID, deployment.trigger(DAG_ID, date))
                scheduler_runs.append(round(time.monotonic() - t0, 2))
                assert state == "success", f"{date}: {state}\n{deployment.component_logs()}"
        for date in dates:
            t0 = time.monotonic()
            dags_test.airflow("dags", "test", DAG_ID, date, timeout=900)
            dags_test_runs.append(round(time.monotonic() - t0, 2))
    print(json.dumps({
        "bench": "deployment_vs_dags_test",
        "dag": DAG_ID,
        "tasks": 7,
        "rounds": rounds,
        "deployment_startup_s": round(startup, 1),
        "scheduler_run_median_s": statistics.median(scheduler_runs),
        "dags_test_median_s": statistics.median(dags_test_runs),
        "scheduler_runs_s": scheduler_runs,
        "dags_test_runs_s": dags_test_runs,
    }))  # fmt: skip


def _task_env(root: Path) -> dict[str, str]:
    return {
        "PYTHONPATH": str(ROOT),
        "EXAMPLE_DATA_DIR": str(root / "data"),
        "LUIGI_FARGATE_LOCK": f"file://{root / 'locks'}",
    }


if __name__ == "__main__":
    main()
