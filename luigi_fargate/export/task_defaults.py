"""Task settings that come from configuration, not from the Luigi class: queue and sensor timing.

``[luigi_fargate] queue``, ``sensor_poke_interval`` and ``sensor_timeout``,
each overridable in ``[luigi_fargate.family.<Family>]``, are written into
every task's settings at export, so the Airflow side reads them from the
spec like everything else (and a re-export keeps them).
"""

from __future__ import annotations

from typing import Any

from luigi_fargate.config import Configuration
from luigi_fargate.spec import NodeKind, PipelineSpec


def apply_task_defaults(spec: PipelineSpec, configuration: Configuration) -> None:
    families: dict[str, dict[str, Any]] = {}
    for node in spec.tasks:
        own = families.get(node.family)
        if own is None:
            own = families[node.family] = configuration.family(node.family)

        def pick(name: str, own: dict[str, Any] = own) -> Any:
            return own.get(name, configuration.get(name))

        node.settings.queue = pick("queue")
        if node.kind == NodeKind.EXTERNAL:
            node.settings.sensor_poke_interval_seconds = pick("sensor_poke_interval")
            node.settings.sensor_timeout_seconds = pick("sensor_timeout")
