"""Find the Luigi invocation inside a cron job's shell command.

Handles what crontabs around Luigi look like in practice: ``cd DIR &&``,
``VAR=value`` prefixes, redirects, ``flock``/``timeout``/``nice``/``ionice``/
``nohup``/``env`` wrappers (``flock -c '...'`` too), ``luigi --module m Task``,
``python -m luigi``, ``luigi m.Task``, and in-house wrapper scripts given as
glob patterns (a wrapper is a program that passes its arguments on to Luigi).
Words come from :mod:`shlex`; command substitutions are set aside first and
handed to :mod:`luigi_fargate.crontab.dates` when they appear in a parameter.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field

from luigi_fargate.crontab.dates import DateError, DateExpr, find_substitutions, parse_date_command

_PLACEHOLDER = "__LFSUB{}__"
_PLACEHOLDER_RE = re.compile(r"__LFSUB(\d+)__")
_SEPARATORS = {"&&", ";", "||", "|", "|&", "&", ";;"}
_REDIRECTS = {">", ">>", "<", ">&", "&>", "&>>", "<&", ">|", "<<", "<<<", "<>"}
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
#: Luigi options that configure the worker/scheduler, not the task: dropped, since
#: the runner runs exactly one task and brings its own lock.
_CORE_FLAGS = {
    "--local-scheduler",
    "--no-lock",
    "--take-lock",
    "--parallel-scheduling",
    "--assistant",
    "--help",
    "--help-all",
}
_CORE_VALUED = {"--workers", "--scheduler-host", "--scheduler-port", "--scheduler-url", "--lock-size", "--lock-pid-dir",
                "--log-level", "--logging-conf-file", "--parallel-scheduling-processes"}  # fmt: skip
_CORE_SECTIONS = (
    "--worker-",
    "--core-",
    "--scheduler-",
    "--retcode-",
    "--execution-summary-",
    "--email-",
    "--smtp-",
)


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
    params: list[str]  # task parameters; placeholders stand for substitutions
    substitutions: dict[str, str] = field(default_factory=dict)  # placeholder -> text as written
    dates: dict[str, DateExpr] = field(default_factory=dict)  # placeholder -> parsed date
    env: dict[str, str] = field(default_factory=dict)  # VAR=value prefixes and `export`s
    cwd: str | None = None
    timeout_seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    redirects: str = ""  # e.g. " >> /var/log/x.log 2>&1", kept when the line stays in cron

    def shown_params(self) -> list[tuple[str, str]]:
        """Like :meth:`param_items`, with substitutions as written in the crontab."""
        return [
            (n, _PLACEHOLDER_RE.sub(lambda m: self.substitutions.get(m[0], m[0]), v))
            for n, v in self.param_items()
        ]

    def param_items(self) -> list[tuple[str, str]]:
        """(name, value) pairs of ``--name value`` task parameters."""
        out, it = [], iter(self.params)
        for word in it:
            if word.startswith("--"):
                name, eq, value = word[2:].partition("=")
                if not eq:
                    value = next(it, "")
                out.append((name, value))
        return out


def parse_command(command: str, wrappers: tuple[str, ...] = ()) -> LuigiInvocation:
    """The Luigi invocation in ``command`` (cron's ``%`` already handled), or CommandError."""
    table: dict[str, str] = {}
    inv = _parse_text(command, wrappers, table)
    inv.substitutions = {k: v for k, v in table.items() if any(k in p for p in inv.params)}
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
    except DateError as exc:
        raise CommandError(str(exc), is_luigi="luigi" in command) from None
    text = command
    for start, end, _inner in reversed(subs):
        key = _PLACEHOLDER.format(len(table))
        table[key] = command[start:end]
        text = text[:start] + key + text[end:]
    return text


_FD_REDIRECT = re.compile(r"(?<![\w/.=-])(\d)(?=[<>])")
_FD_WORD = re.compile(r"^__LFFD(\d)__$")


def _words(text: str) -> list[str]:
    # shlex splits "2>&1" into "2", ">&", "1", losing that the 2 touched the ">": mark it.
    text = _FD_REDIRECT.sub(r"__LFFD\1__ ", text)
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:
        raise CommandError(f"shell syntax: {exc}", is_luigi="luigi" in text) from None


def _parse_text(command: str, wrappers: tuple[str, ...], table: dict[str, str]) -> LuigiInvocation:
    text = _set_aside(command, table)
    words = _words(text)
    segments: list[list[str]] = [[]]
    joins: list[str] = []
    for w in words:
        if w in _SEPARATORS:
            joins.append(w)
            segments.append([])
        else:
            segments[-1].append(w)
    if segments and not segments[-1] and joins and joins[-1] in (";", "&"):
        segments.pop()
        joins.pop()
    luigi_like = "luigi" in text or any(_matches(w, wrappers) for w in words)
    for j in joins:
        if j in ("|", "|&"):
            raise CommandError(
                "pipes into another program (its output handling would be lost)", is_luigi=luigi_like
            )
        if j == "||":
            raise CommandError("runs a fallback command with `||`", is_luigi=luigi_like)
        if j == "&":
            raise CommandError("runs a command in the background with `&`", is_luigi=luigi_like)
    env: dict[str, str] = {}
    cwd: str | None = None
    for seg in segments[:-1]:
        if seg and seg[0] == "cd" and len(seg) == 2:
            if _PLACEHOLDER_RE.search(seg[1]) or "$" in seg[1]:
                raise CommandError(f"cd into a computed directory {seg[1]!r}", is_luigi=luigi_like)
            cwd = seg[1] if cwd is None or seg[1].startswith("/") else f"{cwd.rstrip('/')}/{seg[1]}"
        elif seg and seg[0] == "export" and all("=" in a for a in seg[1:]):
            env.update(a.split("=", 1) for a in seg[1:])
        elif seg and all(_assignment(a) for a in seg):
            env.update(a.split("=", 1) for a in seg)
        else:
            shown = " ".join(seg)
            raise CommandError(
                f"runs `{shown}` before the job; only `cd DIR` and `export VAR=...` can move",
                is_luigi=luigi_like,
            )
    inv = _parse_simple(segments[-1], wrappers, table)
    inv.env = {**env, **inv.env}
    if cwd and inv.cwd and not inv.cwd.startswith("/"):
        inv.cwd = f"{cwd.rstrip('/')}/{inv.cwd}"
    inv.cwd = inv.cwd or cwd
    return inv


def _assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return bool(eq) and name.isidentifier()


def _matches(word: str, patterns: tuple[str, ...]) -> bool:
    return any(
        fnmatch.fnmatchcase(word, p) or fnmatch.fnmatchcase(word.rsplit("/", 1)[-1], p) for p in patterns
    )


def _strip_redirects(words: list[str]) -> tuple[list[str], str]:
    """The words without redirections, and the redirections as shell text."""
    out: list[str] = []
    redirects = ""
    i = 0
    while i < len(words):
        w = words[i]
        if w in _REDIRECTS:
            fd = _FD_WORD.sub(r"\1", out.pop()) if out and _FD_WORD.match(out[-1]) else ""  # 2>&1
            target = words[i + 1] if i + 1 < len(words) else ""
            redirects += f" {fd}{w}{'' if w.endswith('&') else ' '}{shlex.quote(target)}"
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


def _parse_simple(words: list[str], wrappers: tuple[str, ...], table: dict[str, str]) -> LuigiInvocation:
    words, redirects = _strip_redirects(words)
    env: dict[str, str] = {}
    notes: list[str] = []
    timeout: float | None = None
    while words and _assignment(words[0]):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    while words:
        prog = words[0].rsplit("/", 1)[-1]
        if _matches(words[0], wrappers):
            notes.append(f"wrapper script {words[0]} replaced by the luigi-fargate runner")
            inv = _luigi_args(words[1:])
            break
        if prog in ("nohup", "chronic", "setsid"):
            words = words[1:]
        elif prog == "nice":
            words = _skip_options(words[1:], valued={"-n", "--adjustment"}, stop=set())
        elif prog == "ionice":
            words = _skip_options(words[1:], valued={"-c", "-n", "--class", "--classdata"}, stop=set())
        elif prog == "timeout":
            words = _skip_options(words[1:], valued={"-s", "-k", "--signal", "--kill-after"}, stop=set())
            if not words:
                raise CommandError("timeout without a command", is_luigi=False)
            timeout = _duration(words.pop(0))
        elif prog == "env":
            words = words[1:]
            while words and (words[0].startswith("-") or _assignment(words[0])):
                w = words.pop(0)
                if w in ("-i", "--ignore-environment"):
                    notes.append(
                        "env -i: the job ran with an empty environment; the runner inherits the worker's"
                    )
                elif w in ("-u", "--unset"):
                    words = words[1:]
                elif _assignment(w):
                    k, v = w.split("=", 1)
                    env[k] = v
        elif prog == "flock":
            rest = _skip_options(
                words[1:],
                valued={"-w", "--wait", "--timeout", "-E", "--conflict-exit-code"},
                stop={"-c", "--command"},
            )
            if len(rest) < 2:
                raise CommandError("flock without a command", is_luigi=False)
            notes.append(f"flock {rest[0]} replaced by the runner's lock (same task, one runner at a time)")
            if rest[1] in ("-c", "--command"):
                if len(rest) < 3:
                    raise CommandError("flock -c without a command", is_luigi=False)
                inner = _parse_text(rest[2], wrappers, table)
                inner.env = {**env, **inner.env}
                inner.notes = notes + inner.notes
                inner.timeout_seconds = inner.timeout_seconds or timeout
                return inner
            words = rest[1:]
        elif prog == "luigi":
            inv = _luigi_args(words[1:])
            break
        elif _PYTHON.match(prog) and words[1:3] == ["-m", "luigi"]:
            inv = _luigi_args(words[3:])
            break
        elif prog == "luigi-fargate" and words[1:2] == ["run"]:
            rest = _skip_options(
                words[2:],
                valued={"--allow", "--lock", "--on-locked", "--lock-timeout", "--lock-poll", "--log-format"},
                stop=set(),
            )
            if len(rest) < 2:
                raise CommandError("luigi-fargate run without MODULE FAMILY", is_luigi=True)
            inv = LuigiInvocation(rest[0], rest[1], _task_params(rest[2:], []))
            inv.notes.append("already runs through the luigi-fargate runner (a --cutover line)")
            break
        else:
            shown = words[0] if not _PLACEHOLDER_RE.search(words[0]) else "a computed command"
            raise CommandError(f"runs {shown}, not Luigi", is_luigi=False)
    else:
        raise CommandError("no command", is_luigi=False)
    inv.env = {**env, **inv.env}
    inv.notes = notes + inv.notes
    inv.timeout_seconds = timeout
    inv.redirects = redirects
    for p in inv.params:
        for m in _PLACEHOLDER_RE.finditer(p):
            if m[0] not in table:
                raise CommandError(f"unknown substitution in {p!r}", is_luigi=True)
    return inv


def _skip_options(words: list[str], valued: set[str], stop: set[str]) -> list[str]:
    """The words after a wrapper's options (``valued`` ones take an argument; ``stop`` ends them)."""
    i = 0
    while (
        i < len(words)
        and words[i].startswith("-")
        and words[i] not in stop
        and not words[i].lstrip("-").isdigit()
    ):
        opt = words[i].split("=", 1)[0]
        i += 2 if opt in valued and "=" not in words[i] else 1
    if i < len(words) and words[i].startswith("-") and words[i].lstrip("-").isdigit():
        i += 1  # nice -10
    return words[i:]


def _luigi_args(words: list[str]) -> LuigiInvocation:
    module: str | None = None
    family: str | None = None
    dropped: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        opt = w.split("=", 1)[0]
        if opt == "--module":
            module = w.split("=", 1)[1] if "=" in w else (words[i + 1] if i + 1 < len(words) else None)
            i += 1 if "=" in w else 2
        elif opt in _CORE_FLAGS:
            dropped.append(w)
            i += 1
        elif opt in _CORE_VALUED or (opt.startswith(_CORE_SECTIONS) and family is None):
            takes_value = "=" not in w and i + 1 < len(words) and not words[i + 1].startswith("--")
            dropped.append(" ".join(words[i : i + (2 if takes_value else 1)]))
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
            raise CommandError(
                f"luigi {family} without --module: can't tell which module defines it", is_luigi=True
            )
        module, family = family.rsplit(".", 1)
    inv = LuigiInvocation(module, family, _task_params(rest, dropped))
    if dropped:
        inv.notes.append(
            "dropped Luigi options (the runner runs one task with its own lock): " + " ".join(dropped)
        )
    return inv


def _task_params(words: list[str], dropped: list[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        if w.startswith("--") and "=" in w:
            out += w.split("=", 1)
        else:
            out.append(w)
    return out
