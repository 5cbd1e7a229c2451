"""The task parameters after FAMILY: only the family's own parameters, and values are always data.

``luigi-fargate run MODULE FAMILY --date 2026-11-01`` reads like Luigi's
command line, but handing those words to Luigi's parser as they are would
let them mean more than parameters: Luigi's argparse accepts abbreviations
(``--mod x`` is ``--module x`` and imports ``x``), ``--Family-param`` forms
that set other tasks' parameters, and reads a value such as ``-h`` as an
option. So the runner reads the words itself, against the parameters the
(allowlisted, already imported) family declares:

- ``--name VALUE`` or ``--name=VALUE``; ``name`` spelt with ``_`` or ``-``,
  exactly: no abbreviations;
- the word after ``--name`` is its value whatever it looks like (``-h``,
  ``--module``);
- an implicit BoolParameter (Luigi's ``store_true`` switch) is a bare
  ``--flag``; an explicit one takes ``true``/``false`` or stands alone;
- anything else (Luigi's own options in any spelling, runner options,
  unknown names, stray words) is refused with one line.

Luigi then builds the task from the values read here (see
``luigi_fargate.introspect.loader.build_task_from_values``): its argparse never
sees them, so it can't misread one (it would: Python 3.11's argparse turns even
an exact ``--name=--`` into an empty value).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from luigi_fargate.errors import UserError
from luigi_fargate.exit_codes import ExitCode

if TYPE_CHECKING:
    import luigi

BOOL_WORDS = frozenset({"true", "false"})


@dataclass(frozen=True)
class ParamArg:
    """One parameter of the command line: its Python name and value (None: a bare switch)."""

    name: str
    value: str | None


def flag_of(name: str) -> str:
    """The command-line spelling Luigi gives a parameter: ``report_date`` -> ``--report-date``."""
    return "--" + name.replace("_", "-")


def as_luigi_values(args: Iterable[ParamArg]) -> dict[str, str | bool]:
    """What Luigi's argparse would store for each: the value, or True for a bare switch."""
    return {a.name: True if a.value is None else a.value for a in args}


def _bool_parsing(param: luigi.Parameter) -> str | None:
    """"implicit" / "explicit" for a BoolParameter, None for any other parameter."""
    from luigi.parameter import BoolParameter

    return param.parsing if isinstance(param, BoolParameter) else None


class ParamGrammar:
    """How ``family``'s command line reads: its declared parameters, and what to call the rest.

    ``luigi_flags`` are the options Luigi's own parser defines (``--module``,
    ``--local-scheduler``, ``--Family-param`` for every registered task...);
    ``runner_flags`` the runner's options, which only count before MODULE.
    """

    def __init__(self, cls: type[luigi.Task], family: str, luigi_flags: set[str], runner_flags: set[str]) -> None:
        self.family = family
        self.params = dict(cls.get_params())
        self.by_flag = {}
        for name in self.params:
            self.by_flag[name] = name
            self.by_flag[name.replace("_", "-")] = name
        self.luigi_flags = luigi_flags
        self.runner_flags = runner_flags

    def parse(self, words: Sequence[str]) -> list[ParamArg]:
        """The parameters ``words`` set, each once; raises UserError (exit 2 or 3) on anything else."""
        out: list[ParamArg] = []
        i = 0
        while i < len(words):
            arg, i = self._one(words, i)
            if any(a.name == arg.name for a in out):
                raise UserError(f"parameter {flag_of(arg.name)} given twice for {self.family}; give it once")
            out.append(arg)
        return out

    def _one(self, words: Sequence[str], i: int) -> tuple[ParamArg, int]:
        word = words[i]
        flag, eq, inline = word.partition("=")
        name = self.by_flag.get(flag[2:]) if flag.startswith("--") else None
        if name is None:
            raise self._refusal(word, flag)
        self._check_spelling_is_not_luigis(name)
        parsing = _bool_parsing(self.params[name])
        if parsing == "implicit":
            if eq:
                raise UserError(f"parameter {flag} of {self.family} is a switch: give {flag} alone, without a value")
            return ParamArg(name, None), i + 1
        if eq:
            return ParamArg(name, inline), i + 1
        following = words[i + 1] if i + 1 < len(words) else None
        if parsing == "explicit":
            if following is not None and following.lower() in BOOL_WORDS:
                return ParamArg(name, following), i + 2
            return ParamArg(name, "true"), i + 1  # Luigi's const: a bare explicit switch is True
        if following is None:
            raise UserError(f"parameter {flag} of {self.family} needs a value: {flag} VALUE or {flag}=VALUE")
        return ParamArg(name, following), i + 2

    def _check_spelling_is_not_luigis(self, name: str) -> None:
        """A parameter whose flag is one of Luigi's own options can't reach Luigi's parser safely."""
        flag = flag_of(name)
        if flag in self.luigi_flags:
            raise UserError(
                f"parameter {flag} of {self.family} has the name of Luigi's own option {flag}: Luigi's command "
                "line can't set it either; rename the parameter",
                ExitCode.NOT_ALLOWED,
            )

    def _refusal(self, word: str, flag: str) -> UserError:
        if flag in self.runner_flags or word in self.runner_flags:
            return UserError(
                f"runner option {flag} after FAMILY: runner options go before MODULE, and {self.family} has no "
                f"parameter {flag}",
                ExitCode.NOT_ALLOWED,
            )
        luigi_option = self._luigi_option(flag)
        if luigi_option:
            what = "is Luigi's own option" if luigi_option == flag else f"abbreviates Luigi's own option {luigi_option}"
            return UserError(
                f"{flag} {what}, not a parameter of {self.family}: the runner sets only the family's own "
                "parameters and imports only the allowlisted MODULE",
                ExitCode.NOT_ALLOWED,
            )
        if not word.startswith("--") or word == "--":
            return UserError(
                f"unexpected argument {word!r} after FAMILY {self.family}: give parameters as --name VALUE "
                "(runner options go before MODULE)"
            )
        known = sorted(flag_of(n) for n in self.params)
        close = difflib.get_close_matches(flag, known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"its parameters are: {', '.join(known) or 'none'}"
        return UserError(f"{self.family} has no parameter {flag}; {hint}")

    def _luigi_option(self, flag: str) -> str | None:
        """The Luigi option ``flag`` names or abbreviates (argparse's prefix matching), if any."""
        if not flag.startswith("--") or len(flag) <= 2:
            return None
        if flag in self.luigi_flags:
            return flag
        matches = sorted(f for f in self.luigi_flags if f.startswith(flag))
        return matches[0] if matches else None


def luigi_option_flags() -> set[str]:
    """Every option Luigi's command-line parser defines, for the tasks registered now.

    Mirrors ``luigi.cmdline_parser.CmdlineParser._build_parser``: a parameter of a
    class without a command-line section (``core``: ``--module``, ``--workers``...)
    is ``--param``; any other is ``--Family-param``. The ``--core-module`` spelling
    of the first kind counts too: it reads as Luigi's, whatever Luigi makes of it.
    """
    from luigi.task_register import Register

    flags = {"--help", "--help-all"}
    for task_name, without_section, param_name, _ in Register.get_all_params():
        flags.add("--" + f"{task_name}_{param_name}".replace("_", "-"))
        if without_section:
            flags.add("--" + param_name.replace("_", "-"))
    return flags
