"""Secrets in crontab lines: recognized, never copied into a spec, a DAG file, a plan or a log.

A crontab often carries credentials in its environment lines (``SLACK_WEBHOOK=...``)
or inline (``GITHUB_TOKEN=ghp_... luigi ...``). Migrate must not move them
into the DAG's environment (Airflow shows it in the UI and task logs), and
plan output, often pasted into pull requests, must not show them either. A
value is taken for a secret by its *name* (``*_TOKEN``, ``*_KEY``, ``PASSWORD``...)
or by its *form* (the token and webhook formats below), so a secret hidden
under an innocent name is still caught.
"""

from __future__ import annotations

import re

#: Environment variable names that hold secrets.
SECRET_NAME = re.compile(
    r"(PASS(WORD|WD|PHRASE)?|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_?KEY|_KEY$|^KEY$|DSN|WEBHOOK"
    r"|(^|_)AUTH($|_)|COOKIE|SESSION_?ID|SIGNATURE)",
    re.IGNORECASE,
)
#: Luigi parameter names that hold secrets (``--s3-key`` is a path, so no bare KEY here).
SECRET_PARAM = re.compile(
    r"(PASS(WORD|WD|PHRASE)?|SECRET|TOKEN|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|WEBHOOK)", re.IGNORECASE
)

#: (what, pattern) of secret values, recognizable wherever they appear.
SECRET_FORMS: tuple[tuple[str, str], ...] = (
    ("a Slack webhook URL", r"https?://hooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/[^\s'\"]+"),
    ("a Microsoft Teams webhook URL", r"https?://[\w.-]*(?:webhook\.office\.com|outlook\.office\.com/webhook|"
                                      r"logic\.azure\.com)[^\s'\"]*"),
    ("a Discord webhook URL", r"https?://(?:[\w-]+\.)?discord(?:app)?\.com/api/webhooks/[^\s'\"]+"),
    ("a URL with a user and password", r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'\"]+:[^@\s/'\"]+@"),
    ("a GitHub token", r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})"),
    ("a GitLab token", r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}"),
    ("a Slack token", r"(?<![A-Za-z0-9])xox[abposre]-[A-Za-z0-9-]{10,}"),
    ("a bearer token", r"(?i:bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*"),
    ("a JSON Web Token", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),
    ("an AWS access key id", r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])"),
    # 40 characters of base64 with upper case, lower case and digits: a hex digest has no upper case.
    ("an AWS secret access key", r"(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])"
                                 r"(?=[A-Za-z0-9/+]*[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    ("a Google API key", r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}"),
    ("a Stripe key", r"(?<![A-Za-z0-9])[rs]k_live_[0-9A-Za-z]{16,}"),
    ("a private key", r"-----BEGIN[A-Z ]*PRIVATE KEY-----"),
)  # fmt: skip
_FORMS = [(what, re.compile(pattern)) for what, pattern in SECRET_FORMS]
_ANY_FORM = re.compile("|".join(f"(?:{pattern})" for _, pattern in SECRET_FORMS))
#: ``NAME=value`` (environment, assignments) and ``--name value`` / ``--name=value`` (options) in a line.
_ASSIGNMENT = re.compile(r"(?<![\w-])(?P<name>[A-Za-z_]\w*)(?P<sep>\s*=\s*)(?P<value>\"[^\"]*\"|'[^']*'|\S+)")
_OPTION = re.compile(r"(?<!\S)--(?P<name>[A-Za-z_][\w-]*)(?P<sep>=|\s+)(?P<value>\"[^\"]*\"|'[^']*'|[^\s-]\S*)")
REDACTED = "***"


def secret_form(value: str) -> str | None:
    """What kind of secret ``value`` holds ("a GitHub token"), or None."""
    if not _ANY_FORM.search(value):
        return None
    return next(what for what, pattern in _FORMS if pattern.search(value))


def is_secret_env(name: str, value: str) -> bool:
    return bool(SECRET_NAME.search(name)) or secret_form(value) is not None


def is_secret_param(name: str, value: str) -> bool:
    return bool(SECRET_PARAM.search(name.replace("-", "_"))) or secret_form(value) is not None


def redact(text: str) -> str:
    """``text`` with every secret replaced by ``***``: what plan output and messages show."""
    if not text:
        return text
    text = _ANY_FORM.sub(REDACTED, text)

    def hide_named(m: re.Match[str]) -> str:
        if SECRET_NAME.search(m["name"].replace("-", "_")):
            return m["name"] + m["sep"] + REDACTED
        return m[0]

    def hide_option(m: re.Match[str]) -> str:
        if SECRET_PARAM.search(m["name"].replace("-", "_")):
            return "--" + m["name"] + m["sep"] + REDACTED
        return m[0]

    return _OPTION.sub(hide_option, _ASSIGNMENT.sub(hide_named, text))
