"""The published JSON Schema is the one the types give, and it tells good specs from bad ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luigi_fargate.spec import SCHEMA_VERSION, PipelineSpec, SpecError
from luigi_fargate.spec.schema import schema_text
from tests.conftest import REPO, luigi_fargate
from tests.spec.contract import check_exported_specs, check_spec_text


def test_docs_schema_is_generated_from_the_types() -> None:
    assert (REPO / "docs" / "spec.schema.json").read_text() == schema_text(), (
        "regenerate it: python -m luigi_fargate.spec.schema > docs/spec.schema.json"
    )


def test_an_export_passes_the_schema_and_reads_back_byte_for_byte(tmp_path: Path) -> None:
    proc = luigi_fargate("export", "examples.pipeline.Report", "--date", "2026-11-01", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert check_exported_specs(tmp_path) == 1


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d["tasks"][0].update(kind="container"), "'container' is not one of"),
        (lambda d: d.update(runner={"kind": "kubernetes"}), "is not valid under any of the given schemas"),
        (lambda d: d["tasks"][0].update(retries=3), "Additional properties are not allowed"),
        (lambda d: d["tasks"][0]["settings"].update(retries="3"), "'3' is not valid under any of the given schemas"),
        (lambda d: d.update(runner={"kind": "fargate", "cluster": "c"}), "is not valid under any of the given schemas"),
        (lambda d: d.update(schema_version=1), f"{SCHEMA_VERSION} was expected"),
    ],
    ids=["kind", "runner-kind", "unknown-field", "type", "runner-missing-fields", "version"],
)
def test_the_schema_refuses_what_the_types_refuse(tmp_path: Path, change, words: str) -> None:
    proc = luigi_fargate("export", "examples.pipeline.Report", "--date", "2026-11-01", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "pipeline_report.json").read_text())
    data["tasks"][0].setdefault("settings", {})
    change(data)
    with pytest.raises(AssertionError, match=words):
        check_spec_text(json.dumps(data), "changed.json")
    with pytest.raises(SpecError, match=r"^changed.json: (malformed|unknown spec schema_version)"):
        PipelineSpec.from_json(json.dumps(data), "changed.json")
    (tmp_path / "pipeline_report.py").unlink()  # not an export any more: the autouse check skips it
