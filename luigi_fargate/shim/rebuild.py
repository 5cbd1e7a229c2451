"""Rebuild one Luigi task from MODULE, FAMILY and the words after it, importing only MODULE.

Called only after the allowlist admitted (MODULE, FAMILY). The words are read
against the family's declared parameters (``luigi_fargate.shim.params``) and
Luigi builds the task from those values (``CmdlineParser.get_task_obj``), so it
is the one ``luigi --module MODULE FAMILY --name value`` builds, with the same
task id as at export, and nothing on the command line can import or set
anything else.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode
from luigi_fargate.introspect.loader import build_task_from_values, import_module, task_class
from luigi_fargate.shim.params import ParamGrammar, as_luigi_values, luigi_option_flags
from luigi_fargate.shim.user_code import user_code

if TYPE_CHECKING:
    import luigi


def rebuild_task(module: str, family: str, words: Sequence[str], runner_flags: Collection[str] = ()) -> luigi.Task:
    """Import the (allowlisted) ``module`` and build ``family`` from ``words``.

    Exit 3 when the module or family can't be found (or the family lives in
    another module), 2 for parameters the family doesn't take or values its
    parameters reject.
    """
    import_module(module, ExitCode.NOT_ALLOWED)
    cls = task_class(family, module, ExitCode.NOT_ALLOWED)
    if cls.__module__ != module:
        raise UserError(
            f"task {family!r} is defined in module {cls.__module__!r}, not in {module!r}; run it from the module "
            "the spec names",
            ExitCode.NOT_ALLOWED,
        )
    grammar = ParamGrammar(cls, family, luigi_option_flags(), set(runner_flags))
    values = as_luigi_values(grammar.parse(words))
    with user_code(f"building {family}", ExitCode.BAD_INVOCATION):
        return build_task_from_values(family, values)
