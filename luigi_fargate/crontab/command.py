"""Find the Luigi invocation inside a cron job's shell command.

Handles what crontabs around Luigi look like in practice: ``cd DIR &&``,
``VAR=value`` prefixes, redirects, ``flock``/``timeout``/``nice``/``ionice``/
``nohup``/``env`` wrappers (``flock -c '...'`` too), ``luigi --module m Task``,
``python -m luigi``, ``luigi m.Task``, and in-house wrapper scripts given as
glob patterns (a wrapper is a program that passes its arguments on to Luigi).
Words come from :mod:`luigi_fargate.crontab.shellwords`; command substitutions
are set aside first and handed to :mod:`luigi_fargate.crontab.dates` when they
appear in a parameter.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from luigi_fargate.crontab.dates import DateError, DateExpr, parse_date_command
from luigi_fargate.crontab.shellwords import Operator, ShellSyntaxError, find_substitutions, words

_PLACEHOLDER = "__LFSUB{}__"
PLACEHOLDER_RE = re.compile(r"__LFSUB(\d+)__")
_SEPARATORS = {"&&", ";", "||", "|", "|&", "&", ";;"}
_REDIRECTS = {">", ">>", "<", ">&", "&>", "&>>", "<&", ">|", "<<", "<<<", "<>"}
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
#: A Luigi task parameter name as written on the command line (``--date``, ``--Family-param``).
_PARAM_NAME = re.compile(r"^[A-Za-z_][\w-]*$")
#: Luigi options that configure the worker/scheduler, not the task: dropped, since
#: the runner runs exactly one task and brings its own lock.
_CORE_FLAGS = {"--local-scheduler", "--no-lock", "--take-lock", "--parallel-scheduling", "--assistant",
               "--help", "--help-all"}  # fmt: skip
_CORE_VALUED = {"--workers", "--scheduler-host", "--scheduler-port", "--scheduler-url", "--lock-size", "--lock-pid-dir",
                "--log-level", "--logging-conf-file", "--parallel-scheduling-processes"}  # fmt: skip
_CORE_SECTIONS = ("--worker-", "--core-", "--scheduler-", "--retcode-", "--execution-summary-", "--email-", "--smtp-")
#: Options of ``luigi-fargate run`` that take a value (a --cutover line read back).
_RUNNER_VALUED = {"--allow", "--lock", "--on-locked", "--lock-timeout", "--lock-poll", "--log-format"}


class CommandError(ValueError):
    """The command can't be migrated; ``is_luigi`` tells a Luigi job we can't translate from a non-Luigi job."""

    def __init__(self, reason: str, *, is_luigi: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.is_luigi = is_luigi


@dataclass
class LuigiInvocation:
    module: str
    family: str
    #: task parameters as (name, value); value None for a flag (``--dry-run``);
    #: placeholders in values stand for command substitutions.
    params: list[tuple[str, str | None]]
    substitutions: dict[str, str] = field(default_factory=dict)  # placeholder -> text as written
    dates: dict[str, DateExpr] = field(default_factory=dict)  # placeholder -> parsed date
    env: dict[str, str] = field(default_factory=dict)  # VAR=value prefixes and `export`s
    cwd: str | None = None
    timeout_seconds: float | None = None
    timeout_text: str | None = None  # as written: "2h"
    notes: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)  # (operator with fd, target), kept in cron

    def shown_params(self) -> list[tuple[str, str]]:
        """(name, value) pairs, substitutions as written in the crontab (a flag's value is "")."""
        return [
            (n, PLACEHOLDER_RE.sub(lambda m: self.substitutions.get(m[0], m[0]), v or ""))
            for n, v in self.params
        ]

    def param_items(self) -> list[tuple[str, str]]:
        """(name, value) pairs of the task parameters (a flag's value is "")."""
        return [(n, v or "") for n, v in self.params]


def parse_command(command: str, wrappers: tuple[str, ...] = ()) -> LuigiInvocation:
    """The Luigi invocation in ``command`` (cron's ``%`` already handled), or CommandError."""
    table: dict[str, str] = {}
    inv = _parse_text(command, wrappers, table)
    used = {m[0] for _, v in inv.params if v for m in PLACEHOLDER_RE.finditer(v)}
    unknown = used - table.keys()
    if unknown:
        raise CommandError(f"unknown substitution {sorted(unknown)[0]}", is_luigi=True)
    inv.substitutions = {k: table[k] for k in sorted(used)}
    for placeholder, written in inv.substitutions.items():
        inner = written[2:-1] if written.startswith("$(") else written[1:-1]
        try:
            inv.dates[placeholder] = parse_date_command(written, inner)
        except DateError as exc:
            raise CommandError(f"can't translate {written}: {exc}", is_luigi=True) from None
    return inv


def _set_aside(command: str, table: dict[str, str]) -> str:
    """Replace each command substitution by a placeholder word recorded in ``table``."""
    try:
        subs = find_substitutions(command)
    except ShellSyntaxError as exc:
        raise CommandError(str(exc), is_luigi="luigi" in command) from None
    pieces: list[str] = []
    pos = 0
    for start, end, _inner in subs:
        key = _PLACEHOLDER.format(len(table))
        table[key] = command[start:end]
        pieces += [command[pos:start], key]
        pos = end
    pieces.append(command[pos:])
    return "".join(pieces)


def _words(text: str) -> list[str]:
    try:
        return words(text)
    except ShellSyntaxError as exc:
        raise CommandError(f"shell syntax: {exc}", is_luigi="luigi" in text) from None


def _segments(tokens: list[str]) -> tuple[list[list[str]], list[str]]:
    """Simple commands and the operators joining them."""
    if _SEPARATORS.isdisjoint(tokens):
        return [tokens], []
    segments: list[list[str]] = [[]]
    joins: list[str] = []
    for w in tokens:
        if isinstance(w, Operator) and w in _SEPARATORS:
            joins.append(w)
            segments.append([])
        else:
            segments[-1].append(w)
    if segments and not segments[-1] and joins and joins[-1] in (";", "&"):
        segments.pop()
        joins.pop()
    return segments, joins


def _check_joins(joins: list[str], luigi_like: bool) -> None:
    for j in joins:
        if j in ("|", "|&"):
            raise CommandError("pipes into another program (its output handling would be lost)", is_luigi=luigi_like)
        if j == "||":
            raise CommandError("runs a fallback command with `||`", is_luigi=luigi_like)
        if j == "&":
            raise CommandError("runs a command in the background with `&`", is_luigi=luigi_like)


def _parse_text(command: str, wrappers: tuple[str, ...], table: dict[str, str]) -> LuigiInvocation:
    text = _set_aside(command, table)
    tokens = _words(text)
    segments, joins = _segments(tokens)
    luigi_like = "luigi" in text or bool(wrappers and any(_matches(w, wrappers) for w in tokens))
    _check_joins(joins, luigi_like)
    env: dict[str, str] = {}
    cwd: str | None = None
    for seg in segments[:-1]:
        cwd = _leading_segment(seg, env, cwd, luigi_like)
    inv = _parse_simple(segments[-1], wrappers, table)
    inv.env = {**env, **inv.env}
    if cwd and inv.cwd and not inv.cwd.startswith("/"):
        inv.cwd = f"{cwd.rstrip('/')}/{inv.cwd}"
    inv.cwd = inv.cwd or cwd
    return inv


def _leading_segment(seg: list[str], env: dict[str, str], cwd: str | None, luigi_like: bool) -> str | None:
    """A command before the job: ``cd DIR`` (returns the new directory) or an environment setting."""
    if seg and seg[0] == "cd" and len(seg) == 2:
        if PLACEHOLDER_RE.search(seg[1]) or "$" in seg[1] or seg[1].startswith("~") or seg[1] == "-":
            raise CommandError(f"cd into a computed directory {seg[1]!r}", is_luigi=luigi_like)
        return seg[1] if cwd is None or seg[1].startswith("/") else f"{cwd.rstrip('/')}/{seg[1]}"
    if seg and seg[0] == "export" and all("=" in a for a in seg[1:]):
        env.update(a.split("=", 1) for a in seg[1:])
        return cwd
    if seg and all(_assignment(a) for a in seg):
        env.update(a.split("=", 1) for a in seg)
        return cwd
    raise CommandError(
        f"runs `{' '.join(seg)}` before the job; only `cd DIR` and `export VAR=...` can move", is_luigi=luigi_like
    )


def _assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and name.isidentifier()


def _matches(word: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(word, p) or fnmatch.fnmatchcase(word.rsplit("/", 1)[-1], p) for p in patterns)


def _strip_redirects(tokens: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """The words without redirections, and the redirections as (operator with fd, target)."""
    if not any(isinstance(w, Operator) and w.lstrip("0123456789") in _REDIRECTS for w in tokens):
        return tokens, []
    out: list[str] = []
    redirects: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        w = tokens[i]
        if isinstance(w, Operator) and w.lstrip("0123456789") in _REDIRECTS:
            redirects.append((w, tokens[i + 1] if i + 1 < len(tokens) else ""))
            i += 2
            continue
        out.append(w)
        i += 1
    return out, redirects


def _duration(text: str) -> float | None:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text and text[-1] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        return None


@dataclass
class _Around:
    """What the programs wrapped around the Luigi command contribute."""

    wrappers: tuple[str, ...]
    table: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timeout: float | None = None
    timeout_text: str | None = None


#: A wrapper program's handler: the words after it, or the finished invocation.
_Handler = Callable[[list[str], _Around], "list[str] | LuigiInvocation"]


def _pass_through(rest: list[str], around: _Around) -> list[str]:
    return rest


def _nice(rest: list[str], around: _Around) -> list[str]:
    return _skip_options(rest, valued={"-n", "--adjustment"})


def _ionice(rest: list[str], around: _Around) -> list[str]:
    return _skip_options(rest, valued={"-c", "-n", "--class", "--classdata"})


def _timeout(rest: list[str], around: _Around) -> list[str]:
    rest = _skip_options(rest, valued={"-s", "-k", "--signal", "--kill-after"})
    if not rest:
        raise CommandError("timeout without a command", is_luigi=False)
    around.timeout_text = rest[0]
    around.timeout = _duration(rest.pop(0))
    return rest


def _env(rest: list[str], around: _Around) -> list[str]:
    while rest and (rest[0].startswith("-") or _assignment(rest[0])):
        w = rest.pop(0)
        if w in ("-i", "--ignore-environment"):
            around.notes.append("env -i: the job ran with an empty environment; the runner inherits the worker's")
        elif w in ("-u", "--unset"):
            rest = rest[1:]
        elif _assignment(w):
            k, v = w.split("=", 1)
            around.env[k] = v
    return rest


def _flock(rest: list[str], around: _Around) -> list[str] | LuigiInvocation:
    rest = _skip_options(
        rest, valued={"-w", "--wait", "--timeout", "-E", "--conflict-exit-code"}, stop={"-c", "--command"}
    )
    if len(rest) < 2:
        raise CommandError("flock without a command", is_luigi=False)
    around.notes.append(f"flock {rest[0]} replaced by the runner's lock (same task, one runner at a time)")
    if rest[1] not in ("-c", "--command"):
        return rest[1:]
    if len(rest) < 3:
        raise CommandError("flock -c without a command", is_luigi=False)
    inner = _parse_text(rest[2], around.wrappers, around.table)
    inner.env = {**around.env, **inner.env}
    inner.notes = around.notes + inner.notes
    inner.timeout_seconds = inner.timeout_seconds or around.timeout
    inner.timeout_text = inner.timeout_text or around.timeout_text
    return inner


def _luigi(rest: list[str], around: _Around) -> LuigiInvocation:
    return _luigi_args(rest)


def _runner(rest: list[str], around: _Around) -> LuigiInvocation:
    """``luigi-fargate run [options] MODULE FAMILY params``: a --cutover line read back."""
    if rest[:1] != ["run"]:
        raise CommandError("runs luigi-fargate without `run`", is_luigi=True)
    rest = _skip_options(rest[1:], valued=_RUNNER_VALUED)
    if len(rest) < 2:
        raise CommandError("luigi-fargate run without MODULE FAMILY", is_luigi=True)
    inv = LuigiInvocation(rest[0], rest[1], _task_params(rest[2:]))
    inv.notes.append("already runs through the luigi-fargate runner (a --cutover line)")
    return inv


_HANDLERS: dict[str, _Handler] = {
    "nohup": _pass_through, "chronic": _pass_through, "setsid": _pass_through, "nice": _nice, "ionice": _ionice,
    "timeout": _timeout, "env": _env, "flock": _flock, "luigi": _luigi, "luigi-fargate": _runner,
}  # fmt: skip


def _handler_for(tokens: list[str], around: _Around) -> tuple[_Handler, list[str]]:
    """The handler of the program ``tokens`` starts with, and its arguments."""
    prog = tokens[0].rsplit("/", 1)[-1]
    if _matches(tokens[0], around.wrappers):
        around.notes.append(f"wrapper script {tokens[0]} replaced by the luigi-fargate runner")
        return _luigi, tokens[1:]
    if _PYTHON.match(prog) and tokens[1:3] == ["-m", "luigi"]:
        return _luigi, tokens[3:]
    if prog in _HANDLERS:
        return _HANDLERS[prog], tokens[1:]
    shown = tokens[0] if not PLACEHOLDER_RE.search(tokens[0]) else "a computed command"
    raise CommandError(f"runs {shown}, not Luigi", is_luigi=False)


def _parse_simple(tokens: list[str], wrappers: tuple[str, ...], table: dict[str, str]) -> LuigiInvocation:
    """The job's own simple command: assignments, wrapper programs, then Luigi."""
    tokens, redirects = _strip_redirects(tokens)
    around = _Around(wrappers, table)
    while tokens and _assignment(tokens[0]):
        k, v = tokens.pop(0).split("=", 1)
        around.env[k] = v
    result: list[str] | LuigiInvocation = tokens
    while isinstance(result, list):
        if not result:
            raise CommandError("no command", is_luigi=False)
        handler, rest = _handler_for(result, around)
        result = handler(rest, around)
        if isinstance(result, LuigiInvocation) and handler is _flock:
            return result  # flock -c '...': the inner command was parsed as a whole
    inv = result
    inv.env = {**around.env, **inv.env}
    inv.notes = around.notes + inv.notes
    inv.timeout_seconds, inv.timeout_text = around.timeout, around.timeout_text
    inv.redirects = redirects
    return inv


def _skip_options(tokens: list[str], valued: set[str], stop: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The words after a wrapper's options (``valued`` ones take an argument; ``stop`` ends them)."""
    i = 0
    while i < len(tokens) and tokens[i].startswith("-") and tokens[i] not in stop and not tokens[i].lstrip("-").isdigit():
        opt = tokens[i].split("=", 1)[0]
        i += 2 if opt in valued and "=" not in tokens[i] else 1
    if i < len(tokens) and tokens[i].startswith("-") and tokens[i].lstrip("-").isdigit():
        i += 1  # nice -10
    return tokens[i:]


def _luigi_args(tokens: list[str]) -> LuigiInvocation:
    module: str | None = None
    family: str | None = None
    dropped: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        w = tokens[i]
        opt = w.split("=", 1)[0]
        if opt == "--module":
            module = w.split("=", 1)[1] if "=" in w else (tokens[i + 1] if i + 1 < len(tokens) else None)
            i += 1 if "=" in w else 2
        elif opt in _CORE_FLAGS:
            dropped.append(w)
            i += 1
        elif opt in _CORE_VALUED or (opt.startswith(_CORE_SECTIONS) and family is None):
            takes_value = "=" not in w and i + 1 < len(tokens) and not tokens[i + 1].startswith("--")
            dropped.append(" ".join(tokens[i : i + (2 if takes_value else 1)]))
            i += 2 if takes_value else 1
        elif family is None and not w.startswith("-"):
            family = w
            i += 1
        else:
            rest.append(w)
            i += 1
    if family is None:
        raise CommandError("luigi without a task family", is_luigi=True)
    if module is None:
        if "." not in family:
            raise CommandError(f"luigi {family} without --module: can't tell which module defines it", is_luigi=True)
        module, family = family.rsplit(".", 1)
    inv = LuigiInvocation(module, family, _task_params(rest))
    if dropped:
        inv.notes.append("dropped Luigi options (the runner runs one task with its own lock): " + " ".join(dropped))
    return inv


def _task_params(tokens: list[str]) -> list[tuple[str, str | None]]:
    """``--name value`` / ``--name=value`` / ``--flag`` words as (name, value) pairs, as Luigi's parser reads them."""
    out: list[tuple[str, str | None]] = []
    i = 0
    while i < len(tokens):
        w = tokens[i]
        if not w.startswith("--") or not _PARAM_NAME.match(w[2:].split("=", 1)[0]):
            raise CommandError(
                f"argument {shlex.quote(w)} is not a task parameter (--name value); fix the crontab line",
                is_luigi=True,
            )
        name, eq, value = w[2:].partition("=")
        if eq:
            out.append((name, value))
            i += 1
        elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
            out.append((name, tokens[i + 1]))
            i += 2
        else:
            out.append((name, None))  # a BoolParameter given as a flag
            i += 1
    return out
