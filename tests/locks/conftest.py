"""Lock backends for the tests, each real: a directory, a ``luigid`` on 127.0.0.1, DynamoDB in moto's server.

Leases are short (2 s) in takeover tests so that takeovers happen within
seconds. DynamoDB runs in moto's server, whose requests the
shared ``moto_server`` fixture serializes: moto is not atomic under
concurrent requests, real DynamoDB's conditional writes are.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import BIN, base_env

HERE = Path(__file__).resolve().parent
#: Lease length for takeover tests; luigid's worker_disconnect_delay is set to the same.
LEASE_TTL = 2
#: Lease length for the contention tests: there a lost lease would be the machine's
#: slowness (moto answers one request at a time), not what is under test.
CONTENTION_LEASE = 10
HEARTBEAT = 0.3


@dataclass
class LockBackendUnderTest:
    name: str
    url: str
    env: dict[str, str] = field(default_factory=dict)
    #: --lock-poll. luigid and moto answer every poll in one Python thread: poll them less often.
    poll: str = "0.3"

    def run_argv(self, name: str, out_dir: Path, sleep: float) -> list[str]:
        """``luigi-fargate run`` arguments for one contender of task ``name``."""
        return [
            "run", "--lock", self.url, "--lock-poll", self.poll, "--allow-any",
            "lock_tasks", "LedgerTask", "--name", name, "--out-dir", str(out_dir), "--sleep", str(sleep),
        ]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LuigidServers:
    """Real central schedulers on 127.0.0.1, one per ``worker_disconnect_delay`` a test needs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: dict[float, subprocess.Popen] = {}
        self.ports: dict[float, int] = {}

    def url(self, lease: float) -> str:
        if lease not in self.procs:
            self._start(lease)
        heartbeat = min(HEARTBEAT, lease / 4)
        return f"luigid://127.0.0.1:{self.ports[lease]}?heartbeat={heartbeat:g}&ttl={lease:g}"

    def proc(self, lease: float) -> subprocess.Popen:
        self.url(lease)
        return self.procs[lease]

    def _start(self, lease: float) -> None:
        root = self.root / f"lease{lease:g}"
        (root / "logs").mkdir(parents=True)
        config = root / "luigid.cfg"
        # A dead worker is forgotten (its task freed) after `lease` seconds.
        config.write_text(f"[scheduler]\nworker_disconnect_delay = {lease:g}\nretry_delay = 1\n")
        port = _free_port()
        proc = subprocess.Popen(
            [str(BIN / "luigid"), "--address", "127.0.0.1", "--port", str(port),
             "--logdir", str(root / "logs"), "--state-path", str(root / "state.pickle")],
            env=base_env(LUIGI_CONFIG_PATH=str(config)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, f"luigid exited with {proc.returncode}; logs in {root / 'logs'}"
                assert time.monotonic() < deadline, "luigid did not listen within 30 s"
                time.sleep(0.1)
        self.procs[lease], self.ports[lease] = proc, port

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.send_signal(signal.SIGCONT)  # in case a test left it paused
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def luigid_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LuigidServers]:
    servers = LuigidServers(tmp_path_factory.mktemp("luigid"))
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def dynamodb_table(moto_server: str) -> str:
    """A lock table created by the real ``luigi-fargate locks init`` in moto's server; returns its URL."""
    url = "dynamodb://lf-locks?region=us-east-1"
    env = base_env(AWS_ENDPOINT_URL_DYNAMODB=moto_server)
    proc = subprocess.run([str(BIN / "luigi-fargate"), "locks", "init", "--lock", url], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return url


def make_backend(
    request: pytest.FixtureRequest, name: str, lease: float, tmp_path: Path
) -> LockBackendUnderTest:
    if name == "file":
        return LockBackendUnderTest("file", f"file://{tmp_path / 'locks'}", poll="0.1")
    if name == "luigid":
        return LockBackendUnderTest("luigid", request.getfixturevalue("luigid_servers").url(lease))
    table = request.getfixturevalue("dynamodb_table")
    heartbeat = min(HEARTBEAT, lease / 4)
    return LockBackendUnderTest(
        "dynamodb", f"{table}&ttl={lease:g}&heartbeat={heartbeat:g}",
        {"AWS_ENDPOINT_URL_DYNAMODB": request.getfixturevalue("moto_server")},
    )  # fmt: skip


@pytest.fixture(params=["file", "luigid", "dynamodb"])
def lock_backend(request: pytest.FixtureRequest, tmp_path: Path) -> LockBackendUnderTest:
    """Each backend with a lease long enough that a busy 2-core machine never loses it (mutual exclusion)."""
    return make_backend(request, request.param, CONTENTION_LEASE, tmp_path)


@pytest.fixture(params=["file", "luigid", "dynamodb"])
def short_lease_backend(request: pytest.FixtureRequest, tmp_path: Path) -> LockBackendUnderTest:
    """Each backend with a 2 s lease, so that a dead holder's task is taken over within seconds."""
    return make_backend(request, request.param, LEASE_TTL, tmp_path)


@pytest.fixture(params=["luigid", "dynamodb"])
def heartbeat_backend(request: pytest.FixtureRequest, tmp_path: Path) -> LockBackendUnderTest:
    """The backends whose leases expire (a dead holder's file lock is freed by the kernel at once)."""
    return make_backend(request, request.param, LEASE_TTL, tmp_path)


@dataclass
class Ledger:
    """What the LedgerTask runs wrote: ``(event, name, pid, time)`` per line."""

    path: Path

    def entries(self) -> list[tuple[str, str, int, float]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            event, name, pid, stamp = line.split()
            out.append((event, name, int(pid), float(stamp)))
        return out

    def count(self, event: str) -> Counter[str]:
        return Counter(name for ev, name, _, _ in self.entries() if ev == event)

    def pids(self, event: str) -> dict[str, list[int]]:
        found: dict[str, list[int]] = defaultdict(list)
        for ev, name, pid, _ in self.entries():
            if ev == event:
                found[name].append(pid)
        return found

    def wait_for(self, event: str, name: str, timeout: float = 30) -> tuple[int, float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev, nm, pid, stamp in self.entries():
                if ev == event and nm == name:
                    return pid, stamp
            time.sleep(0.02)
        raise AssertionError(f"no {event!r} line for {name} within {timeout} s: {self.entries()}")


def start_contenders(
    jobs: list[dict], env: dict[str, str], work: Path, parallel: int = 0
) -> subprocess.Popen:
    """Fork one ``luigi-fargate run`` process per job (see contenders.py); returns the launcher."""
    spec = work / f"jobs-{time.monotonic_ns()}.json"
    spec.write_text(json.dumps(jobs))
    launcher_env = dict(env, LOCK_CONTENDERS_PARALLEL=str(parallel))
    return subprocess.Popen([sys.executable, str(HERE / "contenders.py"), str(spec)], env=launcher_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def contender_results(launcher: subprocess.Popen, timeout: float = 180) -> dict[str, int]:
    out, err = launcher.communicate(timeout=timeout)
    assert launcher.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def env_for(backend: LockBackendUnderTest, ledger: Ledger) -> dict[str, str]:
    return base_env(LOCK_TASKS_LEDGER=str(ledger.path), **backend.env)
