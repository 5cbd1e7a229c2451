"""The runner called in-process (tests, tools) leaves the process as it found it.

Run in a child interpreter so that the fixture families never enter this
pytest process's Luigi registry.
"""

from __future__ import annotations

import subprocess
import sys

CHECK = r"""
import logging, signal
from luigi.cmdline_parser import CmdlineParser
from luigi_fargate.cli import main

def handler(signum, frame):
    pass

signal.signal(signal.SIGTERM, handler)
before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGUSR2), signal.getsignal(signal.SIGUSR1),
          logging.getLogger().level, logging.getLogger("luigi-interface").level, len(logging.getLogger().handlers))
codes = [main(["run", "--allow-any", "shim_tasks", "Ok", "--name", n]) for n in ("first", "second")]
codes.append(main(["run", "--allow-any", "shim_tasks", "Fails"]))
after = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGUSR2), signal.getsignal(signal.SIGUSR1),
         logging.getLogger().level, logging.getLogger("luigi-interface").level, len(logging.getLogger().handlers))
assert codes == [0, 0, 5], codes
assert after == before, (before, after)
assert CmdlineParser.get_instance() is None
print("ok")
"""


def test_signal_handlers_logging_and_luigis_parser_are_restored(shim) -> None:
    proc = subprocess.run([sys.executable, "-c", CHECK], env=shim.env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
    assert shim.lines().count("run Ok first") == 1 and shim.lines().count("run Ok second") == 1
