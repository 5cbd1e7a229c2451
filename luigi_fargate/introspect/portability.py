"""Can this task be rebuilt in another process from its module, family and string params?

Every exported task is rebuilt inside its container by ``luigi-fargate run``.
What doesn't survive that trip must be caught at export, not discovered in
production as a task that silently ran with other parameters.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luigi_fargate.spec.params import TaskParam

if TYPE_CHECKING:
    import luigi


@dataclass(frozen=True)
class Finding:
    """A reason a task may not run the same in a container."""

    family: str
    message: str
    fatal: bool  # True: export refuses; False: warning in the spec and on stderr

    def __str__(self) -> str:
        return f"{self.family}: {self.message}"


def class_findings(cls: type[luigi.Task]) -> list[Finding]:
    """Findings that depend on the class only (checked once per family)."""
    from luigi.task_register import Register, TaskClassException

    family = cls.get_task_family()
    out: list[Finding] = []
    if "<locals>" in cls.__qualname__:
        out.append(Finding(family, f"class is defined inside a function ({cls.__qualname__}); move it to module level", True))
    if cls.__module__ == "__main__":
        out.append(Finding(family, "class is defined in __main__; move it to an importable module", True))
    try:
        if Register.get_task_cls(family) is not cls:
            raise TaskClassException
    except TaskClassException:
        out.append(Finding(family, "family name is ambiguous (two classes share it); rename one or set task_namespace", True))
    if inspect.isgeneratorfunction(cls.run):
        out.append(
            Finding(
                family,
                "run() yields dynamic dependencies: they run in the same container as this task",
                False,
            )
        )
    return out


def _cli_value_ok(param: luigi.Parameter, serialized: str, value: object) -> str | None:
    """Why ``serialized`` would not come back as ``value`` on the run command line, or None."""
    from luigi.parameter import BoolParameter

    if isinstance(param, BoolParameter) and param.parsing == BoolParameter.IMPLICIT_PARSING:
        return None  # handled as a presence flag, see task_params()
    if serialized == "":
        return "empty value (Luigi's command line ignores empty values)"
    try:
        back = param.parse(serialized)
    except Exception as exc:  # noqa: BLE001 - any failure means "doesn't round-trip"
        return f"serialize/parse fails ({type(exc).__name__}: {exc})"
    if back != value and param.normalize(back) != value:
        return f"serialize/parse changes the value ({value!r} -> {back!r})"
    return None


def instance_findings(task: luigi.Task) -> list[Finding]:
    """Findings for one task instance: parameters that won't survive the trip."""
    from luigi.parameter import BoolParameter, ParameterVisibility

    family = task.get_task_family()
    out: list[Finding] = []
    for name, param in task.get_params():
        value = task.param_kwargs[name]
        if param.visibility == ParameterVisibility.PRIVATE:
            if param._default is not None and value != param._default:  # noqa: SLF001 - Luigi keeps the default there
                out.append(
                    Finding(family, f"parameter {name!r} is PRIVATE and not at its default: it won't reach the container", True)
                )
            continue
        if isinstance(param, BoolParameter) and param.parsing == BoolParameter.IMPLICIT_PARSING:
            if not value and param._default not in (False, None):  # noqa: SLF001
                out.append(
                    Finding(family, f"parameter {name!r} is False but defaults to True; use parsing=BoolParameter.EXPLICIT_PARSING", True)
                )
            continue
        reason = _cli_value_ok(param, param.serialize(value), value)
        if reason:
            out.append(Finding(family, f"parameter {name!r}: {reason}", True))
    return out


def task_params(task: luigi.Task, templates: dict[str, str] | None = None) -> list[TaskParam]:
    """The parameters that rebuild ``task`` on the runner's command line (``--date=2026-11-01 ...``).

    ``templates`` gives a parameter the Jinja template that the operator
    renders at run time (run-date binding). PRIVATE parameters never reach
    the command line; an implicit boolean is a presence flag, listed only
    when set.
    """
    templates = templates or {}
    from luigi.parameter import BoolParameter, ParameterVisibility

    out: list[TaskParam] = []
    for name, param in task.get_params():
        if param.visibility == ParameterVisibility.PRIVATE:
            continue
        value = task.param_kwargs[name]
        if isinstance(param, BoolParameter) and param.parsing == BoolParameter.IMPLICIT_PARSING:
            if value:
                out.append(TaskParam(name, "True", flag=True))
            continue
        out.append(TaskParam(name, param.serialize(value), templates.get(name)))
    return out
