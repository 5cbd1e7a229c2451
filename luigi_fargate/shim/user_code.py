"""The task's own code may raise anything, ``SystemExit`` and ``KeyboardInterrupt`` included.

Left alone, ``sys.exit(0)`` in a module's import, in ``requires()`` or in
``complete()`` would end the runner with exit 0, which Airflow records as
success although nothing ran. Every call into user code goes through
:func:`user_code`, which turns whatever it raises into a one-line error
with the exit code of the step that called it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.shim.signals import LeaseLostInterrupt, Terminated

#: The runner's own interrupts: they carry the outcome (143, 7) and must pass through.
OWN_INTERRUPTS = (Terminated, LeaseLostInterrupt)


def describe(exc: BaseException) -> str:
    """``SystemExit(0)``, ``RuntimeError: no such table``: what the user code raised, in one line."""
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r})"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@contextmanager
def user_code(what: str, exit_code: int = ExitCode.TASK_FAILED) -> Iterator[None]:
    """Run the ``with`` body (a call into the task's code) so that it can only fail as ``exit_code``."""
    try:
        yield
    except (UserError, *OWN_INTERRUPTS):
        raise
    except BaseException as exc:
        raise UserError(f"{what} raised {describe(exc)}; fix that code (rerun with -v for the traceback)", exit_code) from exc
