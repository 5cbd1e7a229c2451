"""A real local Airflow deployment: api-server, scheduler, dag-processor and triggerer, each its own process.

`make airflow` starts it for you to click through the UI; tests/deployment and
bench/deployment_vs_dags_test.py drive the same deployment through the REST API.
It is what `airflow standalone` runs (LocalExecutor on SQLite), with every
component started separately so that one of them can be killed and restarted,
and with nothing listening beyond 127.0.0.1: the api-server binds to
127.0.0.1, and the scheduler and triggerer start no log server
(`--skip-serve-logs`; the api-server reads task logs from the local files).

    python examples/local_deployment.py [--port 8080] [--dir local-airflow]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
#: The simple auth manager's one user ([core] simple_auth_manager_users = admin:admin).
ADMIN_USER = "admin"
#: Every process of one deployment carries this variable (with its own value) and runs in its
#: folder, so the ones left behind by a killed parent (LocalExecutor workers, task runners)
#: are found and stopped.
MARKER_ENV = "LUIGI_FARGATE_LOCAL_DEPLOYMENT"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
TERMINAL_RUN_STATES = frozenset({"success", "failed"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((HOST, port)) == 0


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(interval)


class LocalDeployment:
    """One Airflow deployment under ``root``: ``airflow/`` (home, SQLite DB, task logs), ``dags/``, ``logs/``.

    :param root: folder that holds everything of this deployment
    :param port: api-server port on 127.0.0.1
    :param env: extra environment for every component (and so for every task: LocalExecutor's
        task processes inherit the scheduler's environment)
    """

    def __init__(self, root: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.root = root.resolve()
        self.home = self.root / "airflow"
        self.dags = self.root / "dags"
        self.logs = self.root / "logs"
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.extra_env = dict(env or {})
        self.marker = secrets.token_hex(8)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}  # the current process of each component
        self._token: str | None = None
        for d in (self.home, self.dags, self.logs):
            d.mkdir(parents=True, exist_ok=True)

    # -- processes -----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        jwt_secret_file = self.home / "jwt_secret"
        if not jwt_secret_file.exists():
            jwt_secret_file.touch(mode=0o600)
            jwt_secret_file.write_text(secrets.token_urlsafe(32))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{self.home / 'airflow.db'}",
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            # LocalExecutor forks this many workers up front; a laptop needs few.
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.url}/execution/",
            AIRFLOW__API__HOST=HOST,
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__BASE_URL=self.url,
            # One secret for every component: the api-server must accept the tokens the scheduler signs.
            AIRFLOW__API_AUTH__JWT_SECRET=jwt_secret_file.read_text(),
            **{MARKER_ENV: self.marker},
        )
        env.update(self.extra_env)
        return env

    def airflow(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run one ``airflow`` CLI command against this deployment; raise with its output if it fails."""
        proc = subprocess.run([str(BIN / "airflow"), *args], env=self.env(), capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
        return proc

    def migrate(self) -> None:
        self.airflow("db", "migrate")

    def command(self, component: str) -> list[str]:
        options = {
            "api-server": ["--host", HOST, "--port", str(self.port), "--workers", "1"],
            "scheduler": ["--skip-serve-logs"],
            "dag-processor": [],
            "triggerer": ["--skip-serve-logs"],
        }[component]
        return [str(BIN / "airflow"), component, *options]

    def start(self, *components: str) -> None:
        """Start components (default: all four), each in its own session, output appended to logs/NAME.log."""
        for name in components or COMPONENTS:
            if name in self.processes and self.processes[name].poll() is None:
                raise RuntimeError(f"{name} is already running (pid {self.processes[name].pid})")
            with (self.logs / f"{name}.log").open("ab") as log:
                proc = subprocess.Popen(
                    self.command(name), env=self.env(), cwd=self.root, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            self.processes[name] = proc

    def kill(self, component: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the component's main process only (a crash: its children live on)."""
        proc = self.processes[component]
        proc.send_signal(sig)
        proc.wait(60)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every running component's process group, SIGKILL what is left after ``timeout``,
        then every process this deployment started, even those whose parent was killed."""
        running = [p for p in self.processes.values() if p.poll() is None]
        for proc in running:
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)
        deadline = time.monotonic() + timeout
        while (left := self.leftover_pids()) and time.monotonic() < deadline:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.2)

    def leftover_pids(self) -> list[int]:
        """Processes of this deployment still alive: the environment marker, or (Airflow's
        setproctitle overwrites what /proc shows of the environment) a working directory here."""
        import psutil

        found = []
        for p in psutil.process_iter():
            try:
                if p.pid == os.getpid() or p.status() == psutil.STATUS_ZOMBIE:
                    continue
                if p.environ().get(MARKER_ENV) == self.marker or Path(p.cwd()).is_relative_to(self.root):
                    found.append(p.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def component_logs(self, tail: int = 4000) -> str:
        """The end of every component's log, for a failure report."""
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            parts.append(f"===== {log.name} (last {tail} chars) =====\n{log.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    # -- readiness -----------------------------------------------------------------

    def wait_ready(self, timeout: float = 240) -> None:
        """Until the api-server answers and reports the scheduler, dag-processor and triggerer healthy."""

        def healthy() -> bool:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode} while starting:\n{self.component_logs()}")
            try:
                health = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=10).json()
            except (httpx.HTTPError, ValueError):
                return False
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            return all((health.get(p) or {}).get("status") == "healthy" for p in parts)

        wait_until("Airflow components healthy", healthy, timeout, interval=1)

    def password(self) -> str:
        """The admin password the simple auth manager generated when the api-server first started."""
        passwords = json.loads((self.home / "simple_auth_manager_passwords.json.generated").read_text())
        return passwords[ADMIN_USER]

    # -- REST API ------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One REST call with a token from ``POST /auth/token``; the JSON answer."""
        if self._token is None:
            answer = httpx.post(f"{self.url}/auth/token", json={"username": ADMIN_USER, "password": self.password()}, timeout=30)
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        headers = {"Authorization": f"Bearer {self._token}", **kwargs.pop("headers", {})}
        answer = httpx.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {answer.status_code}: {answer.text[:2000]}")
        return answer.json() if answer.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the dag-processor has parsed ``dag_id`` (it is then listed, with no import error)."""

        def parsed() -> bool:
            errors = self.api("GET", "/api/v2/importErrors")["import_errors"]
            if errors:
                raise RuntimeError(f"DAG import errors: {errors}")
            dags = self.api("GET", "/api/v2/dags", params={"dag_id_pattern": dag_id})["dags"]
            return any(d["dag_id"] == dag_id for d in dags)

        wait_until(f"DAG {dag_id} parsed by the dag-processor", parsed, timeout, interval=1)

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, logical_date: str) -> str:
        """Start a run of ``dag_id`` for ``logical_date`` (YYYY-MM-DD); its run id."""
        run = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": f"{logical_date}T00:00:00+00:00"})
        return run["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """Until the run is success or failed; that state."""
        return wait_until(
            f"run {run_id} of {dag_id} finished",
            lambda: (state if (state := self.run_state(dag_id, run_id)) in TERMINAL_RUN_STATES else None),
            timeout,
            interval=1,
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        """The task's log as Airflow shows it, one line per entry (the REST API's structured log)."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        content = self.api("GET", path, params={"full_content": "true"}, headers={"Accept": "application/json"})["content"]
        return "\n".join(entry.get("event", "") if isinstance(entry, dict) else str(entry) for entry in content)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def running(deployment: LocalDeployment, timeout: float = 240) -> Iterator[LocalDeployment]:
    """Start every component, wait until healthy, and always stop everything on the way out."""
    try:
        deployment.start()
        deployment.wait_ready(timeout)
        yield deployment
    finally:
        deployment.stop()


def export_example(deployment: LocalDeployment, date: str) -> str:
    """Export examples.pipeline.Report into the deployment's dags folder; the DAG id."""
    cmd = [str(BIN / "luigi-fargate"), "export", "examples.pipeline.Report", "--date", date, "--out", str(deployment.dags)]
    proc = subprocess.run(cmd, env=deployment.env(), capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"export failed: {proc.stderr}")
    return "pipeline_report"


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(deployment: LocalDeployment, dag_id: str) -> int:
    """Start every component, print how to log in, and wait until one of them dies (exit 1)."""
    deployment.start()
    deployment.wait_ready()
    deployment.wait_for_dag(dag_id)
    deployment.unpause(dag_id)
    print(f"\nAirflow is up: {deployment.url}")
    print(f"  log in as {ADMIN_USER}, password {deployment.password()}")
    print(f"  the DAG {dag_id} is unpaused: press Trigger on {deployment.url}/dags/{dag_id}")
    print(f"  Luigi outputs land in {deployment.root / 'data'}, component logs in {deployment.logs}")
    print("Ctrl-C stops every component.", flush=True)
    while all(p.poll() is None for p in deployment.processes.values()):
        time.sleep(1)
    dead = ", ".join(f"{n} (exit {p.returncode})" for n, p in deployment.processes.items() if p.poll() is not None)
    print(f"local-airflow: {dead} stopped on its own; see {deployment.logs}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Start a local Airflow deployment with the example pipeline; Ctrl-C stops it.")
    parser.add_argument("--port", type=int, default=8080, help="api-server port on 127.0.0.1 (default: 8080)")
    parser.add_argument("--dir", type=Path, default=ROOT / "local-airflow", help="where the deployment lives (default: ./local-airflow)")
    args = parser.parse_args(argv)
    if port_in_use(args.port):
        print(f"local-airflow: port {args.port} on {HOST} is in use; pick another: make airflow PORT={free_port()}", file=sys.stderr)
        return 2
    root = args.dir.resolve()
    deployment = LocalDeployment(root, args.port, env={
        "PYTHONPATH": str(ROOT),
        "EXAMPLE_DATA_DIR": str(root / "data"),
        "LUIGI_FARGATE_LOCK": f"file://{root / 'locks'}",
    })  # fmt: skip
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)  # `kill` stops it as cleanly as Ctrl-C
    code = 0
    try:
        dag_id = export_example(deployment, "2026-11-01")
        print(f"exported examples.pipeline.Report into {deployment.dags}; migrating the metadata database ...")
        deployment.migrate()
        print(f"starting {', '.join(COMPONENTS)} on {HOST} ...", flush=True)
        code = serve(deployment, dag_id)
    except KeyboardInterrupt:
        print("\nstopping every component ...", flush=True)
    except (RuntimeError, TimeoutError) as exc:
        print(f"local-airflow: error: {exc}\n(component logs in {deployment.logs})", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not leave components behind
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        deployment.stop()
    left = deployment.leftover_pids()
    print(f"still running: pids {left}" if left else "stopped: no component left running", flush=True)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
