"""The installed-package layer: the built wheel in a fresh virtualenv, driven the way the task image does.

Once per test session: ``python -m build`` makes the sdist and, from it, the
wheel (from a copy of the source tree, so the tree is never written to); a
fresh virtualenv outside the source tree gets the wheel with ``pip install
-c constraints.txt`` (the Luigi side: no ``[airflow]`` extra). Every command
then runs from that virtualenv with a clean environment: no ``PYTHONPATH`` to
the repository, the working directory elsewhere, the Luigi code in an
"image" folder of its own, and the exported specs as the allowlist folder,
as deploy/Dockerfile lays them out.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

HERE = Path(__file__).resolve().parent
#: The source packages whose every module must be in the wheel.
PACKAGES = ("luigi_fargate", "airflow_bridge")


def _ignored_by_git() -> list[str]:
    """Name patterns of build output and local state, from .gitignore (one definition of it)."""
    patterns = [".git"]
    for line in (REPO / ".gitignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            patterns.append(line.strip("/"))
    return patterns


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build`` output (sdist + the wheel built from it), made once per session."""
    root = tmp_path_factory.mktemp("build")
    src = root / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(*_ignored_by_git()))
    out = root / "dist"
    # --no-isolation: the build backend is the one installed in .venv (no download in a test);
    # build still checks that it satisfies pyproject.toml's build-system requirements.
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
        cwd=root, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def built(dist: Path, pattern: str) -> Path:
    (found,) = dist.glob(pattern)
    return found


class InstalledImage:
    """A fresh virtualenv holding only the wheel, plus the folders of a task image.

    ``app`` is the image's code folder (``PYTHONPATH``), ``dags`` where the specs are
    exported, ``specs`` the allowlist folder the image bakes them into (``*.json`` only).
    """

    def __init__(self, root: Path, wheel: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.bin = self.venv / "bin"
        self.python = self.bin / "python"
        self.app = root / "app"
        self.dags = root / "dags"
        self.specs = root / "specs"
        self.home = root / "home"
        self.cwd = root / "cwd"  # somewhere that is neither the repository nor the image's code
        self.luigi_cfg = root / "luigi.cfg"
        for d in (self.app, self.dags, self.specs, self.home, self.cwd):
            d.mkdir(parents=True)
        self.luigi_cfg.write_text("")
        self._install(wheel)

    def _install(self, wheel: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True, timeout=300)
        proc = subprocess.run(
            [str(self.python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "-c", str(REPO / "constraints.txt"), str(wheel)],
            env=self.env(), cwd=self.cwd, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment, as in the image: this virtualenv first on PATH, the image's code on
        PYTHONPATH, an empty Luigi config; nothing from the test process (no repository path)."""
        env = {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(self.app),
            "LUIGI_CONFIG_PATH": str(self.luigi_cfg),
        }
        env.update(extra)
        return env

    def run(self, *argv: str | Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """Run a command (a program of this virtualenv when named bare) in the clean environment."""
        args = [str(a) for a in argv]
        if "/" not in args[0]:
            args[0] = str(self.bin / args[0])
        return subprocess.run(args, env=self.env(**env), cwd=self.cwd, capture_output=True, text=True, timeout=timeout)

    def python_json(self, code: str) -> object:
        proc = self.run(self.python, "-c", code)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory, dist: Path) -> InstalledImage:
    """The wheel in a fresh virtualenv outside the source tree (one per session, shared)."""
    image = InstalledImage(tmp_path_factory.mktemp("installed"), built(dist, "*.whl"))
    assert not image.root.resolve().is_relative_to(REPO)
    return image


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def installed_luigid(installed: InstalledImage) -> Iterator[str]:
    """The installed Luigi's own ``luigid`` on 127.0.0.1 (a lease lock that a dead runner doesn't free
    at once, unlike a file lock): yields the lock URL."""
    port = _free_port()
    state = installed.root / "luigid"
    state.mkdir()
    proc = subprocess.Popen(
        [str(installed.bin / "luigid"), "--address", "127.0.0.1", "--port", str(port),
         "--logdir", str(state), "--state-path", str(state / "state.pickle")],
        env=installed.env(), cwd=installed.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, f"luigid exited with {proc.returncode}"
                assert time.monotonic() < deadline, "luigid did not listen within 60 s"
                time.sleep(0.1)
        yield f"luigid://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


#: Importing this module leaves a marker: proof that a refused command imported nothing.
INTRUDER = """import os
open(os.environ["IMAGE_IMPORT_MARKER"], "w").close()
"""


class TaskImage:
    """The installed virtualenv laid out as deploy/Dockerfile builds the image.

    The Luigi code is tests/installed/image_tasks.py in ``app``; ``ImageAll`` is exported
    into ``dags`` and its ``*.json`` copied into the allowlist folder; the entrypoint is
    installed by the Dockerfile's own ``luigi-fargate entrypoint-path --install DEST``
    command, with DEST taken under ``fs`` (the image's file system root).
    """

    def __init__(self, installed: InstalledImage, root: Path) -> None:
        from tests.installed.dockerfile import luigi_fargate_commands

        self.installed = installed
        self.fs = root / "fs"
        (self.fs / "usr/local/bin").mkdir(parents=True)
        self.use_state(root / "state")
        shutil.copy(HERE / "image_tasks.py", installed.app / "image_tasks.py")
        (installed.app / "image_intruder.py").write_text(INTRUDER)

        export = installed.run("luigi-fargate", "export", "image_tasks.ImageAll", "--out", installed.dags)
        assert export.returncode == 0, export.stderr
        for spec in installed.dags.glob("*.json"):  # COPY dags/*.json <allowlist folder>/
            shutil.copy(spec, installed.specs / spec.name)

        (install,) = [c for c in luigi_fargate_commands() if c[:1] == ["entrypoint-path"]]
        dest = install[install.index("--install") + 1]
        install[install.index("--install") + 1] = str(self.fs / dest.lstrip("/"))
        proc = installed.run("luigi-fargate", *install)
        assert proc.returncode == 0, proc.stderr
        self.entrypoint = self.fs / dest.lstrip("/")

    def use_state(self, root: Path) -> None:
        """Outputs, ledger, events and file locks under ``root`` (each test gets its own)."""
        self.data = root / "data"
        self.ledger = root / "ledger.txt"
        self.events = root / "events.jsonl"
        self.locks = root / "locks"
        self.import_marker = root / "imported"
        self.data.mkdir(parents=True)

    def env(self, **extra: str) -> dict[str, str]:
        from luigi_fargate.spec.environment import ALLOW as ALLOW_ENV
        from luigi_fargate.spec.environment import EVENTS_FILE as EVENTS_FILE_ENV
        from luigi_fargate.spec.environment import LOCK as LOCK_ENV

        return self.installed.env(**{
            ALLOW_ENV: str(self.installed.specs),
            LOCK_ENV: f"file://{self.locks}",
            EVENTS_FILE_ENV: str(self.events),
            "IMAGE_DATA": str(self.data),
            "IMAGE_LEDGER": str(self.ledger),
            "IMAGE_IMPORT_MARKER": str(self.import_marker),
            **extra,
        })  # fmt: skip

    def run(self, *args: str, timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """The container's command: the entrypoint with ``args`` (what an ECS command override passes)."""
        return subprocess.run(
            [str(self.entrypoint), *args], env=self.env(**extra_env), cwd=self.installed.cwd,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def ledger_lines(self) -> list[str]:
        return self.ledger.read_text().splitlines() if self.ledger.exists() else []

    def events_of(self, event: str) -> list[dict]:
        if not self.events.exists():
            return []
        return [e for e in map(json.loads, self.events.read_text().splitlines()) if e["event"] == event]


@pytest.fixture(scope="session")
def _task_image(installed: InstalledImage, tmp_path_factory: pytest.TempPathFactory) -> TaskImage:
    return TaskImage(installed, tmp_path_factory.mktemp("image"))


@pytest.fixture
def image(_task_image: TaskImage, tmp_path: Path) -> TaskImage:
    """The task image (built once per session) with fresh outputs, ledger, events and locks."""
    _task_image.use_state(tmp_path)
    return _task_image
