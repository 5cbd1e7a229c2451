"""Shared fixtures: a real Airflow home on SQLite, moto's server on 127.0.0.1, real subprocesses.

Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TESTS = Path(__file__).resolve().parent

# Fake credentials: boto3 must never find real ones while tests run.
for _k, _v in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[_k] = _v
# In-process Airflow (DagBag, operators) gets a throwaway home, never ~/airflow.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="lf-test-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"


def base_env(**extra: str) -> dict[str, str]:
    """Environment for subprocesses: the repo and tests/fixtures importable, no user Luigi config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LUIGI"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(TESTS / "fixtures")])
    env["LUIGI_CONFIG_PATH"] = str(TESTS / "fixtures" / "empty-luigi.cfg")
    env.update(extra)
    return env


def luigi_fargate(*args: str, env: dict[str, str] | None = None, cwd: str | Path | None = None,
                  timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run the real ``luigi-fargate`` command line in a subprocess."""
    return subprocess.run(
        [str(BIN / "luigi-fargate"), *args], env=env or base_env(), cwd=cwd, text=True,
        capture_output=True, timeout=timeout, **kwargs,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def exported_specs_follow_the_contract(tmp_path: Path) -> Iterator[None]:
    """Every spec a test exports (a ``<dag_id>.json`` next to its ``<dag_id>.py`` stub) passes the
    published JSON Schema and reads back into the types as the same bytes (see tests/spec/test_schema.py)."""
    yield
    from tests.spec.contract import check_exported_specs

    check_exported_specs(tmp_path)

@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """``luigi-fargate ARGS`` in this process: the fast way to test many inputs (a subprocess costs ~1 s).

    Keep a few real subprocess cases (``luigi_fargate(...)``) beside: they test the installed command.
    """
    from luigi_fargate.cli import main

    monkeypatch.syspath_prepend(str(TESTS / "fixtures"))
    monkeypatch.syspath_prepend(str(REPO))
    monkeypatch.setenv("LUIGI_CONFIG_PATH", str(TESTS / "fixtures" / "empty-luigi.cfg"))

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors (exit 2) and --help
            code = exc.code if isinstance(exc.code, int) else 1
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run


@functools.cache
def installed_entrypoint() -> Path:
    """The container entrypoint as an image installs it (``luigi-fargate entrypoint-path --install``),
    for this virtualenv's Python; the packaged entrypoint.sh is only a template."""
    dest = Path(tempfile.mkdtemp(prefix="lf-test-entrypoint-")) / "luigi-fargate-entrypoint"
    proc = luigi_fargate("entrypoint-path", "--install", str(dest))
    assert proc.returncode == 0, proc.stderr
    return dest


@pytest.fixture(scope="session")
def airflow_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow home migrated once per session; tests copy it (migration takes ~6 s)."""
    home = tmp_path_factory.mktemp("airflow-template")
    env = base_env(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    proc = subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home


class AirflowHome:
    """A throwaway AIRFLOW_HOME with its own dags folder, for ``airflow dags test``."""

    def __init__(self, root: Path, template: Path) -> None:
        self.root = root
        self.home = root / "airflow"
        self.dags = root / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        shutil.copytree(template, self.home)

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(**{
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            # The copied airflow.cfg still names the template's database: each home uses its own copy.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            **extra,
        })

    def dags_test(self, dag_id: str, date: str, timeout: float = 600, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "airflow"), "dags", "test", dag_id, date], env=self.env(**extra_env), text=True,
            capture_output=True, timeout=timeout,
        )  # fmt: skip


@pytest.fixture
def airflow_home(tmp_path: Path, airflow_db_template: Path) -> AirflowHome:
    return AirflowHome(tmp_path, airflow_db_template)


class _SerializedApp:
    """Run one request at a time. moto's server isn't atomic under concurrent requests
    (real DynamoDB's conditional writes are), so lock tests serialize it."""

    def __init__(self, app) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            return list(self.app(environ, start_response))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's real HTTP server on 127.0.0.1 (requests serialized); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    server._server.app = _SerializedApp(server._server.app)  # noqa: SLF001 - see _SerializedApp
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_reset(moto_server: str) -> str:
    """A clean moto state for one test."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"), timeout=10).read()
    return moto_server
