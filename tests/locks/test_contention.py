"""Many contenders for the same task: its run() body executes exactly once, and all of them exit 0."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.conftest import BIN
from tests.locks.conftest import Ledger, LockBackendUnderTest, contender_results, env_for, start_contenders

ROUNDS = 50
CONTENDERS = 8
#: Long enough that most contenders of a round find the lock held and wait.
HOLD = 0.3


def _check_rounds(ledger: Ledger, out_dir: Path, names: list[str]) -> None:
    runs, dones = ledger.count("run"), ledger.count("done")
    twice = {name: runs[name] for name in names if runs[name] != 1}
    assert not twice, f"run() bodies per round (should be exactly 1): {twice}"
    assert all(dones[name] == 1 for name in names), dones
    for name in names:
        (pid,) = ledger.pids("run")[name]
        assert (out_dir / f"{name}.txt").read_text() == f"first half by {pid}\nsecond half by {pid}\n"


def test_eight_contenders_run_each_round_exactly_once(
    lock_backend: LockBackendUnderTest, tmp_path: Path
) -> None:
    """50 rounds x 8 contenders forked together (3 rounds at a time): one run() per round, all exit 0."""
    began = time.monotonic()
    ledger, out_dir = Ledger(tmp_path / "ledger"), tmp_path / "out"
    names = [f"round{r:03d}" for r in range(ROUNDS)]
    jobs = [
        {
            "id": f"{name}/{c}",
            "argv": lock_backend.run_argv(name, out_dir, HOLD),
            "log": str(tmp_path / f"{name}.{c}.log"),
        }
        for name in names
        for c in range(CONTENDERS)
    ]
    results = contender_results(
        start_contenders(jobs, env_for(lock_backend, ledger), tmp_path, parallel=3 * CONTENDERS)
    )
    failed = {job: code for job, code in results.items() if code != 0}
    assert not failed, f"contenders that did not exit 0: {failed}; logs in {tmp_path}"
    assert len(results) == ROUNDS * CONTENDERS
    _check_rounds(ledger, out_dir, names)
    waited = sum("held by another runner; waiting" in log.read_text() for log in tmp_path.glob("*.log"))
    print(
        f"\n{lock_backend.name}: {ROUNDS} rounds x {CONTENDERS} contenders: {ROUNDS} run() bodies, "
        f"{len(results)} exits 0, {waited} contenders waited on a held lock, {time.monotonic() - began:.1f}s"
    )


def test_installed_command_contenders(lock_backend: LockBackendUnderTest, tmp_path: Path) -> None:
    """The same through the installed console script: 8 separate `luigi-fargate run` processes, one round."""
    ledger, out_dir = Ledger(tmp_path / "ledger"), tmp_path / "out"
    env = env_for(lock_backend, ledger)
    procs = [
        subprocess.Popen(
            [str(BIN / "luigi-fargate"), *lock_backend.run_argv("exec-round", out_dir, 1.0)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        for _ in range(CONTENDERS)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * CONTENDERS, outputs
    _check_rounds(ledger, out_dir, ["exec-round"])
    # The ones that waited say why they ran nothing.
    assert (
        sum("completed by another runner" in out or "already complete" in out for out in outputs)
        == CONTENDERS - 1
    )
