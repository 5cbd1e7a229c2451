"""Checks of command-line values shared by several subcommands: one-line errors naming the option."""

from __future__ import annotations

import datetime as dt

from luigi_fargate.errors import UserError


def iso_date(option: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


def time_zone(option: str, name: str) -> str:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UserError(f"{option} {name!r}: unknown time zone; use an IANA name such as Europe/Berlin") from None
    return name
