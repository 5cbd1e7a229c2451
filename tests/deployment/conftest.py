"""The one real Airflow deployment of the session, shared by every module under tests/deployment.

Starting api-server, scheduler, dag-processor and triggerer takes most of a
minute, so the deployment is session-scoped: each module triggers its own
runs (distinct DAGs or dates) on it. Marked ``deployment`` in the modules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from examples.local_deployment import LocalDeployment, export_example, free_port, running, wait_until
from tests.conftest import REPO, TESTS, luigi_fargate

HERE = Path(__file__).resolve().parent
REPORT_DATE = "2026-11-01"
HOLD_DAG = "deployment_tasks_deploy_publish"
#: The new scheduler's orphan check runs this often (default 300 s), so that scenario 3 needs
#: no more than the 30 s heartbeat threshold plus this.
ORPHAN_CHECK_SECONDS = "5"


class Deployment(LocalDeployment):
    """The session's deployment, with what the tests read: the runner's events and the task markers."""

    def __init__(self, root: Path) -> None:
        self.events_file = root / "events.jsonl"
        self.markers = root / "markers"
        super().__init__(root, free_port(), env={
            "PYTHONPATH": f"{REPO}:{HERE}",
            "LUIGI_CONFIG_PATH": str(TESTS / "fixtures" / "empty-luigi.cfg"),
            "EXAMPLE_DATA_DIR": str(root / "data"),
            "DEPLOY_MARKERS": str(self.markers),
            "LUIGI_FARGATE_EVENTS_FILE": str(self.events_file),
            "LUIGI_FARGATE_LOCK": f"file://{root / 'locks'}",
            "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": ORPHAN_CHECK_SECONDS,
        })  # fmt: skip

    def events(self, task_id: str | None = None) -> list[dict]:
        if not self.events_file.exists():
            return []
        events = [json.loads(line) for line in self.events_file.read_text().splitlines()]
        return [e for e in events if task_id is None or e.get("task_id") == task_id]

    def body_runs(self, family: str, date: str) -> list[str]:
        """Pids of every run() body of ``family`` for ``date`` (one marker line each)."""
        files = list((self.markers / "runs").glob(f"{family}_{date.replace('-', '_')}_*"))
        return files[0].read_text().split() if files else []

    def task_id_of(self, family: str, date: str) -> str:
        (path,) = (self.markers / "runs").glob(f"{family}_{date.replace('-', '_')}_*")
        return path.name

    def start_run(self, dag_id: str, date: str) -> str:
        self.wait_for_dag(dag_id)
        self.unpause(dag_id)
        return self.trigger(dag_id, date)

    def wait_for_body(self, family: str, date: str, count: int = 1, timeout: float = 300) -> None:
        wait_until(f"{count} run() of {family} {date}", lambda: len(self.body_runs(family, date)) >= count, timeout)


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    d = Deployment(tmp_path_factory.mktemp("deployment"))
    export_example(d, REPORT_DATE)
    proc = luigi_fargate("export", "deployment_tasks.DeployPublish", "--date", "2026-11-02", "--out", str(d.dags), env=d.env())
    assert proc.returncode == 0, proc.stderr
    d.migrate()
    try:
        with running(d):
            yield d
    except Exception:
        print(d.component_logs())
        raise
    assert d.leftover_pids() == []


@contextmanager
def logs_on_failure(d: Deployment) -> Iterator[None]:
    """Print every component's log when the test fails (pytest shows it with the failure)."""
    try:
        yield
    except BaseException:
        print(d.component_logs())
        raise


