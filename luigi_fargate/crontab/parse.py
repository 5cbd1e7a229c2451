"""Read a crontab into numbered lines: blank, comment, environment, job or malformed.

Cron itself tokenizes a job line on whitespace: five schedule fields (or one
``@preset``), an optional user column in the system crontab, then the
command. Environment lines are ``NAME = VALUE`` (value optionally quoted) and
apply to every job *below* them, exactly as cron's ``load_env`` does, so the
environment is accumulated line by line here. Field values are validated by
croniter (ranges, steps, names, ``L``), not by regexes of our own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from luigi_fargate.crontab.schedule import Schedule, ScheduleError, parse_schedule
from luigi_fargate.errors import UserError


@dataclass
class CrontabLine:
    """One physical line of a crontab, with the environment cron gives it."""

    number: int  # 1-based
    text: str  # without the line ending
    kind: str  # blank | comment | env | job | malformed
    env: dict[str, str] = field(default_factory=dict)  # for jobs: the environment lines above
    schedule: Schedule | None = None
    user: str | None = None  # system crontab user column
    command: str = ""  # as sh gets it: after cron's ``%`` rule (``\\%`` unescaped)
    stdin: str | None = None  # text after the first unescaped ``%``: cron feeds it to stdin
    error: str = ""  # for malformed lines: what is wrong


#: What C's isspace() calls blank, minus the newline that ends the line: cron skips these.
_BLANKS = " \t\r\f\v"
#: Cron separates the schedule fields, the user and the command by spaces and tabs only.
_FIELD_SEPARATOR = re.compile(r"[ \t]+")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_PERCENT_SCAN = re.compile(r"\\[\s\S]|%")


def split_percent(command: str) -> tuple[str, str | None]:
    """Cron's ``%`` rule, as cronie and Vixie cron apply it (do_command.c).

    A backslash makes the next character literal; only in ``\\%`` is the
    backslash removed. The first ``%`` not so escaped ends the command, and
    the rest, with every ``%`` turned into a newline, is the job's stdin.
    So ``\\\\%`` is a backslash followed by an unescaped ``%``. Returns the
    command as sh sees it and the stdin text (None when there is none).
    """
    for m in _PERCENT_SCAN.finditer(command):
        if m[0] == "%":
            head = command[: m.start()]
            return _unescape_percents(head), command[m.end() :].replace("%", "\n")
    return _unescape_percents(command), None


def _unescape_percents(text: str) -> str:
    if "\\%" not in text:
        return text
    return _PERCENT_SCAN.sub(lambda m: "%" if m[0] == "\\%" else m[0], text)


def crontab_lines(text: str) -> list[str]:
    """The lines cron reads: only ``\\n`` ends one (form feed, lone CR, U+2028, NEL don't).

    A ``\\r`` right before the ``\\n`` is taken as part of the line ending.
    """
    pieces = text.split("\n")
    if pieces and pieces[-1] == "":
        pieces.pop()  # the text ends with a newline: no line after it
    return [p[:-1] if p.endswith("\r") else p for p in pieces]


def _env_assignment(text: str) -> tuple[str, str] | None:
    """``NAME = value`` / ``NAME="value"`` as cron reads it, or None."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name or any(c.isspace() for c in name) or name[0].isdigit() or name[0] in "*@":
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return name, value


def parse_crontab(text: str, *, system: bool = False) -> list[CrontabLine]:
    """Every line of ``text`` classified; never raises for bad content."""
    env: dict[str, str] = {}
    lines: list[CrontabLine] = []
    for number, raw in enumerate(crontab_lines(text), start=1):
        stripped = raw.strip(_BLANKS)
        if _NOT_UTF8.search(raw):  # bytes that aren't UTF-8 (kept by surrogateescape)
            lines.append(
                CrontabLine(
                    number, raw, "malformed", error="not valid UTF-8 text; fix the encoding of this line"
                )
            )
            continue
        if not stripped:
            lines.append(CrontabLine(number, raw, "blank"))
            continue
        if stripped.startswith("#"):
            lines.append(CrontabLine(number, raw, "comment"))
            continue
        assignment = None if stripped[0] in "*@0123456789" else _env_assignment(stripped)
        if assignment:
            env[assignment[0]] = assignment[1]
            lines.append(CrontabLine(number, raw, "env", env={assignment[0]: assignment[1]}))
            continue
        lines.append(_job_line(number, raw, dict(env), system))
    return lines


def _job_line(number: int, raw: str, env: dict[str, str], system: bool) -> CrontabLine:
    stripped = raw.strip(_BLANKS)
    n_fields = 1 if stripped.startswith("@") else 5
    parts = _FIELD_SEPARATOR.split(stripped, maxsplit=n_fields + (1 if system else 0))
    expected = n_fields + (2 if system else 1)
    if len(parts) < expected:
        what = "@preset" if n_fields == 1 else "five schedule fields"
        user = ", a user" if system else ""
        return CrontabLine(number, raw, "malformed", env=env, error=f"expected {what}{user} and a command")
    try:
        schedule = parse_schedule(" ".join(parts[:n_fields]))
    except ScheduleError as exc:
        return CrontabLine(number, raw, "malformed", env=env, error=str(exc))
    user = parts[n_fields] if system else None
    command_text = parts[-1]
    command, stdin = split_percent(command_text)
    return CrontabLine(
        number, raw, "job", env=env, schedule=schedule, user=user, command=command, stdin=stdin
    )


def read_crontab(path: str | Path) -> tuple[bytes, str]:
    """The file's exact bytes and its text (undecodable bytes kept via surrogateescape)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise UserError(f"{p}: is a directory; pass a crontab file (e.g. `crontab -l > my.cron`)") from None
    except OSError as exc:
        raise UserError(
            f"{p}: can't read the crontab ({exc.strerror}); check the path and permissions"
        ) from None
    return data, data.decode("utf-8", errors="surrogateescape")
