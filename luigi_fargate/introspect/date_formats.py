"""strftime formats of run dates written as strings: which are safe, what they resolve to, how to read them back.

A string parameter bound with ``--bind report_date=ds:%m/%d/%Y`` is written
with that format on every run (Airflow's Jinja, verify and the runner all call
Python's ``strftime``, which is the C library's, as GNU ``date`` is). The
format must be readable back to the period it names (the anchor the export's
value stands for), so it needs the year and every field down to its
resolution; locale-dependent directives (``%a``, ``%b``, ``%p``) are refused
because the Airflow worker's locale decides them.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from luigi_fargate.introspect import date_math
from luigi_fargate.spec.dates import DateUnit

#: Directive -> the resolution it shows. %U/%W count weeks from the year's first Sunday/Monday,
#: not ISO weeks, so truncating to an ISO week could change them: they count as days.
DIRECTIVES: dict[str, DateUnit | None] = {
    "Y": DateUnit.YEAR, "y": DateUnit.YEAR, "G": DateUnit.WEEK, "V": DateUnit.WEEK,
    "m": DateUnit.MONTH, "d": DateUnit.DAY, "e": DateUnit.DAY, "j": DateUnit.DAY, "u": DateUnit.DAY,
    "w": DateUnit.DAY, "U": DateUnit.DAY, "W": DateUnit.DAY, "H": DateUnit.HOUR, "M": DateUnit.MINUTE,
    "S": DateUnit.SECOND, "%": None,
}  # fmt: skip
#: GNU/C shorthands, written out when a binding is parsed (Python's strptime doesn't read them).
SHORTHANDS = {"F": "%Y-%m-%d", "T": "%H:%M:%S", "D": "%m/%d/%y", "R": "%H:%M"}
#: Characters a format may hold besides directives: it is written into a Jinja string literal.
_PLAIN = re.compile(r"^[A-Za-z0-9 _.,:;/+\-=#@~^()\[\]]*$")

#: Formats a date is commonly written in, for suggestions and for noticing frozen dates.
COMMON_FORMATS = (
    "%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%dT%H", "%Y%m%d%H",
    "%Y-%m-%dT%H%M", "%Y-%m", "%Y%m", "%G-W%V",
)  # fmt: skip

#: Moments the read-back check tries: year ends, a leap day, ISO week 53, afternoons (%I without %p).
_PROBES = tuple(
    dt.datetime(*t)
    for t in ((2026, 12, 31, 23, 59, 58), (2027, 1, 1, 13, 5, 7), (2024, 2, 29, 9, 41, 3), (2021, 1, 3, 17, 0, 0))
)


class FormatError(ValueError):
    """A format that can't be used for a run date; the message says why and what to write."""


def directives(fmt: str) -> list[str]:
    """The directive letters of ``fmt`` in order (``%%`` included as ``%``)."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            out.append(fmt[i + 1 : i + 2])
            i += 2
        else:
            i += 1
    return out


def expand(fmt: str) -> str:
    """``fmt`` with %F %T %D %R written out."""
    out, i = "", 0
    while i < len(fmt):
        if fmt[i] == "%" and fmt[i + 1 : i + 2] in SHORTHANDS:
            out += SHORTHANDS[fmt[i + 1]]
            i += 2
        elif fmt[i] == "%":
            out += fmt[i : i + 2]
            i += 2
        else:
            out += fmt[i]
            i += 1
    return out


def resolution(fmt: str) -> DateUnit:
    """The finest unit ``fmt`` shows: a run's anchor is truncated to it."""
    units = [DIRECTIVES[d] for d in directives(fmt) if DIRECTIVES.get(d)]
    return min(units, key=lambda u: u.rank)  # type: ignore[arg-type,return-value]


def parse(value: str, fmt: str) -> dt.datetime:
    """``value`` read with ``fmt`` (ValueError if it doesn't match); ISO weeks read as their Monday."""
    ds = directives(fmt)
    if "V" in ds and not {"u", "w"} & set(ds):
        value, fmt = value + " 1", fmt + " %u"
    return dt.datetime.strptime(value, fmt.replace("%e", "%d"))


def check(fmt: str, read_back: bool = True) -> tuple[str, DateUnit]:
    """(the format written out, its resolution), or FormatError naming the problem.

    ``read_back=False`` is for text only ever written, never read as a date
    (a crontab's ``$(date +%j)`` inside a string): it may lack the year.
    """
    if not _PLAIN.match(fmt.replace("%", "")):
        raise FormatError(f"format {fmt!r} may hold only letters, digits, spaces and - _ . , : ; / + = # @ ~ ^ ( ) [ ]")
    fmt = expand(fmt)
    ds = directives(fmt)
    bad = [d for d in ds if d not in DIRECTIVES]
    if bad:
        shown = "%" + bad[0] if bad[0] else "a lone % at the end"
        raise FormatError(
            f"format {fmt!r}: {shown} is not supported (use %Y %y %m %d %e %j %H %M %S %G %V %u %w %U %W, "
            "%F %T %D %R; names of days and months depend on the worker's locale)"
        )
    if not [d for d in ds if d != "%"]:
        raise FormatError(f"format {fmt!r} has no date directive; e.g. %Y-%m-%d or %m/%d/%Y")
    unit = resolution(fmt)
    for probe in _PROBES if read_back else ():
        moment = date_math.truncate(probe, unit)
        try:
            back = parse(moment.strftime(fmt), fmt)
        except ValueError:
            back = None
        if back != moment:
            raise FormatError(
                f"format {fmt!r} can't be read back to the date it was written from (e.g. {moment:%Y-%m-%d %H:%M}); "
                "it needs the year (%Y, or %G with %V) and every field down to its finest one"
            )
    return fmt, unit


#: What each directive writes (strftime pads with zeros), to rule formats out before strptime.
_WRITES = {"Y": r"\d{4}", "G": r"\d{4}", "j": r"\d{3}", "e": r"[ \d]\d", "u": "[1-7]", "w": "[0-6]", "%": "%"}


@cache
def _shape(fmt: str) -> re.Pattern[str]:
    """A regex every string ``fmt`` writes matches."""
    out, i = "", 0
    while i < len(fmt):
        if fmt[i] == "%":
            out += _WRITES.get(fmt[i + 1 : i + 2], r"\d{2}")
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return re.compile(out)


@cache
def matching_formats(value: str, formats: tuple[str, ...] = COMMON_FORMATS) -> list[str]:
    """The formats among ``formats`` that write some moment exactly as ``value`` (don't change the list)."""
    if not (4 <= len(value) <= 20) or not any(c.isdigit() for c in value):
        return []
    out = []
    for fmt in formats:
        if not _shape(fmt).fullmatch(value):
            continue
        try:
            if parse(value, fmt).strftime(fmt) == value:
                out.append(fmt)
        except ValueError:
            continue
    return out
