"""Read a crontab into numbered lines: blank, comment, environment, job or malformed.

Cron itself tokenizes a job line on whitespace: five schedule fields (or one
``@preset``), an optional user column in the system crontab, then the
command. Environment lines are ``NAME = VALUE`` (value optionally quoted) and
apply to every job *below* them, exactly as cron's ``load_env`` does, so the
environment is accumulated line by line here. Field values are validated by
croniter (ranges, steps, names, ``L``), not by regexes of our own.
"""

from __future__ import annotations

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
    command: str = ""  # as written (``\\%`` still escaped)
    stdin: str | None = None  # text after the first unescaped ``%``: cron feeds it to stdin
    error: str = ""  # for malformed lines: what is wrong


def split_percent(command: str) -> tuple[str, str | None]:
    """Cron's ``%`` rule: the first unescaped ``%`` ends the command; the rest is stdin.

    ``\\%`` stands for a literal ``%`` (the backslash is removed). Returns the
    command with escapes removed and the stdin text (None when there is none).
    """
    out: list[str] = []
    i = 0
    while i < len(command):
        ch = command[i]
        if ch == "\\" and i + 1 < len(command) and command[i + 1] == "%":
            out.append("%")
            i += 2
            continue
        if ch == "%":
            return "".join(out), command[i + 1 :].replace("%", "\n")
        out.append(ch)
        i += 1
    return "".join(out), None


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
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if any("\udc80" <= c <= "\udcff" for c in raw):  # bytes that aren't UTF-8 (kept by surrogateescape)
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
    stripped = raw.strip()
    n_fields = 1 if stripped.startswith("@") else 5
    parts = stripped.split(None, n_fields + (1 if system else 0))
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
