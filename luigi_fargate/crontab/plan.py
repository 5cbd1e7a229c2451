"""``crontab plan``: what would happen to every line of a crontab, and why.

A plan is static: it reads the crontab only (no user code is imported), so
it can run anywhere. ``migrate`` then checks each selected job against the
real Luigi task through the export path.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from luigi_fargate.crontab.command import CommandError, LuigiInvocation, parse_command
from luigi_fargate.crontab.dates import DateExpr, jinja_expression, shell_value
from luigi_fargate.crontab.parse import CrontabLine, parse_crontab
from luigi_fargate.crontab.schedule import airflow_difference, cron_fire_times, dst_conflicts

#: The comment that replaces a migrated line; rollback looks for it.
MARKER = "#luigi-fargate:migrated"
#: Crontab variables that configure cron itself, never the job.
_CRON_ONLY = {"MAILTO", "MAILFROM", "CRON_TZ", "SHELL", "PATH", "HOME", "LOGNAME", "USER", "RANDOM_DELAY",
              "CONTENT_TYPE", "CONTENT_TRANSFER_ENCODING"}  # fmt: skip
_SECRET_NAME = re.compile(
    r"(PASS(WORD|WD)?|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_KEY|_KEY$|DSN)", re.I
)
_SECRET_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|://[^/\s:@]+:[^@\s]+@|-----BEGIN)")

STATUSES = ("migrate", "not-migratable", "not-luigi", "malformed", "migrated", "env", "comment", "blank")


@dataclass
class PlanOptions:
    host_timezone: str = "UTC"  # the batch node's zone: cron's default for schedules and `date`
    system: bool = False  # /etc/crontab format with a user column
    wrappers: tuple[str, ...] = ()  # glob patterns of in-house scripts that pass arguments to luigi
    now: dt.datetime | None = None  # "now" for sample dates and the DST look-ahead (tests)


@dataclass
class PlannedLine:
    number: int
    text: str
    status: str
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dag_id: str | None = None
    cron: str | None = None
    timezone: str | None = None  # the schedule's zone (CRON_TZ, else the host's)
    date_timezone: str | None = None  # the zone `date` used (TZ, else the host's)
    module: str | None = None
    family: str | None = None
    invocation: LuigiInvocation | None = None
    param_templates: dict[str, str] = field(default_factory=dict)  # param -> Jinja template
    day_bindings: dict[str, str] = field(default_factory=dict)  # param -> "ds_local-1" (when a DateParameter)
    sample_args: list[str] = field(default_factory=list)  # Luigi args with dates for the next fire
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    emails: list[str] = field(default_factory=list)
    timeout_seconds: float | None = None
    head: str = ""  # the schedule (and user column) as written, for lines kept in cron

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "invocation"}
        if self.invocation:
            d["params"] = self.invocation.shown_params()
        return d


def plan_crontab(text: str, options: PlanOptions) -> list[PlannedLine]:
    """One PlannedLine per physical line of ``text``; never raises for bad content."""
    planned = [_plan_line(line, options) for line in parse_crontab(text, system=options.system)]
    _unique_dag_ids(planned)
    return planned


def _plan_line(line: CrontabLine, options: PlanOptions) -> PlannedLine:
    if line.kind in ("blank", "env"):
        return PlannedLine(line.number, line.text, line.kind)
    if line.kind == "comment":
        status = "migrated" if line.text.lstrip().startswith(MARKER) else "comment"
        return PlannedLine(line.number, line.text, status)
    if line.kind == "malformed":
        return PlannedLine(line.number, line.text, "malformed", reasons=[line.error])
    assert line.schedule is not None
    p = PlannedLine(line.number, line.text, "migrate", cron=line.schedule.cron)
    n_head = (1 if line.schedule.written.startswith("@") else 5) + (1 if line.user is not None else 0)
    p.head = " ".join(line.text.strip().split(None, n_head)[:n_head])
    p.timezone = line.env.get("CRON_TZ") or options.host_timezone
    for var in ("CRON_TZ", "TZ"):
        if var in line.env and not _known_zone(line.env[var]):
            p.status, p.reasons = (
                "not-migratable",
                [f"{var}={line.env[var]!r} is not an IANA time zone (e.g. Europe/Berlin)"],
            )
            return p
    if line.schedule.cron is None:
        p.status, p.reasons = "not-migratable", ["@reboot has no Airflow equivalent; keep it in cron"]
        return p
    difference = airflow_difference(line.schedule)
    if difference:
        p.status, p.reasons = "not-migratable", [difference]
        return p
    if line.stdin is not None:
        p.status = "not-migratable"
        p.reasons = [
            "unescaped % in the command: cron cuts the command there and sends the rest to stdin (write \\%)"
        ]
        return p
    try:
        inv = parse_command(line.command, options.wrappers)
    except CommandError as exc:
        p.status = "not-migratable" if exc.is_luigi else "not-luigi"
        p.reasons = [exc.reason]
        return p
    p.invocation, p.module, p.family, p.cwd = inv, inv.module, inv.family, inv.cwd
    p.timeout_seconds = inv.timeout_seconds
    p.warnings += inv.notes
    if line.user:
        p.warnings.append(f"ran as user {line.user!r}; Airflow runs it as the worker's user")
    _environment(p, line.env, inv)
    p.date_timezone = p.env.get("TZ") or options.host_timezone
    mailto = line.env.get("MAILTO")
    if mailto:
        p.emails = [a for a in re.split(r"[,\s]+", mailto) if a]
    elif mailto is None:
        p.warnings.append(
            "no MAILTO: cron mailed output to the crontab's owner; set MAILTO to get failure e-mails"
        )
    if line.env.get("SHELL", "/bin/sh") not in ("/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash"):
        p.warnings.append(f"SHELL={line.env['SHELL']}: the command was read as POSIX sh")
    try:
        _templates(p, inv, options)
    except _NotTranslatable as exc:
        p.status, p.reasons = "not-migratable", [str(exc)]
        return p
    now = options.now or dt.datetime.now(dt.UTC)
    p.warnings += [
        f"DST: {c}; cron and Airflow may fire at different instants then"
        for c in dst_conflicts(line.schedule, p.timezone, now, now + dt.timedelta(days=366))
    ]
    return p


def _known_zone(name: str) -> bool:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


class _NotTranslatable(ValueError):
    pass


def _environment(p: PlannedLine, crontab_env: dict[str, str], inv: LuigiInvocation) -> None:
    for name, value in {**crontab_env, **inv.env}.items():
        if name in _CRON_ONLY:
            if name == "PATH":
                p.warnings.append("PATH from the crontab is not copied: the worker's PATH applies")
            continue
        if _SECRET_NAME.search(name) or _SECRET_VALUE.search(value):
            p.warnings.append(
                f"{name} looks like a secret: not copied; provide it to the worker (secret store)"
            )
            continue
        if "$" in value or "__LFSUB" in value:
            raise_reason = f"environment {name}={value!r} is computed by the shell"
            p.warnings.append(raise_reason + "; not copied")
            continue
        p.env[name] = value


def _templates(p: PlannedLine, inv: LuigiInvocation, options: PlanOptions) -> None:
    assert p.timezone and p.date_timezone
    fire = next(
        cron_fire_times(_schedule_of(p), p.timezone, _now(options), _now(options) + dt.timedelta(days=800)),
        None,
    )
    if fire is None:
        raise _NotTranslatable("the schedule never fires")
    sample: list[str] = []
    items = inv.param_items()
    for name, value in items:
        if "$" in value.replace("__LFSUB", "") or value.startswith("~"):
            raise _NotTranslatable(
                f"--{name} {value!r} uses a shell variable; write the value out in the crontab"
            )
        pieces = re.split(r"(__LFSUB\d+__)", value)
        if len(pieces) == 1:
            sample += [f"--{name}", value]
            continue
        template, concrete = "", ""
        for piece in pieces:
            expr: DateExpr | None = inv.dates.get(piece)
            if expr is None:
                template += piece.replace("{", "{{ '{' }}") if "{" in piece else piece
                concrete += piece
            else:
                template += "{{ " + jinja_expression(expr, p.date_timezone, p.timezone) + " }}"
                concrete += shell_value(expr, fire, p.date_timezone)
        p.param_templates[name.replace("-", "_")] = template
        sample += [f"--{name}", concrete]
        if pieces[0] == pieces[2] == "" and len(pieces) == 3:
            expr = inv.dates[pieces[1]]
            same_zone = (expr.utc and p.timezone == "UTC") or (not expr.utc and p.date_timezone == p.timezone)
            if expr.is_plain_date and same_zone:
                source = "ds" if p.timezone == "UTC" else "ds_local"
                p.day_bindings[name.replace("-", "_")] = source + (f"{expr.days:+d}" if expr.days else "")
    p.sample_args = sample


def _now(options: PlanOptions) -> dt.datetime:
    return options.now or dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)


def _schedule_of(p: PlannedLine):
    from luigi_fargate.crontab.schedule import Schedule

    return Schedule(p.cron or "", p.cron)


def _unique_dag_ids(planned: list[PlannedLine]) -> None:
    from luigi_fargate.export.builder import default_dag_id

    jobs = [p for p in planned if p.module and p.family]
    for p in jobs:
        p.dag_id = default_dag_id(p.module or "", p.family or "")
    counts: dict[str, int] = {}
    for p in jobs:
        counts[p.dag_id or ""] = counts.get(p.dag_id or "", 0) + 1
    for p in jobs:
        if counts[p.dag_id or ""] > 1:
            p.dag_id = f"{p.dag_id}_line{p.number}"
