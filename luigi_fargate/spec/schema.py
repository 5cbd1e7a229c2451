"""The spec's JSON Schema, derived from the same type hints the codec reads and writes.

Published as docs/spec.schema.json (a test keeps it in step) for teams that
review exported specs in pull requests or check them in CI:
``python -m luigi_fargate.spec.schema > docs/spec.schema.json``.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import types
import typing
from enum import Enum
from typing import Any

from luigi_fargate.spec.codec import field_types, kind_of
from luigi_fargate.spec.model import PipelineSpec
from luigi_fargate.spec.versions import SCHEMA_VERSION


def _describe(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ")


class _Builder:
    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}

    def type_schema(self, tp: Any) -> dict[str, Any]:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            members = [a for a in args if a is not type(None)]
            inner = [self.type_schema(m) for m in members]
            if type(None) in args:
                inner.append({"type": "null"})
            return inner[0] if len(inner) == 1 else {"anyOf": inner}
        if origin is list:
            return {"type": "array", "items": self.type_schema(args[0])}
        if origin is dict:
            return {"type": "object", "additionalProperties": self.type_schema(args[1])}
        if isinstance(tp, type) and issubclass(tp, Enum):
            return {"enum": [m.value for m in tp]}
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            self.define(tp)
            return {"$ref": f"#/$defs/{tp.__name__}"}
        simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
        if tp in simple:
            return {"type": simple[tp]}
        raise TypeError(f"no JSON Schema for {tp!r}")

    def define(self, cls: type) -> None:
        if cls.__name__ in self.defs:
            return
        self.defs[cls.__name__] = {}  # placeholder: a recursive reference stops here
        hints = field_types(cls)
        properties: dict[str, Any] = {}
        required: list[str] = []
        kind = kind_of(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("tag"):
                properties[f.name] = {"const": kind}
                required.append(f.name)
                continue
            properties[f.name] = self.type_schema(hints[f.name])
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                required.append(f.name)
        if cls is PipelineSpec:
            properties["schema_version"] = {"const": SCHEMA_VERSION}
            required.append("schema_version")
        self.defs[cls.__name__] = {
            "type": "object",
            "description": _describe(cls),
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a pipeline spec of this schema version."""
    builder = _Builder()
    builder.define(PipelineSpec)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"luigi-fargate pipeline spec, schema version {SCHEMA_VERSION}",
        "$ref": "#/$defs/PipelineSpec",
        "$defs": dict(sorted(builder.defs.items())),
    }


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
