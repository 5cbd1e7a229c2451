"""Shell date expressions (``$(date +%F)``, backticks, ``-d yesterday``) as Airflow templates.

A cron job computes its run date when the shell expands ``$(date ...)`` at
the fire time, in the job's time zone (``TZ`` from the crontab, else the
host's; ``-u`` means UTC). In Airflow the same instant is the run's
``logical_date`` (CronTriggerTimetable), so each expression becomes a Jinja
expression over ``dag_run.logical_date`` that formats the same wall clock.
Only what can be reproduced exactly is translated; the rest is reported.

A value that is one whole ``date`` call (``--date $(date -d yesterday +%F)``)
becomes a run-date binding instead, when the parameter is a Luigi date or
interval parameter: :meth:`DateExpr.expression` gives the shared
:class:`~luigi_fargate.introspect.bindings.DateExpression`, and
:func:`~luigi_fargate.introspect.bindings.binding_for` the ``--bind`` value
export uses, so what derives from the date upstream follows the run too.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from dataclasses import dataclass

from luigi_fargate.introspect.bindings import (
    BindingRefused,
    DateExpression,
    expression_rule,
    expression_template,
    expression_value,
)
from luigi_fargate.spec.dates import DateUnit, Shift

#: GNU date conversions we reproduce: numeric, locale-free, the C library's strftime in both.
_SAFE_DIRECTIVES = set("YmdHMyjGVuwF%")  # not %e: its padding space splits an unquoted $(date) into words
#: One relative item of a ``-d`` string: ``1 day ago``, ``-2 days``, ``+3 hours``.
_RELATIVE = re.compile(r"([+-]?\d+)?\s*(day|week|hour)s?\b(\s+ago)?")
_WORDS = {"yesterday": -1, "today": 0, "now": 0, "tomorrow": 1}


class DateError(ValueError):
    """A date expression we can't reproduce exactly; the message says why."""


@dataclass(frozen=True)
class DateExpr:
    """``date [-u] [-d STRING] +FORMAT``, reduced to what decides its output."""

    text: str  # as written, e.g. "$(date -d yesterday +%F)"
    fmt: str  # Python strftime format
    days: int = 0  # calendar-day shift on the wall clock (GNU: "1 day ago")
    hours: int = 0  # elapsed-time shift (GNU: "2 hours ago")
    utc: bool = False

    def expression(self, zone: str) -> DateExpression:
        """The same computation as shared data, run with ``TZ=zone`` (``-u``: UTC)."""
        shift = (Shift(self.hours, DateUnit.HOUR),) if self.hours else ()
        shift += (Shift(self.days, DateUnit.DAY),) if self.days else ()
        return DateExpression("UTC" if self.utc else zone, self.fmt, shift)


def parse_date_command(text: str, inner: str) -> DateExpr:
    """``date -d yesterday +%F`` (the inside of a substitution) -> DateExpr."""
    try:
        words = shlex.split(inner)
    except ValueError as exc:
        raise DateError(f"{text}: {exc}") from None
    if not words or words[0].rsplit("/", 1)[-1] != "date":
        raise DateError(f"{text}: only `date` substitutions can be translated")
    fmt, when, utc = _date_options(text, words[1:])
    if any(c.isspace() for c in fmt):
        raise DateError(f"{text}: a format with spaces: the shell splits an unquoted $(date) into words there; "
                        "write the format without spaces (e.g. %Y-%m)")  # fmt: skip
    if when is not None and not when.strip():
        raise DateError(f"{text}: an empty date string means midnight today to GNU date, not now; drop -d ''")
    days, hours = _relative(text, when or "")
    expr = DateExpr(text, _python_format(text, fmt), days, hours, utc)
    try:
        expression_rule(expr.expression("UTC"), read_back=False)
    except BindingRefused as exc:
        raise DateError(f"{text}: {exc}") from None
    return expr


def _date_options(text: str, words: list[str]) -> tuple[str, str | None, bool]:
    """(+FORMAT, the -d string or None, -u) of date's arguments; DateError for anything else."""
    fmt, when, utc = None, None, False
    args = iter(words)
    for w in args:
        if w in ("-u", "--utc", "--universal"):
            utc = True
        elif w in ("-d", "--date"):
            when = next(args, "")
        elif w.startswith("--date="):
            when = w.split("=", 1)[1]
        elif w.startswith("-d") and len(w) > 2:
            when = w[2:]
        elif w.startswith("+") and fmt is None:
            fmt = w[1:]
        else:
            raise DateError(f"{text}: option {w!r} of date is not supported")
    if fmt is None:
        raise DateError(f"{text}: date without +FORMAT prints a locale-dependent string")
    return fmt, when, utc


def _python_format(text: str, fmt: str) -> str:
    i = 0
    while i < len(fmt):
        if fmt[i] == "%":
            d = fmt[i + 1 : i + 2]
            if d not in _SAFE_DIRECTIVES:
                raise DateError(f"{text}: format %{d} is not supported (use %Y %m %d %H %M %y %j %G %V %u %w %F)")
            i += 2
        else:
            i += 1
    return fmt.replace("%F", "%Y-%m-%d")


def _relative(text: str, when: str) -> tuple[int, int]:
    s = when.strip().lower()
    if s in _WORDS:
        return _WORDS[s], 0
    days = hours = 0
    pos = 0
    for m in _RELATIVE.finditer(s):
        if s[pos : m.start()].strip():
            break
        n = int(m[1] or 1) * (-1 if m[3] else 1)
        if m[2] == "hour":
            hours += n
        else:
            days += n * (7 if m[2] == "week" else 1)
        pos = m.end()
    if s[pos:].strip():
        raise DateError(
            f"{text}: date string {when!r} is not supported (use yesterday, 'N days ago', '-N hours')"
        )
    if days and hours:
        raise DateError(f"{text}: mixing day and hour offsets is not supported")
    return days, hours


def shell_value(expr: DateExpr, fire: dt.datetime, zone: str) -> str:
    """What ``date`` prints when cron starts the job at ``fire`` with TZ=``zone``."""
    return expression_value(expr.expression(zone), fire)


def template(expr: DateExpr, zone: str, dag_zone: str) -> str:
    """The Jinja template Airflow renders to :func:`shell_value` for the run (export's own helper)."""
    return expression_template(expr.expression(zone), dag_zone)
