"""What every operator of an exported Luigi task takes: which Luigi task it stands for, and its name in words.

A mixin in front of the Airflow base class (``class X(LuigiTaskMixin, BaseOperator)``),
so the local runner, the completeness sensor and the Fargate operator (a
subclass of the provider's ``EcsRunTaskOperator``) share these arguments
without sharing a base operator.

The spec only knows the Luigi task id of the export date; a run for another
date is another Luigi task. The runner's first event names this run's id
(:data:`luigi_fargate.spec.runner_log.TASK_EVENT`): operators feed the lines
they read to :meth:`LuigiTaskMixin.note_runner_line`, and messages name that id
once it was seen, else the exported one, saying so.
"""

from __future__ import annotations

from typing import Any

from luigi_fargate.spec.runner_log import AIRFLOW_CONTEXT_ENV, MAP_INDEX_ENV, task_id_from_line


class LuigiTaskMixin:
    """The Luigi task an operator runs or checks.

    :param luigi_module: module that defines the task family
    :param luigi_family: Luigi task family
    :param luigi_label: the Luigi task id at export, for messages (default: the family)
    """

    def __init__(self, *, luigi_module: str, luigi_family: str, luigi_label: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.luigi_module = luigi_module
        self.luigi_family = luigi_family
        self.luigi_label = luigi_label or luigi_family
        #: This run's Luigi task id, once the runner named it.
        self.run_task_id: str | None = None

    def note_runner_line(self, line: str) -> str | None:
        """Remember this run's Luigi task id if ``line`` is the runner's task event; the id when it is new."""
        if self.run_task_id is not None:
            return None
        task_id = task_id_from_line(line)
        if task_id is not None:
            self.run_task_id = task_id
        return task_id

    @property
    def luigi_task_words(self) -> str:
        """``Family (this run's Luigi task id)``, or the export's id, named as such, before the runner reported."""
        if self.run_task_id:
            return f"{self.luigi_family} ({self.run_task_id})"
        if self.luigi_label == self.luigi_family:
            return self.luigi_family
        return f"{self.luigi_family} (exported as {self.luigi_label}; this run's id was not reported)"


def airflow_context_env(context: Any) -> dict[str, str]:
    """Where this run sits in Airflow, as the runner's environment (``AIRFLOW_CTX_*`` and the map index).

    The same names and values as Airflow's ``context_to_airflow_vars(context, in_env_var_format=True)``,
    read from the task instance alone: an ECS container inherits nothing from the worker, and a
    task instance is all a context is sure to have. Empty when there is no task instance.
    """
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is None:
        return {}
    values = {
        "dag_id": ti.dag_id, "run_id": ti.run_id, "airflow_task_id": ti.task_id, "try_number": ti.try_number,
    }  # fmt: skip
    env = {AIRFLOW_CONTEXT_ENV[field]: str(value) for field, value in values.items() if value is not None}
    env[MAP_INDEX_ENV] = str(getattr(ti, "map_index", -1))
    return env
