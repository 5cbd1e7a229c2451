"""The pipeline spec: the typed contract between the Luigi side and the Airflow side.

Standard library only: ``airflow_bridge`` imports it while Airflow parses DAG
files, the runner imports it for its allowlist.

- :mod:`.model`: the spec's types (PipelineSpec, TaskNode, settings, runners);
- :mod:`.params`: a task's parameters and the runner's command line;
- :mod:`.kinds`: node kinds, runner kinds, capacities;
- :mod:`.environment`: the environment variables the runner reads;
- :mod:`.tags`: the cost-allocation tags of a task (the operator's and `cost`'s);
- :mod:`.runner_log`: the runner's log lines and events, as the operators and reports read them;
- :mod:`.codec`, :mod:`.versions`, :mod:`.schema`: reading, upgrading, the JSON Schema.
"""

from luigi_fargate.spec.errors import SpecError
from luigi_fargate.spec.kinds import Capacity, NodeKind, RunnerKind
from luigi_fargate.spec.model import (
    CapacityProviderItem,
    DagDefaults,
    FamilyDoc,
    FargateRunner,
    FargateSize,
    GraphShape,
    LocalRunner,
    PipelineSpec,
    Runner,
    Schedule,
    SpecFile,
    TaskNode,
    TaskSettings,
    read_specs,
    spec_files,
)
from luigi_fargate.spec.params import TaskParam
from luigi_fargate.spec.versions import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "Capacity",
    "CapacityProviderItem",
    "DagDefaults",
    "FargateRunner",
    "FargateSize",
    "FamilyDoc",
    "GraphShape",
    "LocalRunner",
    "NodeKind",
    "PipelineSpec",
    "Runner",
    "RunnerKind",
    "Schedule",
    "SpecError",
    "SpecFile",
    "TaskNode",
    "TaskParam",
    "TaskSettings",
    "read_specs",
    "spec_files",
]
