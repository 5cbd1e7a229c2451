"""Luigi tasks with known resource use, mail and slow writes, for the runner's usage, e-mail and temp-file tests.

Outputs go to $RUNNER_TASKS_DATA; each task appends what it did to
$RUNNER_TASKS_LEDGER so tests can wait for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import luigi


def data(name: str) -> luigi.LocalTarget:
    """An output in $RUNNER_TASKS_DATA, read when asked (in-process tests change it between runs)."""
    return luigi.LocalTarget(os.path.join(os.environ.get("RUNNER_TASKS_DATA", "runner-tasks-data"), name))


#: A child process that holds MB resident and burns SECONDS of CPU (argv: MB SECONDS).
CHILD = (
    "import sys, time\n"
    "held = b'x' * (int(sys.argv[1]) << 20)\n"
    "t0 = time.process_time()\n"
    "while time.process_time() - t0 < float(sys.argv[2]):\n"
    "    pass\n"
)


def note(what: str) -> None:
    ledger = os.environ.get("RUNNER_TASKS_LEDGER")
    if ledger:
        with open(ledger, "a") as fh:
            fh.write(what + "\n")


def burn(seconds: float) -> None:
    """Exactly ``seconds`` of this process's CPU time (user + system)."""
    t0 = time.process_time()
    while time.process_time() - t0 < seconds:
        pass


class Uses(luigi.Task):
    """Holds ``mb`` MiB and burns ``cpu`` s in the runner's process, then the same in a child (``child_mb``, ``child_cpu``)."""

    name = luigi.Parameter()
    mb = luigi.IntParameter(default=0)
    cpu = luigi.FloatParameter(default=0.0)
    child_mb = luigi.IntParameter(default=0)
    child_cpu = luigi.FloatParameter(default=0.0)
    idle = luigi.FloatParameter(default=0.0)  # seconds spent waiting (on a database, say): wall time, no CPU

    def output(self):
        return data(f"uses-{self.name}.txt")

    def run(self):
        held = b"x" * (self.mb << 20)  # touched: every page resident
        burn(self.cpu)
        time.sleep(self.idle)
        if self.child_mb or self.child_cpu:
            subprocess.run([sys.executable, "-c", CHILD, str(self.child_mb), str(self.child_cpu)], check=True)
        with self.output().open("w") as f:
            f.write(f"{len(held)}\n")


class MailsOnFailure(luigi.Task):
    """Fails; its owner wants Luigi's failure mail."""

    owner_email = "owner@example.com"

    def output(self):
        return data("never.txt")

    def run(self):
        note("run MailsOnFailure")
        raise RuntimeError("the ledger does not balance")


class WritesSlowly(luigi.Task):
    """Writes ``mb`` MiB through Luigi's atomic write, one MiB per ``pause`` seconds."""

    name = luigi.Parameter(default="big")
    mb = luigi.IntParameter(default=8)
    pause = luigi.FloatParameter(default=0.0, significant=False)

    def output(self):
        return data(f"{self.name}.bin")

    def run(self):
        chunk = "x" * (1 << 20)
        with self.output().open("w") as f:
            for i in range(self.mb):
                f.write(chunk)
                f.flush()
                if i == 0:
                    note("writing")
                time.sleep(self.pause)
        note("written")


class Dated(luigi.Task):
    """A daily task: its Luigi id changes with the run date."""

    date = luigi.DateParameter()

    def output(self):
        return data(f"dated-{self.date}.txt")

    def run(self):
        with self.output().open("w") as f:
            f.write(f"{self.date}\n")


class MailsAReport(luigi.Task):
    """Mails a report on purpose, through Luigi's own mailer: that is the task's job, not an alert."""

    def output(self):
        return data("report-sent.txt")

    def run(self):
        from luigi.notifications import send_email

        send_email("daily report", "all good", "luigi@example.com", ["readers@example.com"])
        with self.output().open("w") as f:
            f.write("sent\n")


class DisabledAfterOneFailure(MailsOnFailure):
    """Luigi's scheduler disables it after one failure, and mails [email] receiver about that."""

    retry_count = 1


class StartsATool(luigi.Task):
    """Runs a shell tool that notes its pid, works ``seconds``, then writes a file of its own (a side effect)."""

    seconds = luigi.IntParameter(default=30)

    def output(self):
        return data("tool-done.txt")

    def run(self):
        marker = self.output().path + ".by-the-tool"
        os.system(f"echo tool $$ >> '{os.environ['RUNNER_TASKS_LEDGER']}'; sleep {self.seconds}; echo late > '{marker}'")  # noqa: S605
        with self.output().open("w") as f:
            f.write("done\n")
