"""Specs exported by luigi-fargate 0.1 (schema version 1) keep working: upgraded on load to what export writes now."""

from __future__ import annotations

from pathlib import Path

import pytest

from luigi_fargate.spec import PipelineSpec, SpecError
from tests.conftest import TESTS, base_env, luigi_fargate

V1 = TESTS / "fixtures" / "specs_v1"

#: The command each version-1 fixture was exported with (by luigi-fargate 0.1).
EXPORTS = {
    "pipeline_report.json": (["examples.pipeline.Report", "--date", "2026-11-01"], None),
    "sem_daily_daily.json": (["--module", "sem_daily", "Daily", "--date", "2026-11-01", "--exclude", "Baseline"], None),
    "sized_tasks_everything.json": (
        ["tests.fargate.sized_tasks.Everything", "--date", "2026-11-01", "--runner", "fargate", "--with-huge", "true"],
        V1 / "fargate-luigi.cfg",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_a_version_1_spec_reads_as_the_same_export_today(name: str, tmp_path: Path) -> None:
    args, cfg = EXPORTS[name]
    env = base_env(LUIGI_CONFIG_PATH=str(cfg)) if cfg else base_env()
    proc = luigi_fargate("export", *args, "--out", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr
    upgraded, current = PipelineSpec.load(V1 / name), PipelineSpec.load(tmp_path / name)
    current.docs = {}  # version 3's class docs: only an export can read them from the classes
    current.tags, current.start_date = upgraded.tags, upgraded.start_date  # the older export's choices stay
    assert upgraded.to_json() == current.to_json()


def test_an_unknown_version_names_the_file_and_the_fix(tmp_path: Path) -> None:
    text = (V1 / "pipeline_report.json").read_text().replace('"schema_version": 1', '"schema_version": 7', 1)
    with pytest.raises(SpecError, match=r"unknown spec schema_version 7 .*re-export"):
        PipelineSpec.from_json(text, "pipeline_report.json")
