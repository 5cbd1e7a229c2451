"""A task with run() and no output() (Luigi's hello world), one runner at a time (see docs/runner.md).

tests/shim/test_luigi_parity.py compares whole DAG runs with ``luigi.build``;
these pin each rule on its own, with real runner subprocesses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TESTS, base_env, luigi_fargate

NO_CHECK = TESTS / "fixtures" / "keep-alive-luigi.cfg"  # check_unfulfilled_deps = false
DEFAULT = TESTS / "fixtures" / "empty-luigi.cfg"
DATE = "2026-11-01"


class Pipeline:
    def __init__(self, root: Path, config: Path) -> None:
        self.data = root / "data"
        self.data.mkdir()
        self.env = base_env(
            SEM_DATA_DIR=str(self.data), SEM_LEDGER=str(root / "ledger.txt"), LUIGI_CONFIG_PATH=str(config),
            LUIGI_FARGATE_LOCK=f"file://{root / 'locks'}",
        )  # fmt: skip
        self.ledger = root / "ledger.txt"

    def run(self, family: str, *options: str, graph_check: dict | None = None):
        env = dict(self.env)
        if graph_check is not None:
            env["LUIGI_FARGATE_GRAPH_CHECK"] = json.dumps(graph_check)
        return luigi_fargate("run", "--allow-any", *options, "worker_parity", family, "--date", DATE, env=env)

    def ran(self) -> list[str]:
        return [line.split("_")[0] for line in self.ledger.read_text().splitlines()] if self.ledger.exists() else []


@pytest.fixture
def pipeline(tmp_path: Path) -> Pipeline:
    return Pipeline(tmp_path, NO_CHECK)


def test_it_is_done_once_run_returns_and_runs_on_every_invocation(pipeline: Pipeline) -> None:
    for _ in range(2):
        proc = pipeline.run("Hello")
        assert proc.returncode == 0, proc.stderr
        assert "no outputs: done once run() returned" in proc.stderr
    assert pipeline.ran() == ["Hello", "Hello"]


def test_a_dependent_runs_after_it_when_luigi_does_not_recheck_dependencies(pipeline: Pipeline) -> None:
    assert pipeline.run("Hello").returncode == 0
    proc = pipeline.run("Greet")
    assert proc.returncode == 0, proc.stderr
    assert "counted as done" in proc.stderr
    assert pipeline.ran() == ["Hello", "Greet"]  # Luigi's worker didn't run Hello again in Greet's runner


def test_a_dependent_is_refused_like_luigi_with_its_default_settings(tmp_path: Path) -> None:
    pipeline = Pipeline(tmp_path, DEFAULT)
    proc = pipeline.run("Greet")
    assert proc.returncode == 4, proc.stderr
    assert "check_unfulfilled_deps" in proc.stderr
    assert pipeline.ran() == []


def test_it_does_not_run_when_everything_that_needs_it_is_complete(pipeline: Pipeline) -> None:
    """Luigi's walk from the root stops at complete tasks: a finished date doesn't reach Hello again."""
    check = {"root": ["worker_parity", "Report", "--date", DATE], "graph_size": 3, "deps": 0}
    assert pipeline.run("Hello", graph_check=check).returncode == 0
    assert pipeline.run("Greet", graph_check={**check, "deps": 1}).returncode == 0
    assert pipeline.run("Report", graph_check={**check, "deps": 1}).returncode == 0
    proc = pipeline.run("Hello", graph_check=check)
    assert proc.returncode == 0, proc.stderr
    assert "Luigi wouldn't run it" in proc.stderr
    assert pipeline.ran() == ["Hello", "Greet", "Report"]


def test_a_sensor_on_it_says_why_it_never_completes(pipeline: Pipeline) -> None:
    proc = pipeline.run("Hello", "--check-complete")
    assert proc.returncode == 4
    assert "has no outputs" in proc.stderr
    assert pipeline.ran() == []


def test_a_dependency_that_vanishes_before_run_is_not_run_here(tmp_path: Path) -> None:
    """Luigi's worker would re-add the task (``max_reschedules``), which schedules the dependency in this container."""
    config = tmp_path / "luigi.cfg"
    # check_unfulfilled_deps on (Luigi's default): the worker re-checks just before run(); no cooldown
    # keeps the scheduler from taking the vanished dependency back as pending.
    config.write_text("[scheduler]\nstable_done_cooldown_secs = 0\n")
    pipeline = Pipeline(tmp_path, config)
    proc = pipeline.run("NeedsVanishing")
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.count("Unfulfilled dependency at run time") == 1  # not re-added and retried either
    assert pipeline.ran() == []
