"""Luigi task attributes -> Airflow task settings (retries, timeout, priority, owner, pool).

The mapping table lives in docs/concepts.md; keep the two in step.

Retry timing comes from configuration, read the way Luigi reads it:
``[luigi_fargate] retry_delay`` (seconds), else Luigi's own
``[scheduler] retry_delay`` (900 s by default), and
``[luigi_fargate] retry_exponential_backoff`` (multiplier, default 2.0;
0 turns it off) with ``[luigi_fargate] max_retry_delay`` (seconds, optional).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from luigi_fargate.spec import TaskSettings

if TYPE_CHECKING:
    import luigi

#: Luigi's own default for ``[scheduler] retry_delay``.
LUIGI_RETRY_DELAY = 900.0


def _emails(value: object) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [e.strip() for e in value.split(",") if e.strip()]
    return [str(e) for e in value]  # type: ignore[union-attr]


def retry_timing() -> dict[str, float]:
    """retry_delay_seconds, retry_exponential_backoff (and max_retry_delay_seconds) from configuration."""
    from luigi.configuration import get_config

    from luigi_fargate import config

    c = config.load()
    delay = c.get("retry_delay")
    if delay is None:  # Luigi's own setting, read as Luigi reads it
        delay = get_config().getfloat("scheduler", "retry_delay", LUIGI_RETRY_DELAY)
    out = {"retry_delay_seconds": float(delay)}
    if c.get("retry_exponential_backoff"):
        out["retry_exponential_backoff"] = float(c.get("retry_exponential_backoff"))
    if c.get("max_retry_delay"):
        out["max_retry_delay_seconds"] = float(c.get("max_retry_delay"))
    return out


def airflow_retries(retry_count: object) -> int | None:
    """Airflow ``retries`` for Luigi's ``retry_count``: N attempts in all are N - 1 retries.

    Luigi's scheduler disables a task once it has failed ``retry_count``
    times (scheduler.py ``has_excessive_failures``: failures >= retry_count),
    so 5 means five runs, and 0 (like 1) one run. None is Luigi's default:
    the scheduler-wide ``[scheduler] retry_count``, which applies only while a
    worker stays alive to retry; it is left to Airflow's default (no retries).
    """
    if retry_count is None:
        return None
    return max(int(retry_count) - 1, 0)  # type: ignore[call-overload]


def primary_resource(resources: dict[str, int]) -> tuple[str, int]:
    """The resource that becomes the Airflow pool: the one the task holds most of (ties: by name)."""
    name, slots = sorted(resources.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return str(name), int(slots)


def airflow_settings(task: luigi.Task, timing: dict[str, float] | None = None) -> TaskSettings:
    """Settings for one task; fields stay unset where Luigi leaves them at its defaults."""
    out = TaskSettings()
    retries = airflow_retries(getattr(task, "retry_count", None))
    if retries is not None:
        out.retries = retries
        if retries:
            for key, value in (timing if timing is not None else retry_timing()).items():
                setattr(out, key, value)
    timeout = getattr(task, "worker_timeout", None)
    if timeout:
        out.execution_timeout_seconds = int(timeout)
    priority = getattr(task, "priority", 0) or 0
    if priority:
        out.priority_weight = int(priority)
    emails = _emails(getattr(task, "owner_email", None))
    if emails:
        out.owner = emails[0]
        out.email = emails
    resources = dict(getattr(task, "resources", None) or {})
    if resources:
        # Airflow gives a task one pool: take the resource that the task uses
        # most of. docs/concepts.md explains the other choices.
        out.pool, out.pool_slots = primary_resource(resources)
        out.other_resources = {str(k): int(v) for k, v in sorted(resources.items()) if k != out.pool}
    return out
