"""Exactly one alert per failure: Luigi's own failure mail never leaves the runner (Airflow's notifier is the channel).

A real SMTP sink on 127.0.0.1 is the ``[smtp]`` host of luigi.cfg, with a
receiver and the task's ``owner_email``. ``luigi.build`` on the same failing
task mails it (so the setup can catch a mail); the runner connects to no one.
"""

from __future__ import annotations

import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import base_env, luigi_fargate


class _SmtpSink(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: records every connection and every message's recipients."""

    connections: list[str]
    messages: list[list[str]]

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        type(self).connections.append(str(self.client_address))
        self.reply("220 sink ready")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                self.reply("250 sink")
            elif verb.startswith("RCPT TO:"):
                recipients.append(verb[8:].strip("<> ").lower())
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                while (body := self.rfile.readline()) and body.rstrip(b"\r\n") != b".":
                    pass
                type(self).messages.append(recipients)
                recipients = []
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, type[_SmtpSink]]]:
    handler = type("Sink", (_SmtpSink,), {"connections": [], "messages": []})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


def _config(tmp_path: Path, port: int) -> dict[str, str]:
    cfg = tmp_path / "luigi.cfg"
    cfg.write_text(f"[email]\nreceiver = team@example.com\nsender = luigi@example.com\n\n[smtp]\nhost = 127.0.0.1\nport = {port}\nno_tls = true\ntimeout = 5\n")
    (tmp_path / "data").mkdir(exist_ok=True)
    return base_env(LUIGI_CONFIG_PATH=str(cfg), RUNNER_TASKS_DATA=str(tmp_path / "data"),
                    RUNNER_TASKS_LEDGER=str(tmp_path / "ledger.txt"), LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}")  # fmt: skip


def _luigi_build(env: dict[str, str], family: str) -> None:
    code = f"import luigi, tests.shim.runner_tasks as t\nluigi.build([t.{family}()], local_scheduler=True, log_level='ERROR')\n"
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)


def test_the_runner_sends_no_luigi_failure_mail_where_luigi_build_does(tmp_path: Path, smtp_sink) -> None:
    port, sink = smtp_sink
    env = _config(tmp_path, port)
    _luigi_build(env, "MailsOnFailure")
    _luigi_build(env, "DisabledAfterOneFailure")
    # Luigi itself: the worker mails receiver and owner for each failure, its scheduler the receiver once it disables one.
    assert sink.messages == [["team@example.com", "owner@example.com"]] * 2 + [["team@example.com"]], sink.messages

    sink.connections.clear()
    sink.messages.clear()
    for family in ("MailsOnFailure", "DisabledAfterOneFailure"):
        proc = luigi_fargate("run", "--allow-any", "tests.shim.runner_tasks", family, env=env)
        assert proc.returncode == 5, proc.stderr
    assert (tmp_path / "ledger.txt").read_text().count("run MailsOnFailure") == 4  # they did fail in the runner
    assert sink.connections == [] and sink.messages == []

    # A mail the task sends on purpose (its job, not an alert) still goes out.
    proc = luigi_fargate("run", "--allow-any", "tests.shim.runner_tasks", "MailsAReport", env=env)
    assert proc.returncode == 0, proc.stderr
    assert sink.messages == [["readers@example.com"]]


def test_in_process_runs_mail_no_one_and_leave_luigis_configuration_as_it_was(cli, tmp_path: Path, monkeypatch, smtp_sink) -> None:
    """The runner is also called in-process (tools, tests): the mail stays off there, and only for the run."""
    import luigi
    from luigi.configuration import get_config
    from luigi.notifications import email

    from tests.shim.runner_tasks import MailsOnFailure

    port, sink = smtp_sink
    for name, value in _config(tmp_path, port).items():
        monkeypatch.setenv(name, value)
    config = get_config()
    settings = {("email", "receiver"): "team@example.com", ("email", "format"): "html", ("smtp", "host"): "127.0.0.1",
                ("smtp", "port"): str(port), ("smtp", "no_tls"): "true"}  # fmt: skip
    for (section, option), value in settings.items():
        config.set(section, option, value)
    try:
        assert cli("run", "--allow-any", "tests.shim.runner_tasks", "MailsOnFailure").returncode == 5
        assert sink.connections == []
        assert email().format == "html"
        # Afterwards Luigi mails as configured again (here: luigi.build in this process).
        luigi.build([MailsOnFailure()], local_scheduler=True, log_level="ERROR")
        assert sink.messages == [["team@example.com", "owner@example.com"]]
    finally:
        for section, option in settings:
            config.remove_option(section, option)
