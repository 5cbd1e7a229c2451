"""The pipeline spec: the one contract between the Luigi side and the Airflow side.

A spec is plain JSON, written by ``luigi-fargate export`` and read by
``airflow_bridge`` when Airflow parses the DAG file, by the runner (its
allowlist) and by ``deploy``. Every field is typed here; :mod:`codec` reads
and writes them from the type hints and :mod:`schema` derives the published
JSON Schema from the same hints, so the three can't drift apart.

This module is imported on the DAG-parse path: standard library only.

Compatibility rule: readers accept the schema versions they know and upgrade
older ones on load (:mod:`versions`); writers always write the newest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from luigi_fargate.spec import codec
from luigi_fargate.spec.dates import RunDate
from luigi_fargate.spec.errors import SpecError
from luigi_fargate.spec.kinds import Capacity, NodeKind, RunnerKind, TriggerRule
from luigi_fargate.spec.params import TaskParam
from luigi_fargate.spec.versions import SCHEMA_VERSION, upgrade

# --- per task ----------------------------------------------------------------


@dataclass
class TaskSettings:
    """How Airflow runs one task: Luigi's attributes mapped (docs/concepts.md), plus Fargate placement."""

    owner: str | None = None
    #: Luigi's owner_email: mailed on failure (an SmtpNotifier).
    email: list[str] = field(default_factory=list)
    #: Airflow retries: Luigi's retry_count allows that many attempts in all, so this is retry_count - 1.
    retries: int | None = None
    retry_delay_seconds: float | None = None
    retry_exponential_backoff: float | None = None
    max_retry_delay_seconds: float | None = None
    execution_timeout_seconds: float | None = None
    #: Luigi's priority, as an absolute Airflow priority_weight.
    priority_weight: int | None = None
    #: The Luigi resource the task holds most of, as an Airflow pool (other_resources: the rest).
    pool: str | None = None
    pool_slots: int | None = None
    other_resources: dict[str, int] = field(default_factory=dict)
    #: The Airflow queue (Celery / edge workers), from configuration.
    queue: str | None = None
    #: Completeness sensors: seconds between pokes, and how long to wait in all.
    sensor_poke_interval_seconds: float | None = None
    sensor_timeout_seconds: float | None = None
    #: Fargate: the capacity this task runs on when it isn't the runner's default.
    capacity: Capacity | None = None
    #: Fargate: cost-allocation tags of this family.
    tags: dict[str, str] = field(default_factory=dict)
    #: none_failed for a task downstream of an optional one (TaskNode.optional); None: Airflow's all_success.
    trigger_rule: TriggerRule | None = None


@dataclass
class FargateSize:
    """CPU units (1024 = 1 vCPU), memory in MiB, ephemeral storage in GiB (None: Fargate's 20 GiB)."""

    cpu: int | None = None
    memory: int | None = None
    ephemeral_storage_gib: int | None = None


@dataclass
class TaskNode:
    """One Luigi task instance, as Airflow will see it."""

    id: str  # Airflow task id: ^[\w.-]+$, <= 250 chars, stable across re-exports
    task_id: str  # Luigi task id at export time (the Airflow UI shows ``id``: this one names the export date's task)
    module: str
    family: str
    #: The runner's task parameters, in order (significant public ones; see TaskParam).
    params: list[TaskParam] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list, metadata={"always": True})  # Airflow ids of direct dependencies
    kind: NodeKind = field(default=NodeKind.TASK, metadata={"always": True})
    settings: TaskSettings = field(default_factory=TaskSettings)
    size: FargateSize | None = None
    #: Not in every run date's Luigi graph (export saw dates without it): the runner skips it
    #: (exit 9) on those dates, and the tasks downstream of it tolerate that (trigger_rule).
    optional: bool = False
    #: Things a reviewer should know (dynamic deps, rounded size, ...).
    notes: list[str] = field(default_factory=list)
    group: str | None = None  # TaskGroup id, when the export groups tasks

    def param(self, name: str) -> TaskParam | None:
        return next((p for p in self.params if p.name == name), None)


@dataclass
class FamilyDoc:
    """What a Luigi class says about itself, captured at export (the DAG side never imports Luigi).

    The Airflow side writes each task's ``doc_md`` from it and the node's
    parameters, so the task's Details show the class's own words.
    """

    #: The class docstring, dedented (``inspect.getdoc``); empty when the class has none.
    doc: str = ""
    #: Parameter name -> its ``description=`` in the class, for those that have one.
    params: dict[str, str] = field(default_factory=dict)


# --- the whole pipeline ---------------------------------------------------------


@dataclass
class Schedule:
    cron: str  # cron expression or preset, e.g. "15 18 * * *"
    timezone: str = field(default="UTC", metadata={"always": True})


@dataclass
class DagDefaults:
    """DAG-wide settings, mostly from a crontab line (MAILTO, a whole-job timeout)."""

    owner: str | None = None
    #: Mailed when any task fails (a crontab's MAILTO).
    email: list[str] = field(default_factory=list)
    #: Per-task timeout for tasks that have none of their own.
    execution_timeout_seconds: float | None = None
    #: The whole run's timeout (Airflow's dagrun_timeout): cron's ``timeout 2h`` around the job.
    dagrun_timeout_seconds: float | None = None


@dataclass
class LocalRunner:
    """Each task runs ``luigi-fargate run`` in a subprocess on the Airflow worker."""

    kind: RunnerKind = field(default=RunnerKind.LOCAL, metadata={"tag": True})
    cwd: str | None = None  # a crontab job's ``cd DIR &&`` (crontab migrate)


@dataclass
class CapacityProviderItem:
    """One entry of an ECS capacity provider strategy."""

    capacity_provider: str
    weight: int = 1
    base: int = 0

    def to_ecs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"capacityProvider": self.capacity_provider, "weight": self.weight}
        if self.base:
            out["base"] = self.base
        return out


@dataclass
class FargateRunner:
    """Each task is an ECS task started with RunTask (docs/fargate.md lists every setting)."""

    cluster: str
    region: str
    task_definition: str
    container_name: str
    subnets: list[str]
    security_groups: list[str]
    kind: RunnerKind = field(default=RunnerKind.FARGATE, metadata={"tag": True})
    assign_public_ip: str = "DISABLED"
    log_group: str | None = None
    log_stream_prefix: str = "luigi"
    capacity: Capacity = Capacity.FARGATE
    ec2_capacity_provider_strategy: list[CapacityProviderItem] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aws_conn_id: str = "aws_default"
    poll_seconds: float = 6.0
    start_attempts: int = 5
    start_backoff_seconds: float = 5.0
    #: Wait in Airflow's triggerer, on one shared poller per triggerer (no worker slot while the task runs).
    deferrable: bool = True
    #: The account-wide API budget of these operators (calls/s), split across ``triggerers`` processes.
    describe_tasks_per_second: float = 1.0
    get_log_events_per_second: float = 10.0
    triggerers: int = 1
    #: A task Fargate Spot interrupted reruns at once on on-demand FARGATE.
    spot_fallback_to_on_demand: bool = False
    #: After ECS stops a task out of memory, its retry asks for the next Fargate size up, at most this many MiB (0: off).
    oom_memory_ceiling: int = 30720
    #: Options of ``luigi-fargate run`` before MODULE (e.g. ``--lock dynamodb://locks``).
    runner_options: list[str] = field(default_factory=list)
    #: The definition this spec used before the last ``deploy`` (for ``deploy --rollback``).
    previous_task_definition: str | None = None


Runner = LocalRunner | FargateRunner


@dataclass
class GraphShape:
    """What the runner and ``verify`` need to rebuild a run's Luigi graph and compare it with the DAG.

    The comparison (luigi_fargate/introspect/run_plan.py) evaluates every
    task's run-date rules for the run, so it uses the spec's tasks; this holds
    the root (which a partial export may leave out) and the run's date.
    """

    root_module: str
    root_family: str
    root_params: list[TaskParam]
    #: How a run's date is found; None: nothing follows the run date (``--no-bind``).
    run_date: RunDate | None = None


@dataclass
class PipelineSpec:
    """A whole exported pipeline: one Airflow DAG."""

    dag_id: str
    root: str  # Airflow id of the root node
    tasks: list[TaskNode]
    schema_version: int = SCHEMA_VERSION
    schedule: Schedule | None = None
    start_date: str | None = None  # ISO date (or date and time)
    catchup: bool = False
    runner: Runner = field(default_factory=LocalRunner)
    defaults: DagDefaults = field(default_factory=DagDefaults)
    bindings: dict[str, str] = field(default_factory=dict)  # root param -> run-date binding
    tags: list[str] = field(default_factory=list)
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)  # environment for every task
    graph: GraphShape | None = None
    #: Luigi family -> its class's documentation (task ``doc_md``); families without any are left out.
    docs: dict[str, FamilyDoc] = field(default_factory=dict)

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
        return codec.encode(self)

    def to_json(self) -> str:
        """Deterministic text: same spec, same bytes; one task per line, so re-exports diff cleanly.

        Written by hand around ``json.dumps`` per task: ``indent=`` would switch
        the json module to its pure-Python encoder, ten times slower.
        """
        d = self.to_dict()
        tasks = d.pop("tasks")
        d = {"schema_version": d.pop("schema_version", SCHEMA_VERSION), **d}
        head = json.dumps(d, ensure_ascii=False, separators=(", ", ": "))[:-1]
        body = ",\n  ".join(json.dumps(t, ensure_ascii=False, separators=(", ", ": ")) for t in tasks)
        return f'{head}, "tasks": [\n  {body}\n]}}\n'

    @classmethod
    def from_dict(cls, data: Any, source: str = "<spec>") -> PipelineSpec:
        if not isinstance(data, dict):
            raise SpecError(f"{source}: not a pipeline spec (expected a JSON object); re-export it")
        data = upgrade(data, source)
        try:
            spec: PipelineSpec = codec.decoder_for(cls)(data, "")
        except codec.CodecError as exc:
            raise SpecError(f"{source}: malformed pipeline spec ({exc}); re-export the pipeline") from None
        _check_graph(spec, source)
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


def _check_graph(spec: PipelineSpec, source: str) -> None:
    ids = [t.id for t in spec.tasks]
    known = set(ids)
    if len(known) != len(ids):
        raise SpecError(f"{source}: duplicate task ids in spec; re-export the pipeline")
    if spec.root not in known:
        raise SpecError(f"{source}: root {spec.root!r} is not one of the spec's tasks; re-export the pipeline")
    for t in spec.tasks:
        missing = [u for u in t.upstream if u not in known]
        if missing:
            raise SpecError(f"{source}: task {t.id} names unknown upstream {missing[0]!r}; re-export the pipeline")


def spec_files(path: str | os.PathLike[str]) -> list[Path]:
    """The spec files at ``path``: the file itself, or a dags folder's ``*.json`` in sorted order.

    Hidden files (the deploy history ``.luigi-fargate-deploys.json``) are not specs.
    """
    p = Path(path)
    if not p.is_dir():
        return [p]
    return [f for f in sorted(p.glob("*.json")) if not f.name.startswith(".")]


@dataclass(frozen=True)
class SpecFile:
    """One spec as it is on disk now, with its exact text (deploy puts files back byte for byte)."""

    path: Path
    text: str
    spec: PipelineSpec


def read_specs(path: str | os.PathLike[str]) -> list[SpecFile]:
    """The spec at ``path``, or every spec in the folder ``path``; SpecError names the first bad one."""
    out = []
    for f in spec_files(path):
        try:
            text = f.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"{f}: can't read pipeline spec ({exc.strerror}); check the path") from None
        out.append(SpecFile(f, text, PipelineSpec.from_json(text, str(f))))
    return out
