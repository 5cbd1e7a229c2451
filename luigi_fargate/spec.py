"""The pipeline spec: the one contract between the Luigi side and the Airflow side.

A spec is plain JSON, written by ``luigi-fargate export`` and read by
``airflow_bridge`` when Airflow parses the DAG file. This module is imported
on the DAG-parse path, so it uses the standard library only: no luigi, no
airflow, no boto3.

Compatibility rule: readers accept exactly the schema versions they know.
A new field that old readers may ignore keeps the version; anything that
changes meaning bumps it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({1})

#: Kinds of node. ``task`` runs in a container; ``external`` is a completeness
#: sensor (Luigi ExternalTask, or an upstream excluded from a partial export);
#: ``wrapper`` has no work of its own (Luigi WrapperTask).
NODE_KINDS = ("task", "external", "wrapper")


class SpecError(ValueError):
    """A spec file that can't be used; the message names the file and the fix."""


@dataclass
class TaskNode:
    """One Luigi task instance, as Airflow will see it."""

    id: str  # Airflow task id: ^[\w.-]+$, <= 250 chars, stable across re-exports
    task_id: str  # Luigi task id at export time (display name in Airflow)
    module: str
    family: str
    params: dict[str, str]  # Luigi's to_str_params() at export time
    upstream: list[str] = field(default_factory=list)  # Airflow ids of direct dependencies
    #: Luigi command-line arguments for ``luigi-fargate run`` (may hold Jinja templates).
    args: list[str] = field(default_factory=list)
    kind: str = "task"
    #: param name -> Jinja template rendered at run time (run-date binding).
    param_templates: dict[str, str] = field(default_factory=dict)
    #: Airflow-facing settings: owner, retries, retry_delay_seconds,
    #: execution_timeout_seconds, priority_weight, pool, pool_slots, email, ...
    settings: dict[str, Any] = field(default_factory=dict)
    #: Fargate size: {"cpu": 1024, "memory": 2048, "ephemeral_storage_gib": 21}
    size: dict[str, int] = field(default_factory=dict)
    #: Things a reviewer should know (dynamic deps, rounded size, ...).
    notes: list[str] = field(default_factory=list)
    group: str | None = None  # TaskGroup id, when the export groups tasks


@dataclass
class PipelineSpec:
    """A whole exported pipeline: one Airflow DAG."""

    dag_id: str
    root: str  # Airflow id of the root node
    tasks: list[TaskNode]
    schedule: dict[str, str] | None = None  # {"cron": "15 18 * * *", "timezone": "Europe/Berlin"}
    start_date: str | None = None  # ISO date
    catchup: bool = False
    runner: dict[str, Any] = field(default_factory=lambda: {"kind": "local"})
    defaults: dict[str, Any] = field(default_factory=dict)  # DAG default_args
    bindings: dict[str, str] = field(default_factory=dict)  # root param -> run-date source
    tags: list[str] = field(default_factory=list)
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)  # environment for every task
    schema_version: int = SCHEMA_VERSION

    def node(self, airflow_id: str) -> TaskNode:
        for t in self.tasks:
            if t.id == airflow_id:
                return t
        raise KeyError(airflow_id)

    def families(self) -> set[tuple[str, str]]:
        """(module, family) pairs this pipeline may run: the image allowlist."""
        return {(t.module, t.family) for t in self.tasks}

    # --- serialization -------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        # Shallow copies (dataclasses.asdict deep-copies: seconds on 10,000 tasks).
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "tasks"}
        # Put the version first so a reader (human or program) sees it at once.
        return {"schema_version": d.pop("schema_version"), **d, "tasks": [vars(t).copy() for t in self.tasks]}

    def to_json(self) -> str:
        """Deterministic text: same spec, same bytes; one task per line, so re-exports diff cleanly.

        Written by hand around ``json.dumps`` per task: ``indent=`` would switch
        the json module to its pure-Python encoder, ten times slower.
        """
        d = self.to_dict()
        tasks = d.pop("tasks")
        head = json.dumps(d, ensure_ascii=False, separators=(", ", ": "))[:-1]
        body = ",\n  ".join(json.dumps(t, ensure_ascii=False, separators=(", ", ": ")) for t in tasks)
        return f'{head}, "tasks": [\n  {body}\n]}}\n'


    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<spec>") -> PipelineSpec:
        if not isinstance(data, dict):
            raise SpecError(f"{source}: not a pipeline spec (expected a JSON object); re-export it")
        version = data.get("schema_version")
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            known = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
            raise SpecError(
                f"{source}: unknown spec schema_version {version!r} (this luigi-fargate reads {known}); "
                "re-export the pipeline with this version or upgrade luigi-fargate"
            )
        try:
            raw_tasks = data["tasks"]
            tasks = [TaskNode(**t) for t in raw_tasks]
            rest = {k: v for k, v in data.items() if k != "tasks"}
            spec = cls(tasks=tasks, **rest)
        except (KeyError, TypeError) as exc:
            raise SpecError(f"{source}: malformed pipeline spec ({exc}); re-export the pipeline") from None
        ids = [t.id for t in spec.tasks]
        if len(set(ids)) != len(ids):
            raise SpecError(f"{source}: duplicate task ids in spec; re-export the pipeline")
        known_ids = set(ids)
        for t in spec.tasks:
            missing = [u for u in t.upstream if u not in known_ids]
            if missing:
                raise SpecError(f"{source}: task {t.id} names unknown upstream {missing[0]!r}; re-export the pipeline")
            if t.kind not in NODE_KINDS:
                raise SpecError(f"{source}: task {t.id} has unknown kind {t.kind!r}; re-export the pipeline")
        return spec

    @classmethod
    def from_json(cls, text: str, source: str = "<spec>") -> PipelineSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno}); re-export the pipeline") from None
        return cls.from_dict(data, source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PipelineSpec:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"{p}: can't read pipeline spec ({exc.strerror}); check the path") from None
        return cls.from_json(text, str(p))
