"""The check every test's exported specs go through: the published JSON Schema, then the types, byte for byte."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from luigi_fargate.spec import SCHEMA_VERSION, PipelineSpec
from tests.conftest import REPO


@cache
def _validator():
    import jsonschema

    schema = json.loads((REPO / "docs" / "spec.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def exported_spec_files(root: Path) -> list[Path]:
    """Spec files the exporter wrote under ``root``: each has the DAG stub next to it."""
    return [p for p in root.rglob("*.json") if p.with_suffix(".py").is_file()]


def check_spec_text(text: str, where: str) -> None:
    data = json.loads(text)
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where}: {errors[0].message} at {'/'.join(map(str, errors[0].absolute_path))}"
    assert PipelineSpec.from_json(text, where).to_json() == text, f"{where}: does not read back as the same bytes"


def check_exported_specs(root: Path) -> int:
    checked = 0
    for path in exported_spec_files(root):
        text = path.read_text(encoding="utf-8")
        try:
            version = json.loads(text).get("schema_version")
        except (ValueError, AttributeError):
            continue  # a test that broke the file on purpose
        if version != SCHEMA_VERSION:
            continue
        check_spec_text(text, str(path))
        checked += 1
    return checked
