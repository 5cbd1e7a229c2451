"""Secrets in crontab environments and lines: caught by name and by form, never copied or shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from luigi_fargate.crontab.plan import PlanOptions, plan_crontab
from luigi_fargate.crontab.secrets import redact, secret_form
from tests.conftest import base_env, luigi_fargate
from tests.crontab.conftest import HERE

# (kind, an example value); the values are made up, in the providers' documented formats.
FORMS = [
    ("a Slack webhook URL", "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"),
    ("a Microsoft Teams webhook URL", "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456"),
    ("a Discord webhook URL", "https://discord.com/api/webhooks/123456789012345678/abcDEF-ghiJKL"),
    ("a GitHub token", "ghp_" + "a1B2" * 9),
    ("a GitHub token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
    ("a bearer token", "Bearer abcdef0123456789.xyz"),
    ("a JSON Web Token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
    ("an AWS access key id", "AKIAIOSFODNN7EXAMPLE"),
    ("an AWS secret access key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("a URL with a user and password", "postgres://app:s3cret@db.internal:5432/app"),
    ("a Slack token", "xoxb-123456789012-abcdefghijkl"),
    ("a GitLab token", "glpat-abcdefghij0123456789"),
    ("a private key", "-----BEGIN RSA PRIVATE KEY-----"),
]
NOT_SECRETS = ["0123456789abcdef0123456789abcdef01234567", "https://example.com/api/v1/report", "2026-06-01",
               "s3://bucket/key/path", "/srv/jobs/luigi.cfg", "prod", "Europe/Berlin"]  # fmt: skip


@pytest.mark.parametrize(("kind", "value"), FORMS)
def test_each_form_is_recognized_and_redacted(kind: str, value: str) -> None:
    assert secret_form(value) == kind
    assert value not in redact(f"X={value} more") and "***" in redact(value)


@pytest.mark.parametrize("value", NOT_SECRETS)
def test_ordinary_values_are_not_taken_for_secrets(value: str) -> None:
    assert secret_form(value) is None and redact(f"APP_MODE={value}") == f"APP_MODE={value}"


@pytest.mark.parametrize("name", ["DB_PASSWORD", "API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "SENTRY_DSN",
                                  "SLACK_WEBHOOK", "STRIPE_KEY", "CLIENT_SECRET", "BASIC_AUTH"])  # fmt: skip
def test_secret_names_hide_any_value(name: str) -> None:
    (p,) = [x for x in plan_crontab(f"{name}=plain\n0 1 * * * luigi --module m T --x 1\n", PlanOptions()) if x.number == 2]
    assert any(f"{name} looks like a secret" in w for w in p.warnings) and name not in p.env
    assert redact(f"{name}=plain") == f"{name}=***"


separators = st.sampled_from([" ", "\t", "=", "'", '"', ",", ";", "(", "|", "&&", ": "])
context = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=300, deadline=None)
@given(form=st.sampled_from(FORMS), before=context, sep1=separators, sep2=separators, after=context)
def test_a_secret_in_any_context_is_caught_and_never_shown(form, before, sep1, sep2, after) -> None:
    _, value = form
    text = before + sep1 + value + sep2 + after
    assert secret_form(text) is not None
    assert value not in redact(text)


def test_secrets_never_reach_the_spec_the_dag_the_plan_or_the_output(tmp_path: Path) -> None:
    secrets = [v for _, v in FORMS[:5]]
    env_lines = "".join(f"NOTIFY_{i}={v}\n" for i, v in enumerate(secrets[:4]))
    line = f"0 6 * * * GH={secrets[4]} luigi --module cronjobs Reconcile --date $(date +\\%F)\n"
    refused = "0 7 * * * luigi --module cronjobs Snapshot --stamp " + FORMS[3][1] + "\n"
    crontab = tmp_path / "jobs.cron"
    crontab.write_text("TZ=UTC\n" + env_lines + line + refused)
    env = base_env(PYTHONPATH=str(HERE))
    outputs = []
    for fmt in ("table", "json"):
        proc = luigi_fargate("crontab", "plan", str(crontab), "--format", fmt, env=env)
        assert proc.returncode == 0, proc.stderr
        outputs += [proc.stdout, proc.stderr]
    doc = json.loads(outputs[2])
    assert doc["lines"][-1]["status"] == "not-migratable" and "holds a GitHub token" in doc["lines"][-1]["reasons"][0]
    proc = luigi_fargate("crontab", "migrate", str(crontab), "--line", "6", "--out", str(tmp_path / "dags"), env=env)
    assert proc.returncode == 0, proc.stderr
    refused_migrate = luigi_fargate("crontab", "migrate", str(crontab), "--line", "7", "--out", str(tmp_path / "d2"), env=env)
    assert refused_migrate.returncode == 2
    outputs += [proc.stdout, proc.stderr, refused_migrate.stderr]
    outputs += [p.read_text() for p in (tmp_path / "dags").iterdir()]
    for secret in secrets:
        assert not any(secret in text for text in outputs), secret
    # the crontab itself still has them (it is the user's), as does the private backup
    assert all(s in crontab.read_text() for s in secrets)


def test_the_status_output_redacts_lines(tmp_path: Path) -> None:
    crontab = tmp_path / "jobs.cron"
    crontab.write_text(f"0 6 * * * TOKEN={FORMS[3][1]} /usr/bin/report\n")
    proc = luigi_fargate("crontab", "status", str(crontab), "--format", "json", env=base_env())
    assert proc.returncode == 0 and FORMS[3][1] not in proc.stdout and "TOKEN=***" in proc.stdout
