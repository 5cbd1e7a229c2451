"""`migrate --cutover` lines: every value is quoted so cron and a real /bin/sh give back exactly the argv meant."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from luigi_fargate.crontab.cutover import check_lock_url, runner_line
from luigi_fargate.crontab.plan import PlanOptions, plan_crontab
from luigi_fargate.errors import UserError

ORIGINAL = "0 1 * * * cd /tmp && APP=x luigi --module cronjobs Snapshot --stamp a --day $(date +\\%F) >> /tmp/o 2>&1"
PRINTER = "#!/bin/sh\nprintf '%s\\0' \"$PWD\" \"$APP\" \"$@\"\n"


def cron_command(line: str) -> str:
    """What cronie/Vixie cron hands to /bin/sh -c: do_command.c's loop, transcribed (not our parser)."""
    command = line.split(None, 5)[5]
    out, escaped = [], False
    for ch in command:
        if escaped:
            if ch == "%":
                out[-1] = "%"  # *--p = ch: the backslash becomes the %
            else:
                out.append(ch)
            escaped = False
            continue
        if ch == "%":
            break  # the rest would be stdin
        out.append(ch)
        escaped = ch == "\\"
    return "".join(out)


# Anything but NUL and a line break; the characters that matter to sh and cron, often.
hostile = st.text(
    alphabet=st.one_of(st.sampled_from(list("%\\'\"$`;&|<>(){}*?[]#~ \t=-!^\r")), st.characters(blacklist_characters="\0\n", blacklist_categories=("Cs",))),
    max_size=12,
)
names = hostile.filter(lambda s: s not in ("", ".", "..") and "/" not in s and len(s.encode()) < 200)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runner_dir=names, cwd_name=names, lock=hostile.filter(lambda s: not any(c.isspace() for c in s)),
       stamp=hostile, env_value=hostile.filter(lambda s: "$" not in s and "`" not in s),
       out_name=names.filter(lambda s: "$" not in s and "`" not in s))  # fmt: skip
def test_a_real_sh_gets_exactly_the_argv_meant(tmp_path_factory, runner_dir, cwd_name, lock, stamp, env_value,
                                               out_name) -> None:  # fmt: skip
    tmp = tmp_path_factory.mktemp("q")
    runner = tmp / "bin" / runner_dir / "luigi-fargate"
    runner.parent.mkdir(parents=True)
    runner.write_text(PRINTER)
    runner.chmod(0o755)
    cwd = tmp / "work" / cwd_name
    cwd.mkdir(parents=True)
    (tmp / "out").mkdir()
    url = check_lock_url(f"file://{tmp}/{lock}")
    (p,) = plan_crontab(ORIGINAL + "\n", PlanOptions(now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)))
    assert p.invocation is not None
    p.invocation.params[0] = ("stamp", stamp)
    p.invocation.cwd, p.invocation.env = str(cwd), {"APP": env_value}
    p.invocation.redirects = [(">>", str(tmp / "out" / out_name)), ("2>&", "1")]
    line = runner_line(p, str(runner), url)
    assert "\n" not in line and line.startswith("0 1 * * * ")
    # The line as cron reads it, then run by a real /bin/sh as cron does.
    proc = subprocess.run(["/bin/sh", "-c", cron_command(line)], capture_output=True, env={"PATH": os.defpath}, timeout=30)
    assert proc.returncode == 0, proc.stderr
    printed = (tmp / "out" / out_name).read_bytes().decode("utf-8", "surrogateescape").split("\0")[:-1]
    today = subprocess.run(["date", "+%F"], capture_output=True, text=True, check=True).stdout.strip()
    stamp_words = [f"--stamp={stamp}"] if stamp.startswith("-") else ["--stamp", stamp]
    assert printed == [str(cwd), env_value, "run", "--allow-any", "--lock", url, "cronjobs", "Snapshot",
                       *stamp_words, "--day", today]  # fmt: skip
    # and the line reads back as the same job (the plan refuses values with `$`: it can't see quotes)
    if not any(c in v for v in (cwd_name, stamp, runner_dir) for c in "$`~"):
        (again,) = plan_crontab(line + "\n", PlanOptions(now=dt.datetime(2026, 6, 1, tzinfo=dt.UTC)))
        assert again.invocation is not None and again.invocation.shown_params()[0] == ("stamp", stamp)


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://example.com/lock", "unknown scheme 'http'"), ("file:///tmp/a;rm -rf ~", "no spaces"),
     ("luigid://host:notaport", "port is not a number"), ("dynamodb://", "no table name"),
     ("luigid://h:8082?heartbeat=90&ttl=60", "heartbeat must be shorter than ttl"), ("file:///x\n* * * * * evil", "line breaks")],
)  # fmt: skip
def test_lock_urls_are_checked_against_the_lock_backends(url: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        check_lock_url(url)


def test_values_the_shell_computes_are_not_written_literally() -> None:
    line = "0 1 * * * OUT=$HOME/x luigi --module cronjobs Snapshot --stamp a > /var/log/$(date +\\%F).log\n"
    (p,) = plan_crontab(line, PlanOptions())
    with pytest.raises(UserError, match="computed by the shell and --cutover would write it literally"):
        runner_line(p, "/bin/luigi-fargate", None)


def test_cutover_cli_refuses_a_relative_runner_and_a_bad_lock(tmp_path: Path) -> None:
    from tests.conftest import base_env, luigi_fargate
    from tests.crontab.conftest import HERE

    crontab = tmp_path / "jobs.cron"
    crontab.write_text(ORIGINAL + "\n")
    env = base_env(PYTHONPATH=str(HERE))
    for extra, message in ((["--runner-command", "luigi-fargate"], "absolute path"),
                           (["--runner-lock", "ftp://x"], "unknown scheme 'ftp'")):  # fmt: skip
        proc = luigi_fargate("crontab", "migrate", str(crontab), "--line", "1", "--cutover", "--out", str(tmp_path / "d"),
                             *extra, env=env)  # fmt: skip
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert crontab.read_text() == ORIGINAL + "\n" and sorted(p.name for p in tmp_path.iterdir()) == ["jobs.cron"]
