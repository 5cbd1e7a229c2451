"""``--since`` / ``--until``: an ISO date or time (UTC unless it says otherwise), or an age like ``7d`` or ``12h``."""

from __future__ import annotations

import datetime as dt
import re

from luigi_fargate.errors import UserError

AGE = re.compile(r"^(\d+)([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def moment(option: str, value: str | None, now: dt.datetime | None = None) -> dt.datetime | None:
    """The time an option names; a date alone is its midnight UTC."""
    if not value:
        return None
    text = value.strip()
    age = AGE.match(text)
    if age:
        return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(**{UNITS[age[2]]: int(age[1])})
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{option}={value!r}: expected a date (2026-11-01), a time (2026-11-01T06:00:00Z) or an age (7d, 12h)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def period(since: str | None, until: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    start, end = moment("--since", since), moment("--until", until)
    if start is not None and end is not None and end <= start:
        raise UserError(f"--until={until!r} is not after --since={since!r}; give a period that ends after it starts")
    return start, end
