"""Cron schedules: presets, validation, and when cron really fires (DST included).

Airflow's ``CronTriggerTimetable`` evaluates the expression with croniter in
the DAG's zone. Vixie cron and cronie evaluate it on the wall clock, with two
rules for daylight-saving changes (cron.c): when the clock jumps forward,
*fixed-time* jobs (neither minute nor hour field starting with ``*``) whose
time was skipped run right after the jump and wildcard jobs skip it; when the
clock goes back, fixed-time jobs run once and wildcard jobs run in both
passes. :func:`cron_fire_times` implements those rules from the expanded
fields so that a plan can say where Airflow would differ.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

#: cron presets -> five fields (cron's own table; Airflow lacks @annually/@midnight).
PRESETS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

UTC = dt.UTC


class ScheduleError(ValueError):
    """A schedule cron would reject or Airflow can't express."""


@dataclass(frozen=True)
class Schedule:
    written: str  # as in the crontab: "15 18 * * mon-fri", "@daily", "@reboot"
    cron: str | None  # five fields for Airflow; None for @reboot

    @property
    def fields(self) -> list[str]:
        return (self.cron or "").split()

    @property
    def fixed_time(self) -> bool:
        """Neither minute nor hour starts with ``*``: cron's MIN_STAR/HR_STAR flags unset."""
        minute, hour = self.fields[:2]
        return not minute.startswith("*") and not hour.startswith("*")


def parse_schedule(written: str) -> Schedule:
    """The schedule of a crontab line; ScheduleError says why cron would reject it."""
    why = _schedule_error(written)
    if why:
        raise ScheduleError(why)
    return Schedule(written, None if written == "@reboot" else PRESETS.get(written, written))


@functools.lru_cache(maxsize=4096)
def _schedule_error(written: str) -> str | None:
    """Why ``written`` is no schedule, or None (cached: big crontabs repeat their schedules)."""
    try:
        _check_schedule(written)
    except ScheduleError as exc:
        return str(exc)
    return None


def _check_schedule(written: str) -> None:
    from croniter import croniter

    if written.startswith("@"):
        if written != "@reboot" and written not in PRESETS:
            raise ScheduleError(f"unknown preset {written!r}; cron knows {', '.join(['@reboot', *PRESETS])}")
        return
    if "#" in written or "?" in written or any(f.endswith("L") and f != "L" for f in written.split()):
        raise ScheduleError(f"{written!r}: '#', '?' and 'nL' are Quartz syntax, not cron")
    if not croniter.is_valid(written):
        raise ScheduleError(
            f"{written!r}: not a valid cron schedule (minute hour day-of-month month day-of-week)"
        )


@functools.lru_cache(maxsize=4096)
def _expanded(cron: str) -> list[list[int | str]]:
    from croniter import croniter

    return croniter(cron).expanded


def _day_matches(fields: list[str], expanded: list[list[int | str]], day: dt.date) -> bool:
    dom_f, month_f, dow_f = expanded[2], expanded[3], expanded[4]
    if month_f != ["*"] and day.month not in month_f:
        return False
    last = calendar.monthrange(day.year, day.month)[1]
    dom_ok = dom_f == ["*"] or day.day in dom_f or ("l" in dom_f and day.day == last)
    cron_dow = (day.weekday() + 1) % 7  # Monday=1 ... Sunday=0
    dow_ok = dow_f == ["*"] or cron_dow in dow_f or (cron_dow == 0 and 7 in dow_f)
    # DOM_STAR / DOW_STAR: the field *starts* with '*' (so '*/2' counts): then both must match.
    if fields[2].startswith("*") or fields[4].startswith("*"):
        return dom_ok and dow_ok
    return dom_ok or dow_ok


def _values(f: list[int | str], top: int) -> list[int]:
    return list(range(top)) if f == ["*"] else sorted(int(v) for v in f)


def cron_fire_times(
    schedule: Schedule, zone: str, start: dt.datetime, end: dt.datetime
) -> Iterator[dt.datetime]:
    """UTC instants in [start, end) at which Vixie cron/cronie in ``zone`` starts the job."""
    if schedule.cron is None:
        return
    tz = zoneinfo.ZoneInfo(zone)
    fields = schedule.fields
    expanded = _expanded(schedule.cron)
    minutes, hours = _values(expanded[0], 60), _values(expanded[1], 24)
    day = start.astimezone(tz).date() - dt.timedelta(days=1)
    last_day = end.astimezone(tz).date() + dt.timedelta(days=1)
    while day <= last_day:
        if _day_matches(fields, expanded, day):
            fires: list[dt.datetime] = []
            for h in hours:
                for m in minutes:
                    fires += _instants(
                        dt.datetime(day.year, day.month, day.day, h, m), tz, schedule.fixed_time
                    )
            for f in sorted(fires):
                if start <= f < end:
                    yield f
        day += dt.timedelta(days=1)


def _instants(wall: dt.datetime, tz: zoneinfo.ZoneInfo, fixed: bool) -> list[dt.datetime]:
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    a, b = first.astimezone(UTC), second.astimezone(UTC)
    if a.astimezone(tz).replace(tzinfo=None) != wall:  # in a gap: the wall time never happens
        if not fixed:
            return []
        # Fixed-time jobs run right after the jump: at the transition instant.
        return [_transition_after(wall, tz)]
    if a != b:  # in a fold: the wall time happens twice
        return [min(a, b)] if fixed else sorted({a, b})
    return [a]


def _transition_after(wall: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant of the forward jump that skipped ``wall``."""
    lo = (wall - dt.timedelta(hours=3)).replace(tzinfo=tz).astimezone(UTC)
    hi = (wall + dt.timedelta(hours=3)).replace(tzinfo=tz).astimezone(UTC)
    offset = lo.astimezone(tz).utcoffset()
    while hi - lo > dt.timedelta(minutes=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(second=0, microsecond=0)
        if mid.astimezone(tz).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    return hi


def dst_conflicts(schedule: Schedule, zone: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Wall-clock fire times in a DST gap or fold where Airflow's timetable and cron fire differently.

    Where they agree, nothing is reported: an every-hour schedule (Airflow
    steps through elapsed time then, and so does cron for wildcard jobs), and
    a fixed-time job at the very minute the clock jumps from (both run it at
    the jump) unless the schedule also fires at the minute it jumps to (cron
    then runs twice, Airflow once). Measured in tests/crontab/test_corpus.py.
    """
    if schedule.cron is None:
        return []
    tz = zoneinfo.ZoneInfo(zone)
    fields = schedule.fields
    expanded = _expanded(schedule.cron)
    if fields[1] == "*" and expanded[1] == ["*"]:
        return []
    minutes, hours = _values(expanded[0], 60), _values(expanded[1], 24)
    out: list[str] = []
    for day in _transition_days(tz, start, end):
        if not _day_matches(fields, expanded, day):
            continue
        for h in hours:
            for m in minutes:
                wall = dt.datetime(day.year, day.month, day.day, h, m)
                a = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
                b = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
                if a.astimezone(tz).replace(tzinfo=None) != wall:
                    jump = _transition_after(wall, tz)
                    jumped_from = (
                        jump + (jump - dt.timedelta(minutes=1)).astimezone(tz).utcoffset()
                    ).replace(tzinfo=None)
                    jumped_to = jump.astimezone(tz).replace(tzinfo=None)
                    if (
                        schedule.fixed_time
                        and wall == jumped_from
                        and not (jumped_to.hour in hours and jumped_to.minute in minutes)
                    ):
                        continue
                    out.append(f"{wall:%Y-%m-%d %H:%M} does not exist in {zone} (clocks jump forward)")
                elif a != b:
                    out.append(f"{wall:%Y-%m-%d %H:%M} happens twice in {zone} (clocks go back)")
                if len(out) >= 3:
                    return out
    return out


@functools.lru_cache(maxsize=256)
def _transition_days(tz: zoneinfo.ZoneInfo, start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    days = []
    t = start
    prev = t.astimezone(tz).utcoffset()
    while t < end:
        t += dt.timedelta(hours=6)
        off = t.astimezone(tz).utcoffset()
        if off != prev:
            d = t.astimezone(tz).date()
            days += [d - dt.timedelta(days=1), d]
            prev = off
    return sorted(set(days))


def airflow_difference(schedule: Schedule) -> str | None:
    """Why Airflow's cron (croniter) would pick other days than cron, or None.

    cron ANDs day-of-month and day-of-week when either field *starts* with
    ``*`` (so ``*/2``); croniter ORs them unless the field is exactly ``*``.
    """
    if schedule.cron is None:
        return None
    dom, dow = schedule.fields[2], schedule.fields[4]
    if (dom.startswith("*") and dom != "*" and dow != "*") or (
        dow.startswith("*") and dow != "*" and dom != "*"
    ):
        return (
            f"day-of-month {dom!r} with day-of-week {dow!r}: cron runs only on days matching both, "
            "Airflow on days matching either; list the days explicitly (e.g. 1,3,5) if either is meant"
        )
    return None
