"""What every line of a crontab would become, read from the crontab alone.

This is the *static* half of the one decision per line: schedule, zone,
command, dates, environment and the behaviour changes a move to Airflow
brings. :mod:`luigi_fargate.crontab.decide` adds the checks that need the
job's code (the export in memory) and the DAGs folder; ``crontab plan`` and
``crontab migrate`` both go through it, so a plan says what migrate will do.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from luigi_fargate.crontab.command import PLACEHOLDER_RE, CommandError, LuigiInvocation, parse_command
from luigi_fargate.crontab.dates import DateExpr, shell_value, template
from luigi_fargate.crontab.parse import CrontabLine, parse_crontab
from luigi_fargate.crontab.schedule import Schedule, airflow_difference, cron_fire_times, dst_conflicts
from luigi_fargate.crontab.secrets import is_secret_env, is_secret_param, redact, secret_form
from luigi_fargate.introspect import date_formats
from luigi_fargate.introspect.bindings import BindingRefused, DateExpression, expression_binding

#: The comment that replaces a migrated line; rollback and status look for it.
MARKER = "#luigi-fargate:migrated"


class Status(StrEnum):
    """A line's status in a plan (the JSON ``status`` field)."""

    MIGRATE = "migrate"  # migrate will move it
    NOT_MIGRATABLE = "not-migratable"  # a Luigi job that can't move exactly; reasons say why
    NOT_LUIGI = "not-luigi"
    MALFORMED = "malformed"  # cron would reject it too
    MIGRATED = "migrated"  # a line an earlier migrate commented out
    ENV = "env"
    COMMENT = "comment"
    BLANK = "blank"


#: Crontab variables that configure cron itself, never the job.
_CRON_ONLY = {"MAILTO", "MAILFROM", "CRON_TZ", "SHELL", "PATH", "HOME", "LOGNAME", "USER", "RANDOM_DELAY",
              "CONTENT_TYPE", "CONTENT_TRANSFER_ENCODING"}  # fmt: skip
#: Variables that would replace a setting of the worker's own process: the worker's stays.
_WORKER_SETTINGS = {"PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH", "LD_PRELOAD", "VIRTUAL_ENV", "PYTHONSTARTUP"}


@dataclass
class PlanOptions:
    host_timezone: str = "UTC"  # the batch node's zone: cron's default for schedules and `date`
    system: bool = False  # /etc/crontab format with a user column
    wrappers: tuple[str, ...] = ()  # glob patterns of in-house scripts that pass arguments to luigi
    now: dt.datetime | None = None  # "now" for sample dates and the DST look-ahead (tests)
    dag_id_prefix: str = ""  # prepended to every DAG id (two crontabs running the same task)


@dataclass
class PlannedLine:
    number: int
    text: str
    status: str
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: What behaves differently once the job runs in Airflow (timeout, environment, mail, output).
    changes: list[str] = field(default_factory=list)
    dag_id: str | None = None
    cron: str | None = None
    timezone: str | None = None  # the schedule's zone (CRON_TZ, else the host's)
    date_timezone: str | None = None  # the zone `date` used (TZ, else the host's)
    module: str | None = None
    family: str | None = None
    invocation: LuigiInvocation | None = None
    param_templates: dict[str, str] = field(default_factory=dict)  # param -> Jinja template
    #: param -> "ds_local-1d": the binding a Luigi date or interval parameter given one whole `date` call
    #: gets (the code check keeps it only when the parameter is one; else its template stays).
    day_bindings: dict[str, str] = field(default_factory=dict)
    date_expressions: dict[str, DateExpression] = field(default_factory=dict)  # param -> its whole `date` call
    first_fire: dt.datetime | None = None  # the next fire instant after "now": the sample run
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    emails: list[str] = field(default_factory=list)
    timeout_seconds: float | None = None
    head: str = ""  # the schedule (and user column) as written, for lines kept in cron

    def refuse(self, reason: str, status: str = Status.NOT_MIGRATABLE) -> PlannedLine:
        """Keep the line in cron for ``reason`` (secrets in it redacted: reasons are shown everywhere)."""
        self.status, self.reasons = status, [redact(reason)]
        return self

    def sample_args(self, fire: dt.datetime) -> list[str]:
        """The Luigi arguments cron's shell would have passed at ``fire``."""
        inv = self.invocation
        assert inv is not None and self.date_timezone
        out: list[str] = []
        for name, value in inv.params:
            if value is None:
                out.append(f"--{name}")
                continue
            concrete = PLACEHOLDER_RE.sub(lambda m: shell_value(inv.dates[m[0]], fire, self.date_timezone or "UTC"), value)
            out += [f"--{name}", concrete]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The line as ``crontab plan --format json`` prints it (documented in docs/migration-guide.md)."""
        inv = self.invocation
        return {
            "line": self.number, "text": redact(self.text), "status": str(self.status),
            "reasons": [redact(r) for r in self.reasons], "warnings": [redact(w) for w in self.warnings],
            "changes": [redact(c) for c in self.changes], "dag_id": self.dag_id,
            "schedule": {"cron": self.cron, "timezone": self.timezone} if self.cron else None,
            "date_timezone": self.date_timezone, "module": self.module, "family": self.family,
            "params": [[n, redact(v)] for n, v in inv.shown_params()] if inv else [],
            "templates": dict(self.param_templates), "bindings": dict(self.day_bindings), "env": dict(self.env),
            "cwd": self.cwd, "emails": list(self.emails), "timeout_seconds": self.timeout_seconds,
        }  # fmt: skip


def plan_crontab(text: str, options: PlanOptions) -> list[PlannedLine]:
    """One PlannedLine per line cron reads; never raises for bad content. Static: imports no job code."""
    planned = [_plan_line(line, options) for line in parse_crontab(text, system=options.system)]
    _unique_dag_ids(planned, options.dag_id_prefix)
    return planned


def _plan_line(line: CrontabLine, options: PlanOptions) -> PlannedLine:
    if line.kind in ("blank", "env"):
        return PlannedLine(line.number, line.text, line.kind)
    if line.kind == "comment":
        status = Status.MIGRATED if line.text.lstrip().startswith(MARKER) else Status.COMMENT
        return PlannedLine(line.number, line.text, status)
    if line.kind == "malformed":
        return PlannedLine(line.number, line.text, Status.MALFORMED).refuse(line.error, Status.MALFORMED)
    assert line.schedule is not None
    p = PlannedLine(line.number, line.text, Status.MIGRATE, cron=line.schedule.cron)
    n_head = (1 if line.schedule.written.startswith("@") else 5) + (1 if line.user is not None else 0)
    p.head = " ".join(line.text.strip(" \t").split(None, n_head)[:n_head])
    p.timezone = line.env.get("CRON_TZ") or options.host_timezone
    why = _schedule_refusal(line)
    if why:
        return p.refuse(why)
    try:
        inv = parse_command(line.command, options.wrappers)
    except CommandError as exc:
        return p.refuse(exc.reason, Status.NOT_MIGRATABLE if exc.is_luigi else Status.NOT_LUIGI)
    p.invocation, p.module, p.family, p.cwd = inv, inv.module, inv.family, inv.cwd
    p.timeout_seconds = inv.timeout_seconds
    why = _invocation_refusal(inv)
    if why:
        return p.refuse(why)
    _behaviour_changes(p, line, inv)
    _environment(p, line.env, inv)
    if "TZ" in inv.env and inv.dates:
        return p.refuse(
            f"TZ={inv.env['TZ']} is set in the command: a `TZ=X luigi ...` prefix (or an unexported TZ=X;) doesn't "
            "reach the $(date ...) in its arguments, which run in cron's zone; put TZ=ZONE on a crontab line above the job"
        )
    # `date` runs in the zone cron's shell has: a crontab TZ= line (cron exports those), else the host's.
    p.date_timezone = line.env.get("TZ") or options.host_timezone
    _mail(p, line.env)
    if line.env.get("SHELL", "/bin/sh") not in ("/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash"):
        p.warnings.append(f"SHELL={line.env['SHELL']}: the command was read as POSIX sh")
    why = _templates(p, inv, options)
    if why:
        return p.refuse(why)
    now = _now(options)
    p.warnings += [
        f"DST: {c}; cron and Airflow may fire at different instants then"
        for c in dst_conflicts(line.schedule, p.timezone, now, now + dt.timedelta(days=366))
    ]
    return p


def _schedule_refusal(line: CrontabLine) -> str | None:
    """Why the line's schedule, zones or ``%`` keep it in cron, or None."""
    assert line.schedule is not None
    for var in ("CRON_TZ", "TZ"):
        if var in line.env and not _known_zone(line.env[var]):
            return f"{var}={line.env[var]!r} is not an IANA time zone (e.g. Europe/Berlin)"
    if line.schedule.cron is None:
        return "@reboot has no Airflow equivalent; keep it in cron"
    difference = airflow_difference(line.schedule)
    if difference:
        return difference
    if line.stdin is not None:
        return "unescaped % in the command: cron cuts the command there and sends the rest to stdin (write \\%)"
    return None


def _invocation_refusal(inv: LuigiInvocation) -> str | None:
    """Why the Luigi invocation itself can't be carried over exactly, or None."""
    from luigi_fargate.introspect.loader import DOTTED_NAME

    for what, value in (("module", inv.module), ("task family", inv.family)):
        if not DOTTED_NAME.match(value):
            return f"{what} {value!r} is not a dotted Python name; fix the crontab line"
    if inv.timeout_text is not None and inv.timeout_seconds is None:
        return f"timeout {inv.timeout_text!r}: not a duration (use e.g. 90m, 2h, 3600)"
    for name, value in inv.shown_params():
        if is_secret_param(name, value):
            what = secret_form(value) or "a secret (by its name)"
            return (
                f"parameter --{name}: holds {what}; it would be written into the DAG, where Airflow shows it; "
                "pass it to the task through the worker's environment or a secret store"
            )
    return None


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _behaviour_changes(p: PlannedLine, line: CrontabLine, inv: LuigiInvocation) -> None:
    p.changes += inv.notes
    if inv.timeout_text is not None:
        p.changes.append(
            f"timeout {inv.timeout_text} limited the whole job; in Airflow it becomes the DAG's dagrun_timeout "
            f"{inv.timeout_text}: a run still going then fails and its running tasks are stopped (retries within the "
            "run count against it; cron's timeout killed the job with SIGTERM)"
        )
    if inv.redirects:
        shown = " ".join(f"{op}{target}" if op.endswith("&") else f"{op} {target}" for op, target in inv.redirects)
        p.changes.append(f"redirection {shown} is dropped: Airflow keeps the output in the task log")
    if line.user:
        p.changes.append(f"ran as user {line.user!r}; Airflow runs it as the worker's user")


def _mail(p: PlannedLine, crontab_env: dict[str, str]) -> None:
    mailto = crontab_env.get("MAILTO")
    if mailto:
        p.emails = [a for a in re.split(r"[,\s]+", mailto) if a]
        p.changes.append(
            f"MAILTO={mailto}: cron mailed the job's output after every run that printed something; "
            "Airflow mails these addresses when a task fails (a notifier), and the output stays in the task log"
        )
    elif mailto is None:
        p.warnings.append("no MAILTO: cron mailed output to the crontab's owner; set MAILTO to get failure e-mails")


def _environment(p: PlannedLine, crontab_env: dict[str, str], inv: LuigiInvocation) -> None:
    for name, value in {**crontab_env, **inv.env}.items():
        if name in _CRON_ONLY:
            if name == "PATH":
                p.changes.append("PATH from the crontab is not copied: the worker's PATH applies")
            continue
        if is_secret_env(name, value):
            p.warnings.append(f"{name} looks like a secret: not copied; provide it to the worker (secret store)")
        elif name in _WORKER_SETTINGS:
            where = f" (relative to {inv.cwd})" if inv.cwd and not value.startswith("/") else ""
            p.changes.append(
                f"{name}={value}{where} is not copied: it would replace the worker's {name}; the task runs with "
                f"the worker's, so make the job's code importable there (install it, or add its folder to the worker's {name})"
            )
        elif "$" in value or "__LFSUB" in value or "`" in value:
            p.warnings.append(f"environment {name}={value!r} is computed by the shell; not copied")
        else:
            p.env[name] = value


def _templates(p: PlannedLine, inv: LuigiInvocation, options: PlanOptions) -> str | None:
    """Fill the Jinja templates and day bindings of the line's parameters; or why they can't be made."""
    assert p.timezone and p.date_timezone
    now = _now(options)
    p.first_fire = next(cron_fire_times(schedule_of(p), p.timezone, now, now + dt.timedelta(days=800)), None)
    if p.first_fire is None:
        return "the schedule never fires"
    for name, value in inv.params:
        if value is None:
            continue
        if "$" in PLACEHOLDER_RE.sub("", value) or value.startswith("~"):
            return f"--{name} {value!r} uses a shell variable; write the value out in the crontab"
        pieces = PLACEHOLDER_RE.split(value)
        if len(pieces) == 1:
            continue
        key = name.replace("-", "_")
        p.param_templates[key] = _template(pieces, inv, p)
        p.warnings += _shifted_into_gaps(inv.dates, pieces, p, now)
        if len(pieces) == 3 and pieces[0] == pieces[2] == "":
            expr = inv.dates[f"__LFSUB{pieces[1]}__"].expression(p.date_timezone)
            try:
                p.day_bindings[key] = expression_binding(expr, p.timezone)
                p.date_expressions[key] = expr
            except BindingRefused:
                pass  # e.g. %j alone can't be read back to a date: the template reproduces it
    return None


def _shifted_into_gaps(dates: dict[str, DateExpr], pieces: list[str], p: PlannedLine, now: dt.datetime) -> list[str]:
    """DST warnings for ``-d yesterday`` with an hour in the format whose shifted wall clock doesn't exist.

    GNU ``date`` moves such a time past the gap (02:30 yesterday on the day after
    the spring change prints 03); the DAG's template prints the wall clock as is (02).
    """
    out = []
    for expr in (dates[f"__LFSUB{n}__"] for n in pieces[1::2]):
        if not expr.days or not {"H", "M"} & set(date_formats.directives(expr.fmt)):
            continue
        tz = zoneinfo.ZoneInfo("UTC" if expr.utc else p.date_timezone or "UTC")
        fires = cron_fire_times(schedule_of(p), p.timezone or "UTC", now, now + dt.timedelta(days=366))
        for fire in fires:
            wall = fire.astimezone(tz).replace(tzinfo=None) + dt.timedelta(days=expr.days)
            if wall.replace(tzinfo=tz).astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) != wall:
                out.append(f"DST: {expr.text} at the run of {fire.astimezone(tz):%Y-%m-%d %H:%M} names {wall:%Y-%m-%d %H:%M}, "
                           "a time the clock skips; date prints the hour after it, the DAG this one")  # fmt: skip
                break
    return out


def _template(pieces: list[str], inv: LuigiInvocation, p: PlannedLine) -> str:
    """``re.split`` pieces of a value (text, placeholder number, text, ...) as one Jinja template."""
    out = ""
    for i, piece in enumerate(pieces):
        if i % 2:
            expr: DateExpr = inv.dates[f"__LFSUB{piece}__"]
            out += template(expr, p.date_timezone or "UTC", p.timezone or "UTC")
        else:
            out += piece.replace("{", "{{ '{' }}") if "{" in piece else piece
    return out


def _now(options: PlanOptions) -> dt.datetime:
    return options.now or dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)


def schedule_of(p: PlannedLine) -> Schedule:
    return Schedule(p.cron or "", p.cron)


def _unique_dag_ids(planned: list[PlannedLine], prefix: str) -> None:
    """``<prefix><module>_<task>``; ``_line<N>`` when several lines run the same task."""
    from luigi_fargate.export.builder import default_dag_id

    jobs = [p for p in planned if p.module and p.family and p.status in (Status.MIGRATE, Status.NOT_MIGRATABLE)]
    base = {p.number: prefix + default_dag_id(p.module or "", p.family or "") for p in jobs}
    counts: dict[str, int] = {}
    for dag_id in base.values():
        counts[dag_id] = counts.get(dag_id, 0) + 1
    for p in jobs:
        p.dag_id = base[p.number] if counts[base[p.number]] == 1 else f"{base[p.number]}_line{p.number}"
