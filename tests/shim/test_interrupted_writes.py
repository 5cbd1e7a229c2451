"""A run killed mid-write leaves Luigi's ``-luigi-tmp-`` file; the next run of the same task removes it, and only it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import luigi
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import BIN, base_env

MODULE = "tests.shim.runner_tasks"


def test_the_next_run_removes_what_a_sigkill_mid_write_left_and_completes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    events = tmp_path / "events.jsonl"
    env = base_env(RUNNER_TASKS_DATA=str(data), RUNNER_TASKS_LEDGER=str(tmp_path / "ledger.txt"),
                   LUIGI_FARGATE_LOCK=f"file://{tmp_path / 'locks'}", LUIGI_FARGATE_EVENTS_FILE=str(events))  # fmt: skip
    # Not this task's: another output's temporary, and a name of this output Luigi never makes.
    strangers = [data / "other.bin-luigi-tmp-0123456789", data / "big.bin-luigi-tmp-12", data / "big.bin.partial"]
    for path in strangers:
        path.write_text("keep")
    runner = subprocess.Popen([str(BIN / "luigi-fargate"), "run", "--allow-any", MODULE, "WritesSlowly", "--mb", "64", "--pause", "0.5"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    ledger = tmp_path / "ledger.txt"
    deadline = time.monotonic() + 30
    while not (ledger.exists() and "writing" in ledger.read_text()):
        assert time.monotonic() < deadline and runner.poll() is None
        time.sleep(0.05)
    runner.send_signal(signal.SIGKILL)
    assert runner.wait(30) == -signal.SIGKILL
    [left] = [p for p in data.iterdir() if p.name.startswith("big.bin-luigi-tmp-") and p not in strangers]
    assert left.stat().st_size >= 1 << 20
    assert not (data / "big.bin").exists()

    # The next run (A) removes it once it holds the lock, and writes anew; a second runner (B) started
    # meanwhile waits for the lock and must not touch A's temporary file (A's rename would then fail).
    command = [str(BIN / "luigi-fargate"), "run", "--allow-any", "--lock-poll", "0.1", MODULE, "WritesSlowly", "--mb", "64"]
    first = subprocess.Popen([*command, "--pause", "0.04"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while ledger.read_text().count("writing") < 2:
        assert time.monotonic() < deadline + 30 and first.poll() is None, first.stderr.read() if first.stderr else ""
        time.sleep(0.02)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.wait(120) == 0, first.stderr.read() if first.stderr else ""
    assert second.returncode == 0, second.stderr
    assert ledger.read_text().count("written") == 1
    assert (data / "big.bin").stat().st_size == 64 << 20
    assert not left.exists()
    assert all(p.read_text() == "keep" for p in strangers)
    records = [json.loads(line) for line in events.read_text().splitlines()]
    removed = [e for e in records if e["event"] == "temp_removed"]
    assert [(e["pid"], e["paths"]) for e in removed] == [(first.pid, str(left))]
    waited = [e["event"] for e in records if e["event"] in ("lock_wait", "already_complete") and e["pid"] != first.pid]
    assert waited == ["lock_wait", "already_complete"], records


class _Outputs(luigi.Task):
    """A task whose outputs are given: local files, a folder, and a target that isn't local."""

    folder = luigi.Parameter()
    names = luigi.ListParameter()

    def output(self):
        from luigi.mock import MockTarget

        return [luigi.LocalTarget(os.path.join(self.folder, n)) for n in self.names] + [MockTarget(os.path.join(self.folder, "mock"))]


names = st.text(st.sampled_from("abc.-_0123456789"), min_size=1, max_size=12).filter(lambda n: n not in (".", ".."))
digits = st.text(st.sampled_from("0123456789"), min_size=1, max_size=12)
suffixes = st.one_of(
    digits.map(lambda d: f"-luigi-tmp-{d}"),  # Luigi's form when 9 or 10 digits, else not
    st.integers(0, 10**10 - 1).map(lambda n: f"-luigi-tmp-{n:09d}"),  # always Luigi's form
    st.sampled_from(["", "-luigi-tmp-", "-luigi-tmp-012345678x", ".tmp", "-luigi-tmp-0123456789.bak", "-tmp-012345678"]),
)


@settings(max_examples=60, deadline=None)
@given(own=st.lists(names, min_size=1, max_size=3, unique=True), others=st.lists(st.tuples(names, suffixes), max_size=8),
       own_temps=st.lists(st.tuples(st.integers(0, 2), suffixes), max_size=6))  # fmt: skip
def test_only_luigi_temporaries_of_this_tasks_outputs_are_removed(tmp_path_factory, own, others, own_temps) -> None:
    from luigi_fargate.shim.temp_outputs import is_luigi_temp_of, remove_interrupted_temp_files

    folder = tmp_path_factory.mktemp("outputs")
    created: set[str] = set()
    for name, suffix in others + [(own[i % len(own)], s) for i, s in own_temps]:
        if name + suffix not in own:
            (folder / (name + suffix)).write_text("x")
            created.add(name + suffix)
    (folder / "mock-luigi-tmp-0123456789").write_text("not a local output's")
    created.add("mock-luigi-tmp-0123456789")

    removed = {os.path.basename(p) for p in remove_interrupted_temp_files(_Outputs(folder=str(folder), names=own))}

    # Luigi's names: the output's path, "-luigi-tmp-", 9 or 10 digits (local_target.atomic_file, target.temporary_path).
    tails = {c[len(n) + len("-luigi-tmp-"):] for n in own for c in created if c.startswith(n + "-luigi-tmp-")}
    expected = {n + "-luigi-tmp-" + t for n in own for t in tails if t.isdigit() and len(t) in (9, 10)} & created
    assert removed == expected
    assert all(is_luigi_temp_of(c, n) == (c in expected) for c in created for n in own if len(own) == 1)
    assert {p.name for p in folder.iterdir()} == created - removed
