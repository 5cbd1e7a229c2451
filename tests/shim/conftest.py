from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import base_env, luigi_fargate


class Shim:
    """Runs the real ``luigi-fargate run`` against tests/fixtures/shim_tasks.py in a sandbox dir."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.ledger = root / "ledger.txt"
        self.locks = root / "locks"
        self.data.mkdir()

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(
            SHIM_DATA=str(self.data),
            SHIM_LEDGER=str(self.ledger),
            LUIGI_FARGATE_LOCK=f"file://{self.locks}",
            **extra,
        )

    def run(self, *args: str, **kwargs):
        return luigi_fargate("run", *args, env=kwargs.pop("env", None) or self.env(), **kwargs)

    def lines(self) -> list[str]:
        """Ledger lines without the pid: what bodies and events ran, in order."""
        if not self.ledger.exists():
            return []
        return [line.rsplit(" ", 1)[0] for line in self.ledger.read_text().splitlines()]


@pytest.fixture
def shim(tmp_path: Path) -> Shim:
    return Shim(tmp_path)
