"""Luigi task attributes -> Airflow task settings (retries, timeout, priority, owner, pool).

The mapping table lives in docs/concepts.md; keep the two in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import luigi


def _emails(value: object) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [e.strip() for e in value.split(",") if e.strip()]
    return [str(e) for e in value]  # type: ignore[union-attr]


def airflow_settings(task: luigi.Task) -> dict[str, Any]:
    """Settings for one task; keys absent when Luigi leaves them at its defaults."""
    out: dict[str, Any] = {}
    retry_count = getattr(task, "retry_count", None)
    if retry_count is not None:
        out["retries"] = int(retry_count)
    timeout = getattr(task, "worker_timeout", None)
    if timeout:
        out["execution_timeout_seconds"] = int(timeout)
    priority = getattr(task, "priority", 0) or 0
    if priority:
        out["priority_weight"] = int(priority)
    emails = _emails(getattr(task, "owner_email", None))
    if emails:
        out["owner"] = emails[0]
        out["email"] = emails
    resources = getattr(task, "resources", None) or {}
    if resources:
        # Airflow gives a task one pool: take the resource that the task uses
        # most of (ties by name). docs/concepts.md explains the other choices.
        name, slots = sorted(resources.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        out["pool"] = str(name)
        out["pool_slots"] = int(slots)
        if len(resources) > 1:
            out["other_resources"] = {str(k): int(v) for k, v in sorted(resources.items()) if k != name}
    return out
