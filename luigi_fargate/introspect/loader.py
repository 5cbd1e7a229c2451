"""Build a Luigi task from a command line exactly the way ``luigi --module m Task ...`` does.

Parameters go through Luigi's own ``CmdlineParser`` (so ``--date``,
``--Family-param`` and config defaults mean what they mean to Luigi), and the
family is looked up in Luigi's own task registry.

:func:`build_task` takes Luigi's command line as a user types it (export,
graph). :func:`build_task_from_values` is for the runner, which reads the
words itself: only the family's parameters, values never read as options.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import importlib.util
import io
import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode

if TYPE_CHECKING:
    import luigi

#: A dotted Python identifier: what a module or a task family may be.
DOTTED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def check_dotted_name(value: str, what: str, exit_code: int = ExitCode.BAD_INVOCATION) -> str:
    if not DOTTED_NAME.match(value or ""):
        raise UserError(
            f"{what} {value!r} is not a dotted Python name (letters, digits, '_' and '.'); "
            f"give the {what} as in 'luigi --module billing.daily Reconcile'",
            exit_code,
        )
    return value


def import_module(module: str, exit_code: int = ExitCode.BAD_INVOCATION) -> None:
    check_dotted_name(module, "module", exit_code)
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            raise UserError(
                f"module {module!r} not found; check the name and that its folder is on PYTHONPATH "
                f"(cwd: add PYTHONPATH=.)",
                exit_code,
            ) from None
        raise UserError(f"module {module!r} failed to import: {exc}; fix the import in that module", exit_code) from None
    except BaseException as exc:  # user code raising at import time, SystemExit and KeyboardInterrupt included
        what = f"SystemExit({exc.code!r})" if isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
        raise UserError(
            f"module {module!r} raised {what} on import; fix that module (rerun with -v for the traceback)",
            exit_code,
        ) from exc


def task_class(family: str, module: str, exit_code: int = ExitCode.BAD_INVOCATION) -> type[luigi.Task]:
    """Look a family up in Luigi's registry, with a suggestion when it is misspelt."""
    from luigi.task_register import Register, TaskClassAmbigiousException, TaskClassNotFoundException

    try:
        return Register.get_task_cls(family)
    except TaskClassAmbigiousException:
        raise UserError(
            f"task family {family!r} is defined by more than one class; give one of them a distinct "
            "name or task_namespace",
            exit_code,
        ) from None
    except TaskClassNotFoundException:
        known = sorted(name for name in Register.task_names() if not name.startswith("luigi."))
        short = family.rpartition(".")[2]

        def defined_here(name: str) -> bool:
            try:
                return Register.get_task_cls(name).__module__ == module
            except TaskClassAmbigiousException:
                return False

        # A class of that name in that module, registered under its task_namespace.
        namespaced = [n for n in known if n.rpartition(".")[2] == short and n != family and defined_here(n)]
        if namespaced:
            hint = (
                f"{module!r} defines it as {namespaced[0]!r} (its task_namespace); give the namespaced family: "
                f"--module {module} {namespaced[0]} (luigi-fargate run {module} {namespaced[0]})"
            )
        else:
            close = difflib.get_close_matches(family, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"is it defined in module {module!r}?"
        raise UserError(f"task {family!r} not found in module {module!r}; {hint}", exit_code) from None


def split_task_ref(ref: str) -> tuple[str, str]:
    """``examples.pipeline.Report`` -> (``examples.pipeline``, ``Report``).

    Families with a ``task_namespace`` contain dots themselves, so try the
    longest importable module prefix first.
    """
    check_dotted_name(ref, "task")
    parts = ref.split(".")
    if len(parts) < 2:
        raise UserError(
            f"task {ref!r} has no module; write MODULE.Task (e.g. examples.pipeline.Report) "
            "or pass --module MODULE"
        )
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        try:
            importlib.util.find_spec(module)
        except (ModuleNotFoundError, ValueError):
            continue
        if importlib.util.find_spec(module) is not None:
            return module, ".".join(parts[cut:])
    return ".".join(parts[:-1]), parts[-1]


def build_task(
    module: str, family: str, luigi_args: Sequence[str], not_found_code: int = ExitCode.BAD_INVOCATION
) -> luigi.Task:
    """Import ``module`` and build ``family`` from Luigi-style ``luigi_args``.

    A module or family that can't be found exits with ``not_found_code``; bad
    parameter values always with 2 (bad invocation).
    """
    exit_code = ExitCode.BAD_INVOCATION
    import_module(module, not_found_code)
    task_class(family, module, not_found_code)
    from luigi.cmdline_parser import CmdlineParser

    argv = [family, *luigi_args]
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), CmdlineParser.global_instance(argv, allow_override=True) as cp:
            return cp.get_task_obj()
    except SystemExit:
        # argparse already decided; turn its usage dump into one line.
        lines = [ln for ln in stderr.getvalue().splitlines() if "error:" in ln]
        reason = lines[-1].split("error:", 1)[1].strip() if lines else "invalid arguments"
        raise UserError(
            f"parameters for {family}: {reason}; pass them as Luigi does, e.g. --date 2026-11-01",
            exit_code,
        ) from None
    except (ValueError, TypeError) as exc:
        raise UserError(f"parameters for {family}: {exc}; fix the value", exit_code) from None
    except Exception as exc:
        from luigi.parameter import MissingParameterException, UnknownParameterException

        if isinstance(exc, MissingParameterException | UnknownParameterException):
            raise UserError(f"parameters for {family}: {exc}", exit_code) from None
        raise
    finally:
        if stderr.getvalue() and "error:" not in stderr.getvalue():
            sys.stderr.write(stderr.getvalue())


def build_task_from_values(family: str, values: Mapping[str, str | bool]) -> luigi.Task:
    """Build ``family`` as Luigi's command line does, from parameter values already read off the words.

    ``values`` maps parameter names to what Luigi's argparse stores for
    ``--name VALUE`` (the string) or a bare switch (True). The runner reads the
    words itself (``luigi_fargate.shim.params``) rather than let argparse do it:
    argparse matches abbreviations (``--mod x`` is ``--module x``, which Luigi
    imports) and loses values even in the exact ``--name=VALUE`` form (Python
    3.11 turns ``--name=--`` into an empty list, so Luigi silently keeps the
    default). What follows is Luigi's own: ``CmdlineParser.get_task_obj`` with
    its rules (an empty value keeps the default, config defaults, each
    parameter's ``parse``) and the global instance parameters consult while the
    task is built. Bad values raise UserError (exit 2); whatever the task's own
    code raises while it is built (``__init__``, a parameter's ``parse``) is the
    caller's to handle.
    """
    from luigi.cmdline_parser import CmdlineParser
    from luigi.parameter import MissingParameterException, UnknownParameterException

    class ReadCommandLine(CmdlineParser):
        """A CmdlineParser whose words were read already: ``known_args`` is what its argparse would give."""

        def __init__(self, known_args: argparse.Namespace) -> None:
            self.known_args = known_args

    from luigi.task_register import Register

    known: dict[str, str | bool | None] = {name: None for name, _ in Register.get_task_cls(family).get_params()}
    known.update(values)
    parser = ReadCommandLine(argparse.Namespace(root_task=family, **known))
    previous = CmdlineParser._instance  # noqa: SLF001 - what CmdlineParser.global_instance saves, too
    CmdlineParser._instance = parser  # noqa: SLF001
    try:
        return parser.get_task_obj()
    except (ValueError, TypeError, MissingParameterException, UnknownParameterException) as exc:
        raise UserError(f"parameters for {family}: {exc}; fix the value") from None
    finally:
        CmdlineParser._instance = previous  # noqa: SLF001
