"""A holder that dies, is paused, is cut off or has its lease broken: the task still runs exactly once.

Kill trials fork their contenders from a warm interpreter (contenders.py);
the lease-loss tests start the installed ``luigi-fargate`` command. Leases
are 2 s. DynamoDB is moto's server, whose requests the ``moto_server``
fixture serializes (moto isn't atomic under concurrent requests; real
DynamoDB's conditional writes are).
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import BIN
from tests.locks.conftest import (
    LEASE_TTL,
    Ledger,
    LockBackendUnderTest,
    contender_results,
    env_for,
    start_contenders,
)

TRIALS = 20
#: How long each run() body takes; the holder is killed at a random point inside it.
WORK = 1.0


def _kill_holders(ledger: Ledger, names: list[str], rng: random.Random, killed: dict[str, tuple[int, float]],
                  stop: threading.Event) -> None:  # fmt: skip
    """SIGKILL the first process to start each task's run(), at a random point before it finishes."""
    timers = []
    pending = set(names)
    while pending and not stop.is_set():
        for event, name, pid, _ in ledger.entries():
            if event == "run" and name in pending:
                pending.discard(name)

                def kill(name: str = name, pid: int = pid) -> None:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:  # it exited on its own: the trial's assertions say how
                        return
                    killed[name] = (pid, time.time())

                timer = threading.Timer(rng.uniform(0.0, WORK * 0.9), kill)
                timer.start()
                timers.append(timer)
        time.sleep(0.01)
    for timer in timers:
        timer.join()


def test_killed_holder_is_taken_over(short_lease_backend: LockBackendUnderTest, tmp_path: Path) -> None:
    """20 trials: the holder is SIGKILLed mid-run(); a waiting contender completes the task, once, in full."""
    backend, ledger, out_dir = short_lease_backend, Ledger(tmp_path / "ledger"), tmp_path / "out"
    names = [f"trial{t:02d}" for t in range(TRIALS)]
    jobs = [
        {
            "id": f"{name}/{c}",
            "argv": backend.run_argv(name, out_dir, WORK),
            "log": str(tmp_path / f"{name}.{c}.log"),
        }
        for name in names
        for c in range(2)
    ]
    killed: dict[str, tuple[int, float]] = {}
    stop = threading.Event()
    seed = random.randrange(10**6)
    killer = threading.Thread(target=_kill_holders, args=(ledger, names, random.Random(seed), killed, stop))
    killer.start()
    try:
        # 10 trials (20 processes) at a time: more would make a 2-core machine miss 2 s leases.
        results = contender_results(start_contenders(jobs, env_for(backend, ledger), tmp_path, parallel=20))
    finally:
        stop.set()
        killer.join()

    runs, dones = ledger.pids("run"), ledger.pids("done")
    takeovers = []
    for name in names:
        codes = sorted(results[f"{name}/{c}"] for c in range(2))
        assert name in killed, (
            f"{name} (seed {seed}): holder gone before the kill; exit codes {codes}; logs in {tmp_path}"
        )
        victim, killed_at = killed[name]
        codes = sorted(results[f"{name}/{c}"] for c in range(2))
        assert codes == [-signal.SIGKILL, 0], f"{name} (seed {seed}): exit codes {codes}; logs in {tmp_path}"
        assert runs[name][0] == victim and len(runs[name]) == 2, f"{name}: run() bodies by {runs[name]}"
        (winner,) = dones[name]
        assert winner == runs[name][1] != victim
        # The killed holder's half-written file never became the output.
        assert (out_dir / f"{name}.txt").read_text() == f"first half by {winner}\nsecond half by {winner}\n"
        started = next(stamp for ev, nm, pid, stamp in ledger.entries() if ev == "run" and pid == winner)
        takeovers.append(started - killed_at)
    print(
        f"\n{backend.name}: {TRIALS} kill trials, takeover after kill: median {statistics.median(takeovers):.2f}s, "
        f"max {max(takeovers):.2f}s (lease {LEASE_TTL}s)"
    )


def _start(
    backend: LockBackendUnderTest, ledger: Ledger, out_dir: Path, name: str, work: float
) -> subprocess.Popen:
    return subprocess.Popen([str(BIN / "luigi-fargate"), *backend.run_argv(name, out_dir, work)],
                            env=env_for(backend, ledger), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip


def _task_id(name: str, out_dir: Path) -> str:
    proc = subprocess.run(
        [str(BIN / "python"), "-c", "import sys, lock_tasks; "
         "print(lock_tasks.LedgerTask(name=sys.argv[1], out_dir=sys.argv[2]).task_id)", name, str(out_dir)],
        env=env_for(LockBackendUnderTest("file", ""), Ledger(out_dir / "unused")), capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    return proc.stdout.strip()


def test_broken_lease_stops_the_holder_with_exit_7(
    heartbeat_backend: LockBackendUnderTest, tmp_path: Path
) -> None:
    """`locks break` while the task runs: the holder's next heartbeat fails, it exits 7, nothing is published."""
    backend, ledger, out_dir = heartbeat_backend, Ledger(tmp_path / "ledger"), tmp_path / "out"
    holder = _start(backend, ledger, out_dir, "broken", 60)
    ledger.wait_for("run", "broken")
    broke = subprocess.run(
        [str(BIN / "luigi-fargate"), "locks", "break", "--yes", "--lock", backend.url, _task_id("broken", out_dir)],
        env=env_for(backend, ledger), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert broke.returncode == 0, broke.stdout + broke.stderr
    out, _ = holder.communicate(timeout=30)
    assert holder.returncode == 7, out
    assert "lost the lock's lease" in out
    assert not (out_dir / "broken.txt").exists()
    assert ledger.count("done")["broken"] == 0


def test_paused_holder_is_taken_over_and_exits_7_on_resume(heartbeat_backend: LockBackendUnderTest,
                                                          tmp_path: Path) -> None:  # fmt: skip
    """A paused container (SIGSTOP) loses its lease; another runner completes the task; on resume the old
    holder stops with exit 7 instead of finishing, and its output is never published."""
    backend, ledger, out_dir = heartbeat_backend, Ledger(tmp_path / "ledger"), tmp_path / "out"
    holder = _start(backend, ledger, out_dir, "paused", 30)
    ledger.wait_for("run", "paused")
    holder.send_signal(signal.SIGSTOP)
    try:
        taker = _start(backend, ledger, out_dir, "paused", 0.2)
        taker_out, _ = taker.communicate(timeout=60)
        assert taker.returncode == 0, taker_out
    finally:
        holder.send_signal(signal.SIGCONT)
    out, _ = holder.communicate(timeout=30)
    assert holder.returncode == 7, out
    assert (out_dir / "paused.txt").read_text() == f"first half by {taker.pid}\nsecond half by {taker.pid}\n"
    assert ledger.pids("done")["paused"] == [taker.pid]


@pytest.mark.parametrize("outage, survives", [(0.6, True), (LEASE_TTL + 2, False)])
def test_scheduler_outage_within_the_lease_is_survived(luigid_servers, tmp_path: Path, outage: float,
                                                       survives: bool) -> None:  # fmt: skip
    """luigid unreachable (SIGSTOP) during a run: renewals are retried while the lease lasts. A short
    outage costs nothing; one longer than the lease stops the holder (exit 7) before luigid could
    hand the task to someone else."""
    backend = LockBackendUnderTest("luigid", luigid_servers.url(LEASE_TTL))
    scheduler = luigid_servers.proc(LEASE_TTL)
    ledger, out_dir = Ledger(tmp_path / "ledger"), tmp_path / "out"
    holder = _start(backend, ledger, out_dir, f"outage{outage:g}", 2.0)
    ledger.wait_for("run", f"outage{outage:g}")
    scheduler.send_signal(signal.SIGSTOP)
    try:
        time.sleep(outage)
    finally:
        scheduler.send_signal(signal.SIGCONT)
    out, _ = holder.communicate(timeout=60)
    if survives:
        assert holder.returncode == 0, out
        assert (out_dir / f"outage{outage:g}.txt").exists()
    else:
        assert holder.returncode == 7, out
        assert not (out_dir / f"outage{outage:g}.txt").exists()
