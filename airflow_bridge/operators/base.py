"""What every operator of an exported Luigi task takes: which Luigi task it stands for, and its name in words.

A mixin in front of the Airflow base class (``class X(LuigiTaskMixin, BaseOperator)``),
so the local runner, the completeness sensor and the Fargate operator (a
subclass of the provider's ``EcsRunTaskOperator``) share these arguments
without sharing a base operator.
"""

from __future__ import annotations

from typing import Any


class LuigiTaskMixin:
    """The Luigi task an operator runs or checks.

    :param luigi_module: module that defines the task family
    :param luigi_family: Luigi task family
    :param luigi_label: the Luigi task id, for messages (default: the family)
    """

    def __init__(self, *, luigi_module: str, luigi_family: str, luigi_label: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.luigi_module = luigi_module
        self.luigi_family = luigi_family
        self.luigi_label = luigi_label or luigi_family

    @property
    def luigi_task_words(self) -> str:
        """``Family (Luigi task id)``: how failure messages name the task."""
        return f"{self.luigi_family} ({self.luigi_label})"
