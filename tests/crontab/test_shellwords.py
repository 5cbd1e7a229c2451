"""Cron's own line, `%` and word rules: checked against a real /bin/sh and cron's C loop."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from luigi_fargate.crontab.migrate import MigrateOptions, migrate
from luigi_fargate.crontab.parse import split_percent
from luigi_fargate.crontab.plan import MARKER, PlanOptions, plan_crontab
from luigi_fargate.crontab.shellwords import ShellSyntaxError, find_substitutions, words
from tests.crontab.test_cutover_quoting import cron_command

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def sh_words(text: str) -> list[str] | None:
    """The words a real /bin/sh makes of ``text`` (None: sh rejects it)."""
    proc = subprocess.run(["/bin/sh", "-c", f"printf '%s\\0' first {text}"], capture_output=True, timeout=10)
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().split("\0")[1:-1]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab '\"\\\t#=-\x0c", min_size=1, max_size=16))
def test_words_are_the_words_sh_makes(text: str) -> None:
    expected = sh_words(text)
    try:
        got = words(text)
    except ShellSyntaxError:
        got = None
    assert got == expected, text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="a\\%", min_size=1, max_size=12))
def test_percent_rule_is_crons(text: str) -> None:
    command, stdin = split_percent(text)
    assert command == cron_command("* * * * * " + text)[: len(command)] and command == cron_command("* * * * * " + text)


def test_substitutions_outside_single_quotes_are_found() -> None:
    text = """a $(date +%F) '$(not)' "$(date -u +%H)" `date` $((1+2)) "it's $(x (y))\""""
    assert [inner for _, _, inner in find_substitutions(text)] == ["date +%F", "date -u +%H", "date", "x (y)"]


def test_only_newline_ends_a_line_and_line_numbers_are_crons(tmp_path: Path) -> None:
    job = "15 18 * * * luigi --module cronjobs Reconcile --date $(date +\\%F)"
    text = f"0 1 * * * echo a\x0cb\r c\u2028d\x85e\n{job}\n# end\x0c\n"
    planned = plan_crontab(text, PlanOptions(now=NOW))
    assert [p.number for p in planned] == [1, 2, 3] and planned[1].family == "Reconcile"
    crontab = tmp_path / "jobs.cron"
    crontab.write_bytes(text.encode())
    migrate(crontab, PlanOptions(now=NOW), MigrateOptions(out_dir=tmp_path / "dags", lines=[2]))
    assert crontab.read_bytes() == text.replace(job, f"{MARKER} dag=cronjobs_reconcile {job}").encode()


def test_a_hash_starts_a_comment_only_at_the_start_of_a_word() -> None:
    assert words("luigi a#b # c d") == ["luigi", "a#b"]
    assert words("x '#' \\# y") == ["x", "#", "#", "y"]
