"""The adversarial suite's world: an image's baked specs, an attacker's spec elsewhere, a fork server.

``image/specs`` plays the folder a task image bakes in (``$LUIGI_FARGATE_ALLOW``):
the exported specs of ``sec_tasks.Root`` (families Root, Job, Explodes) and of
``sec_import_raises.Never``, plus deploy's dot-file history, which is not a
spec. ``elsewhere`` holds an exported spec of ``sec_marker.Evil``: a real spec
file on the machine that the image's allowlist doesn't include.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, base_env, luigi_fargate

#: Generated cases run per class, for the closing summary (and the >= 2,000 check).
CASES_RUN: Counter[str] = Counter()


@dataclass(frozen=True)
class World:
    root: Path
    image: Path  # the baked spec folder
    image_spec: Path  # one spec file in it
    elsewhere: Path  # a folder with the attacker's spec
    evil_spec: Path


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("security")
    image, elsewhere = root / "image" / "specs", root / "elsewhere"
    export_env = base_env(SEC_MARKER=str(root / "export-marker"), SEC_DATA=str(root / "export-data"))
    for task, args, out in (
        ("sec_tasks.Root", ["--day", "2026-11-01"], image),
        ("sec_import_raises.Never", [], image),
        ("sec_marker.Evil", ["--day", "2026-11-01"], elsewhere),
    ):
        proc = luigi_fargate("export", task, *args, "--out", str(out), env=export_env)
        assert proc.returncode == 0, proc.stderr
    (image / ".luigi-fargate-deploys.json").write_text('{"deploys": []}\n')
    return World(root, image, image / "sec_tasks_root.json", elsewhere, elsewhere / "sec_marker_evil.json")


@dataclass
class Outcome:
    """What one case did: exit code, what it imported, what ran, what it printed."""

    code: int | None
    timeout: bool
    modules: list[str] | None
    marker: bool  # the marker module's import side effect happened
    ran: list[dict]
    output: str
    case_dir: Path

    def ran_family(self, family: str) -> list[dict]:
        return [r for r in self.ran if r.get("family") == family]

    def explain(self, argv: list[str], env: dict[str, str | None]) -> str:
        return f"argv={argv!r} env={env!r} -> exit {self.code}, timeout={self.timeout}, modules={self.modules}, ran={self.ran}\n{self.output[-2500:]}"


class ForkRunner:
    """Client of tests/security/fork_server.py: one case at a time, each in a fresh folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.counter = itertools.count()
        env = base_env()
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "tests" / "fixtures")])
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.security.fork_server"], cwd=root, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        hello = json.loads(self.proc.stdout.readline())
        assert hello.get("ready"), hello

    @staticmethod
    def case_env(case_dir: Path, env: dict[str, str | None]) -> dict[str, str | None]:
        """The environment of one case: its own data, ledger, marker and lock folder, then ``env``."""
        base: dict[str, str | None] = {
            "SEC_DATA": str(case_dir / "data"),
            "SEC_RAN": str(case_dir / "ran.jsonl"),
            "SEC_MARKER": str(case_dir / "marker"),
            "LUIGI_FARGATE_LOCK": f"file://{case_dir / 'locks'}",
            "LUIGI_FARGATE_ALLOW": None,
            "LUIGI_FARGATE_GRAPH_CHECK": None,
            "SEC_IMPORT_RAISES": None,
        }
        return {**base, **env}

    def run(self, argv: list[str], env: dict[str, str | None] | None = None, timeout: float = 30) -> Outcome:
        case_dir = self.root / f"case-{next(self.counter)}"
        (case_dir / "data").mkdir(parents=True)
        full_env = self.case_env(case_dir, env or {})
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "env": full_env, "dir": str(case_dir), "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        return _outcome(case_dir, reply["code"], reply["timeout"], reply["modules"])

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(30)


def _outcome(case_dir: Path, code: int | None, timeout: bool, modules: list[str] | None) -> Outcome:
    ran_file = case_dir / "ran.jsonl"
    ran = [json.loads(line) for line in ran_file.read_text().splitlines()] if ran_file.exists() else []
    out = case_dir / "output.txt"
    return Outcome(
        code=code, timeout=timeout, modules=modules, marker=(case_dir / "marker").exists(), ran=ran,
        output=out.read_text(errors="replace") if out.exists() else "", case_dir=case_dir,
    )  # fmt: skip


def run_subprocess(world_root: Path, argv: list[str], env: dict[str, str | None], name: str) -> Outcome:
    """The same case as a real ``python -m luigi_fargate run`` subprocess (the fork server's reference)."""
    case_dir = world_root / f"subprocess-{name}"
    (case_dir / "data").mkdir(parents=True)
    full = {**base_env(), **{k: v for k, v in ForkRunner.case_env(case_dir, env).items() if v is not None}}
    for key, value in env.items():
        if value is None:
            full.pop(key, None)
    proc = subprocess.run(
        [sys.executable, "-m", "luigi_fargate", "run", *argv], env=full, cwd=case_dir, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    (case_dir / "output.txt").write_text(proc.stdout + proc.stderr)
    return _outcome(case_dir, proc.returncode, False, None)


@pytest.fixture(scope="session")
def fork_runner(world: World) -> ForkRunner:
    runner = ForkRunner(world.root / "cases")
    yield runner
    runner.close()


def pytest_terminal_summary(terminalreporter) -> None:
    if CASES_RUN:
        total = sum(CASES_RUN.values())
        detail = ", ".join(f"{k} {v}" for k, v in sorted(CASES_RUN.items()))
        terminalreporter.write_line(f"tests/security: {total} generated cases ({detail})")
